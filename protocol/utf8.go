package protocol

import "encoding/binary"

// Incremental UTF-8 validation (RFC 3629) with a deterministic automaton.
//
// The state is one byte. utf8Accept means "at a character boundary"; the
// other live states remember which continuation bytes may come next, so the
// automaton rejects a byte as soon as the bytes seen so far can no longer
// start a valid sequence: an overlong form, a surrogate (U+D800-U+DFFF) or a
// code point above U+10FFFF is refused at its second byte at the latest, not
// when the sequence or the message ends. Pieces of a message can therefore
// be validated as they arrive, frame by frame or read by read.

const (
	utf8Accept  uint8 = iota // at a character boundary
	utf8Need1                // one continuation byte (80-BF) missing
	utf8Need2                // two continuation bytes missing
	utf8Need3                // three continuation bytes missing
	utf8AfterE0              // E0 seen: next byte A0-BF (no overlong form)
	utf8AfterED              // ED seen: next byte 80-9F (no surrogate)
	utf8AfterF0              // F0 seen: next byte 90-BF (no overlong form)
	utf8AfterF4              // F4 seen: next byte 80-8F (at most U+10FFFF)
	utf8Reject               // no continuation can make the input valid
)

// utf8Next is the transition table: utf8Next[state][byte]. It has 16 rows
// (the unused ones reject) so that indexing with state&15 needs no bounds
// check.
var utf8Next = buildUTF8Table()

func buildUTF8Table() (t [16][256]uint8) {
	for s := range t {
		for b := range t[s] {
			t[s][b] = utf8Reject
		}
	}
	cont := func(s uint8, lo, hi int, next uint8) {
		for b := lo; b <= hi; b++ {
			t[s][b] = next
		}
	}
	cont(utf8Accept, 0x00, 0x7F, utf8Accept)
	cont(utf8Accept, 0xC2, 0xDF, utf8Need1)
	cont(utf8Accept, 0xE0, 0xE0, utf8AfterE0)
	cont(utf8Accept, 0xE1, 0xEC, utf8Need2)
	cont(utf8Accept, 0xED, 0xED, utf8AfterED)
	cont(utf8Accept, 0xEE, 0xEF, utf8Need2)
	cont(utf8Accept, 0xF0, 0xF0, utf8AfterF0)
	cont(utf8Accept, 0xF1, 0xF3, utf8Need3)
	cont(utf8Accept, 0xF4, 0xF4, utf8AfterF4)
	cont(utf8Need1, 0x80, 0xBF, utf8Accept)
	cont(utf8Need2, 0x80, 0xBF, utf8Need1)
	cont(utf8Need3, 0x80, 0xBF, utf8Need2)
	cont(utf8AfterE0, 0xA0, 0xBF, utf8Need1)
	cont(utf8AfterED, 0x80, 0x9F, utf8Need1)
	cont(utf8AfterF0, 0x90, 0xBF, utf8Need2)
	cont(utf8AfterF4, 0x80, 0x8F, utf8Need2)
	return t
}

// utf8Feed advances the automaton from state over b and returns the new
// state; utf8Reject as soon as b makes the input invalid. It never
// allocates. At a character boundary, long runs of ASCII are skipped 32 and
// 8 bytes at a time (one test of the high bits per machine word), and a
// multi-byte character whose bytes are all present is checked directly
// against the RFC 3629 ranges (the same rules as the table, without its
// chain of dependent loads); the table handles the characters split by the
// end of b and the ones left over from the previous call.
func utf8Feed(state uint8, b []byte) uint8 {
	i := 0
	for i < len(b) && state != utf8Accept {
		if state = utf8Next[state&15][b[i]]; state == utf8Reject {
			return utf8Reject
		}
		i++
	}
	i = skipASCII(b, i)
	run := 0 // ASCII bytes in a row, to go back to word steps in long runs
	for len(b)-i >= 4 {
		c0 := b[i]
		if c0 < 0x80 {
			i++
			if run++; run == 16 {
				i = skipASCII(b, i)
				run = 0
			}
			continue
		}
		run = 0
		switch {
		case c0 < 0xC2:
			return utf8Reject // continuation byte or overlong two-byte lead
		case c0 < 0xE0:
			if b[i+1]&0xC0 != 0x80 {
				return utf8Reject
			}
			i += 2
		case c0 < 0xF0:
			lo, hi := byte(0x80), byte(0xBF)
			if c0 == 0xE0 {
				lo = 0xA0 // overlong
			} else if c0 == 0xED {
				hi = 0x9F // surrogates
			}
			if c1 := b[i+1]; c1 < lo || c1 > hi || b[i+2]&0xC0 != 0x80 {
				return utf8Reject
			}
			i += 3
		case c0 < 0xF5:
			lo, hi := byte(0x80), byte(0xBF)
			if c0 == 0xF0 {
				lo = 0x90 // overlong
			} else if c0 == 0xF4 {
				hi = 0x8F // above U+10FFFF
			}
			if c1 := b[i+1]; c1 < lo || c1 > hi || b[i+2]&0xC0 != 0x80 || b[i+3]&0xC0 != 0x80 {
				return utf8Reject
			}
			i += 4
		default:
			return utf8Reject
		}
	}
	// The last few bytes may end inside a character: the automaton
	// remembers where.
	for ; i < len(b); i++ {
		if state = utf8Next[state&15][b[i]]; state == utf8Reject {
			return utf8Reject
		}
	}
	return state
}

const highBits = 0x8080808080808080

// skipASCII returns the index of the first byte at or after i that may be
// non-ASCII, testing whole words: it may stop up to 7 bytes early.
func skipASCII(b []byte, i int) int {
	for ; i+32 <= len(b); i += 32 {
		v := b[i : i+32 : i+32]
		w := binary.LittleEndian.Uint64(v) | binary.LittleEndian.Uint64(v[8:]) |
			binary.LittleEndian.Uint64(v[16:]) | binary.LittleEndian.Uint64(v[24:])
		if w&highBits != 0 {
			break
		}
	}
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:i+8:i+8])&highBits != 0 {
			break
		}
	}
	return i
}

// validUTF8 reports whether b is entirely valid UTF-8.
func validUTF8(b []byte) bool { return utf8Feed(utf8Accept, b) == utf8Accept }
