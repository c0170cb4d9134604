package protocol

import (
	"context"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

var utf8Cases = []string{
	"", "a", "hello, world", "κόσμε", "€", "\U0010FFFF", "\uFFFD", "\u07FF\u0800\uFFFF\U00010000",
	strings.Repeat("ascii run long enough for the word loop ", 4) + "é",
	"\xff", "\xfe", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
	"\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "a\x80", "\x80", "\xc2", "\xe2\x82", "\xf0\x9f\x98",
	"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
	"abcdefgh\xffabcdefgh", "abcdefghijklmnop\xc3\xa9qrstuvwx\xe2\x82\xac",
}

// canComplete reports whether some continuation makes b valid UTF-8.
func canComplete(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	reps := []byte{0x80, 0x90, 0xA0, 0xBF}
	var try func(s []byte, depth int) bool
	try = func(s []byte, depth int) bool {
		if utf8.Valid(s) {
			return true
		}
		if depth == 0 {
			return false
		}
		for _, r := range reps {
			if try(append(s[:len(s):len(s)], r), depth-1) {
				return true
			}
		}
		return false
	}
	return try(b, 3)
}

func checkUTF8(t testing.TB, b []byte) {
	want := utf8.Valid(b)
	require.Equal(t, want, validUTF8(b), "%q", b)
	// Fed in two pieces split anywhere, and byte by byte.
	for i := 0; i <= len(b); i++ {
		s := utf8Feed(utf8Accept, b[:i])
		if s != utf8Reject {
			s = utf8Feed(s, b[i:])
		}
		require.Equal(t, want, s == utf8Accept, "%q split at %d", b, i)
	}
	// Rejection as early as possible: a prefix is refused exactly when no
	// continuation could make it valid.
	s := utf8Accept
	for i := 0; i < len(b) && i < 64; i++ {
		s = utf8Feed(s, b[i:i+1])
		require.Equal(t, canComplete(b[:i+1]), s != utf8Reject, "%q prefix %d", b, i+1)
		if s == utf8Reject {
			break
		}
	}
}

func TestUTF8Validator(t *testing.T) {
	for _, s := range utf8Cases {
		checkUTF8(t, []byte(s))
	}
	// Every one- and two-byte input, and the three-byte inputs starting
	// with a lead byte.
	for i := 0; i < 256; i++ {
		checkUTF8(t, []byte{byte(i)})
		for j := 0; j < 256; j++ {
			b := []byte{byte(i), byte(j)}
			require.Equal(t, utf8.Valid(b), validUTF8(b), "%q", b)
			s := utf8Feed(utf8Feed(utf8Accept, b[:1]), b[1:])
			require.Equal(t, canComplete(b), s != utf8Reject, "%q", b)
		}
	}
	for _, lead := range []byte{0xE0, 0xED, 0xF0, 0xF4, 0xF1} {
		for j := 0x70; j < 0xC8; j++ {
			for k := 0x70; k < 0xC8; k++ {
				b := []byte{lead, byte(j), byte(k)}
				s := utf8Feed(utf8Accept, b)
				require.Equal(t, canComplete(b), s != utf8Reject, "%q", b)
			}
		}
	}
}

// RFC 6455, section 5.6 and 8.1: text must be UTF-8, checked incrementally.
func TestRFC5_6_UTF8(t *testing.T) {
	tests := []struct {
		name   string
		frames []rawFrame
		want   string
		// stall: the message never ends; the violation must be seen in the
		// first fragments.
		stall bool
		fail  bool
	}{
		{name: "valid single frame", frames: []rawFrame{{framing.OpText, true, "κόσμε"}}, want: "κόσμε"},
		{name: "valid split inside a character", frames: []rawFrame{{framing.OpText, false, "\xe2"}, {0, false, "\x82"}, {0, true, "\xac!"}}, want: "€!"},
		{name: "valid four-byte split", frames: []rawFrame{{framing.OpText, false, "a\xf0\x9f"}, {0, true, "\x98\x80"}}, want: "a😀"},
		{name: "binary is not checked", frames: []rawFrame{{framing.OpBinary, true, "\xff\xfe"}}, want: "\xff\xfe"},
		{name: "invalid byte", frames: []rawFrame{{framing.OpText, true, "ab\xffcd"}}, fail: true},
		{name: "overlong", frames: []rawFrame{{framing.OpText, true, "\xc0\xaf"}}, fail: true},
		{name: "surrogate", frames: []rawFrame{{framing.OpText, true, "\xed\xa0\x80"}}, fail: true},
		{name: "above U+10FFFF", frames: []rawFrame{{framing.OpText, true, "\xf4\x90\x80\x80"}}, fail: true},
		{name: "truncated at message end", frames: []rawFrame{{framing.OpText, false, "ok"}, {0, true, "\xe2\x82"}}, fail: true},
		{name: "fails in first fragment", frames: []rawFrame{{framing.OpText, false, "hello\xff"}}, stall: true, fail: true},
		{name: "fails inside a character", frames: []rawFrame{{framing.OpText, false, "a\xed\xa0"}}, stall: true, fail: true},
		{name: "fails across fragments", frames: []rawFrame{{framing.OpText, false, "a\xf4"}, {0, false, "\x90"}}, stall: true, fail: true},
	}
	for _, tc := range tests {
		for _, mode := range []string{"Read", "ReadAppend", "Reader"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				c, p := withRaw(t, RoleServer, nil)
				for _, f := range tc.frames {
					p.send(f.op, f.fin, []byte(f.payload))
				}
				msg, err := readMode(t, c, mode)
				if !tc.fail {
					require.NoError(t, err)
					require.Equal(t, tc.want, string(msg))
					return
				}
				require.NotErrorIs(t, err, context.DeadlineExceeded, "invalid UTF-8 must be seen before the message ends")
				require.ErrorIs(t, err, ErrInvalidUTF8)
				requireFailed(t, c, p, err, StatusInvalidFramePayloadData)
			})
		}
	}
}

// A streaming reader reports invalid UTF-8 from its Read, after handing out
// the valid bytes before it.
func TestReaderUTF8Error(t *testing.T) {
	c, p := withRaw(t, RoleServer, nil)
	p.send(framing.OpText, false, []byte("valid part "))
	p.send(0, false, []byte("\xc3\x28"))
	_, r, err := c.Reader(readCtx(t))
	require.NoError(t, err)
	b, err := io.ReadAll(r)
	require.ErrorIs(t, err, ErrInvalidUTF8)
	require.Equal(t, StatusInvalidFramePayloadData, CloseStatus(err))
	require.Equal(t, "valid part ", string(b[:11]))
	requireFailed(t, c, p, err, StatusInvalidFramePayloadData)
}
