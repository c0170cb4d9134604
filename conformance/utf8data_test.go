package conformance

// UTF-8 test data, written from RFC 3629, section 4 (the syntax of UTF-8
// byte sequences), which RFC 6455, section 8.1 refers to.

// utf8Case is a byte sequence with a name.
type utf8Case struct {
	name string
	b    string
}

// validUTF8 are well-formed sequences, including every boundary of RFC
// 3629's table.
var validUTF8 = []utf8Case{
	{"empty", ""},
	{"ascii", "Hello-µ@ßöäüàá-UTF-8!!"},
	{"greek kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"},
	{"U+0000", "\x00"},
	{"U+007F", "\x7f"},
	{"U+0080", "\xc2\x80"},
	{"U+07FF", "\xdf\xbf"},
	{"U+0800", "\xe0\xa0\x80"},
	{"U+D7FF", "\xed\x9f\xbf"},
	{"U+E000", "\xee\x80\x80"},
	{"U+FFFD", "\xef\xbf\xbd"},
	{"U+FEFF BOM", "\xef\xbb\xbf"},
	{"U+FFFF", "\xef\xbf\xbf"},
	{"U+10000", "\xf0\x90\x80\x80"},
	{"U+10FFFF", "\xf4\x8f\xbf\xbf"},
	{"mixed widths", "a\xc2\x80b\xe0\xa0\x80c\xf0\x90\x80\x80d"},
}

// invalidUTF8 are ill-formed sequences: each is invalid as a whole message.
var invalidUTF8 = []utf8Case{
	// Lone continuation bytes and bytes that never occur.
	{"continuation 80", "\x80"},
	{"continuation BF", "\xbf"},
	{"two continuations", "\x80\xbf"},
	{"byte FE", "\xfe"},
	{"byte FF", "\xff"},
	{"FE FE FF FF", "\xfe\xfe\xff\xff"},
	// Overlong encodings.
	{"overlong slash 2 bytes", "\xc0\xaf"},
	{"overlong slash 3 bytes", "\xe0\x80\xaf"},
	{"overlong slash 4 bytes", "\xf0\x80\x80\xaf"},
	{"overlong NUL 2 bytes", "\xc0\x80"},
	{"overlong U+007F", "\xc1\xbf"},
	{"overlong U+07FF", "\xe0\x9f\xbf"},
	{"overlong U+FFFF", "\xf0\x8f\xbf\xbf"},
	// UTF-16 surrogates, single and paired.
	{"surrogate U+D800", "\xed\xa0\x80"},
	{"surrogate U+DB7F", "\xed\xad\xbf"},
	{"surrogate U+DC00", "\xed\xb0\x80"},
	{"surrogate U+DFFF", "\xed\xbf\xbf"},
	{"surrogate pair D800 DC00", "\xed\xa0\x80\xed\xb0\x80"},
	{"surrogate pair DBFF DFFF", "\xed\xaf\xbf\xed\xbf\xbf"},
	// Code points above U+10FFFF.
	{"U+110000", "\xf4\x90\x80\x80"},
	{"F5 lead", "\xf5\x80\x80\x80"},
	{"F7 BF BF BF", "\xf7\xbf\xbf\xbf"},
	{"5-byte form", "\xf8\x88\x80\x80\x80"},
	{"6-byte form", "\xfc\x84\x80\x80\x80\x80"},
	// Truncated sequences: invalid only because the message ends.
	{"truncated 2 of 2", "\xc2"},
	{"truncated 2 of 3", "\xe0\xa0"},
	{"truncated 3 of 4", "\xf0\x90\x80"},
	{"truncated after text", "abc\xe2\x82"},
	// Invalid inside valid text.
	{"kosme then surrogate", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"},
	{"kosme then overlong", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xc0\xafedited"},
	{"lead without continuation", "a\xc2b"},
	{"4-byte lead then ascii", "\xf0\x90a"},
}

// utf8FirstBad returns the index of the byte at which b stops being the
// prefix of any well-formed UTF-8 sequence, or -1 if b is such a prefix
// (valid, or valid up to a truncated last character). It follows the table
// of RFC 3629, section 4, and is independent of package protocol's
// validator.
func utf8FirstBad(b []byte) int {
	i := 0
	for i < len(b) {
		c := b[i]
		var n int            // continuation bytes that follow
		lo, hi := 0x80, 0xBF // range of the first continuation byte
		switch {
		case c <= 0x7F:
			i++
			continue
		case c >= 0xC2 && c <= 0xDF:
			n = 1
		case c == 0xE0:
			n, lo = 2, 0xA0
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			n = 2
		case c == 0xED:
			n, hi = 2, 0x9F
		case c == 0xF0:
			n, lo = 3, 0x90
		case c >= 0xF1 && c <= 0xF3:
			n = 3
		case c == 0xF4:
			n, hi = 3, 0x8F
		default:
			return i
		}
		for k := 1; k <= n; k++ {
			if i+k >= len(b) {
				return -1 // truncated: still a prefix
			}
			d := int(b[i+k])
			if k == 1 && (d < lo || d > hi) || k > 1 && (d < 0x80 || d > 0xBF) {
				return i + k
			}
		}
		i += n + 1
	}
	return -1
}

// utf8Complete reports whether b is well-formed UTF-8 as a whole.
func utf8Complete(b []byte) bool {
	if utf8FirstBad(b) >= 0 {
		return false
	}
	// A prefix of valid UTF-8 that is not valid ends inside a character:
	// its last lead byte lacks continuation bytes.
	for i := len(b) - 1; i >= 0 && i >= len(b)-4; i-- {
		c := b[i]
		if c < 0x80 {
			return true
		}
		if c >= 0xC0 { // lead byte at i: complete if enough bytes follow
			need := 1
			switch {
			case c >= 0xF0:
				need = 3
			case c >= 0xE0:
				need = 2
			}
			return len(b)-1-i == need
		}
	}
	return len(b) == 0
}
