package handshake

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAcceptKey(t *testing.T) {
	tests := []struct {
		key, want string
	}{
		// RFC 6455, section 1.3.
		{"dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		// RFC 6455, section 4.2.2 (x3JJHMbDL1EzLkh9GBhXDw== in its example).
		{"x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk="},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, AcceptKey(tt.key), "key %q", tt.key)
	}
}

func TestNewKey(t *testing.T) {
	seen := map[string]bool{}
	for range 16 {
		k, err := newKey()
		require.NoError(t, err)
		require.True(t, validKey(k), "generated key %q is not valid", k)
		b, err := base64.StdEncoding.DecodeString(k)
		require.NoError(t, err)
		require.Len(t, b, 16)
		require.False(t, seen[k], "key %q repeated", k)
		seen[k] = true
	}
}

func TestValidKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"dGhlIHNhbXBsZSBub25jZQ==", true},
		{" dGhlIHNhbXBsZSBub25jZQ== ", true},
		{"", false},
		{"dGhlIHNhbXBsZSBub25jZQ", false},       // unpadded
		{"dGhlIHNhbXBsZSBub25jZWU=", false},     // 17 bytes
		{"dGhlIHNhbXBsZSBub25j", false},         // 15 bytes
		{"dGhlIHNhbXBsZSBub25jZQ=!", false},     // bad character
		{"dGhlIHNhbXBsZSBub25jZR==", false},     // non-canonical trailing bits
		{"dGhlIHNhbXBsZSBub25jZQ==AAAA", false}, // trailing data
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, validKey(tt.key), "key %q", tt.key)
	}
}
