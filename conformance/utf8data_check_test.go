package conformance

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// TestUTF8Data checks the test data and the reference prefix validator
// against each other and against the standard library.
func TestUTF8Data(t *testing.T) {
	for _, tc := range validUTF8 {
		require.True(t, utf8.ValidString(tc.b), tc.name)
		require.Equal(t, -1, utf8FirstBad([]byte(tc.b)), tc.name)
		require.True(t, utf8Complete([]byte(tc.b)), tc.name)
	}
	for _, tc := range invalidUTF8 {
		require.False(t, utf8.ValidString(tc.b), tc.name)
		require.False(t, utf8Complete([]byte(tc.b)), tc.name)
	}
	// Where the first bad byte is, per RFC 3629.
	for _, tc := range []struct {
		b    string
		want int
	}{
		{"\xed\xa0\x80", 1}, {"\xe0\x9f\xbf", 1}, {"\xf4\x90\x80\x80", 1}, {"\xf0\x8f", 1},
		{"\xc0", 0}, {"\xff", 0}, {"ab\x80", 2}, {"\xc2", -1}, {"\xf0\x90\x80", -1},
		{"a\xc2b", 2}, {"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0", 12},
	} {
		require.Equal(t, tc.want, utf8FirstBad([]byte(tc.b)), "%q", tc.b)
	}
	// Exhaustively over two-byte inputs, the prefix validator agrees with
	// the standard library on complete sequences; and every prefix of every
	// valid encoding is accepted as a prefix.
	for x := 0; x < 1<<16; x++ {
		b := []byte{byte(x >> 8), byte(x)}
		if utf8.Valid(b) != utf8Complete(b) || utf8.Valid(b) && utf8FirstBad(b) != -1 {
			t.Fatalf("%x: prefix validator disagrees with unicode/utf8", b)
		}
	}
	for r := rune(0); r <= utf8.MaxRune; r += 3 {
		if !utf8.ValidRune(r) {
			continue
		}
		enc := utf8.AppendRune(nil, r)
		for k := 1; k <= len(enc); k++ {
			if utf8FirstBad(enc[:k]) != -1 {
				t.Fatalf("%x: valid prefix refused", enc[:k])
			}
		}
		if !utf8Complete(enc) {
			t.Fatalf("%x: valid sequence refused", enc)
		}
	}
}
