package handshake

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		raw                                string
		secure                             bool
		addr, hostHeader, requestURI, host string
		proxyURL                           string
	}{
		{raw: "ws://example.com", addr: "example.com:80", hostHeader: "example.com", requestURI: "/", host: "example.com", proxyURL: "http://example.com"},
		{raw: "wss://example.com/chat?x=1&y=%20", secure: true, addr: "example.com:443", hostHeader: "example.com", requestURI: "/chat?x=1&y=%20", host: "example.com", proxyURL: "https://example.com/chat?x=1&y=%20"},
		{raw: "WS://Example.COM:8080/a%2Fb", addr: "example.com:8080", hostHeader: "example.com:8080", requestURI: "/a%2Fb", host: "example.com", proxyURL: "http://Example.COM:8080/a%2Fb"},
		{raw: "http://h:81/", addr: "h:81", hostHeader: "h:81", requestURI: "/", host: "h", proxyURL: "http://h:81/"},
		{raw: "https://h/", secure: true, addr: "h:443", hostHeader: "h", requestURI: "/", host: "h", proxyURL: "https://h/"},
		{raw: "ws://[::1]:9000/p", addr: "[::1]:9000", hostHeader: "[::1]:9000", requestURI: "/p", host: "::1", proxyURL: "http://[::1]:9000/p"},
		{raw: "wss://[2001:db8::1]/", secure: true, addr: "[2001:db8::1]:443", hostHeader: "[2001:db8::1]", requestURI: "/", host: "2001:db8::1", proxyURL: "https://[2001:db8::1]/"},
		{raw: "ws://[fe80::1%25eth0]:80/", addr: "[fe80::1%eth0]:80", hostHeader: "[fe80::1]:80", requestURI: "/", host: "fe80::1%eth0", proxyURL: "http://[fe80::1%25eth0]:80/"},
		{raw: "ws://bücher.example/", addr: "xn--bcher-kva.example:80", hostHeader: "xn--bcher-kva.example", requestURI: "/", host: "xn--bcher-kva.example", proxyURL: "http://b%C3%BCcher.example/"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			tg, err := parseTarget(tt.raw)
			require.NoError(t, err)
			require.Equal(t, tt.secure, tg.secure)
			require.Equal(t, tt.addr, tg.addr)
			require.Equal(t, tt.hostHeader, tg.hostHeader)
			require.Equal(t, tt.requestURI, tg.requestURI)
			require.Equal(t, tt.host, tg.host)
			require.Equal(t, tt.proxyURL, tg.forProxy.String())
			require.Nil(t, tg.forProxy.User)
		})
	}
}

func TestParseTargetErrors(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{"ftp://example.com/", `unsupported scheme "ftp"`},
		{"example.com:8080", `unsupported scheme "example.com"`},
		{"//example.com/", "missing scheme"},
		{"ws:///path", "missing host"},
		{"ws://", "missing host"},
		{"ws://:80/", "missing host"},
		{"ws:example.com", `missing "//"`},
		{"ws://example.com:0/", "invalid port"},
		{"ws://example.com:70000/", "invalid port"},
		{"ws://exa mple.com/", "invalid URL"},
		{"://x", "invalid URL"},
		{"ws://bad\x7fhost/", "invalid URL"},
		{"ws://u:p@h/x#frag", "fragment identifier"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := parseTarget(tt.raw)
			require.ErrorContains(t, err, tt.want)
			var he *HandshakeError
			require.ErrorAs(t, err, &he)
			require.Equal(t, "dial", he.Op)
		})
	}
}

func TestParseTargetHidesCredentials(t *testing.T) {
	for _, raw := range []string{
		"ftp://alice:s3cret@example.com/",
		"ws://alice:s3cret@example.com:99999/",
		"ws://alice:s3cret@exa mple.com/",
		"ws://alice:s3cret@[::1/",
		"ws://alice:s3cret@/",
	} {
		_, err := parseTarget(raw)
		require.Error(t, err, raw)
		require.NotContains(t, err.Error(), "s3cret", raw)
		require.NotContains(t, err.Error(), "alice", raw)
	}
}
