package framing_test

import (
	"github.com/wslua/wslua/framing"
)

// This file holds independent, deliberately naive reference implementations
// the tests and fuzz targets compare the package against.

// refMask is the masking transform of RFC 6455, section 5.3, one byte at a
// time: octet i of the payload is XORed with octet i mod 4 of the key.
func refMask(key [4]byte, pos int, b []byte) {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
}

// refEncode encodes h by the letter of RFC 6455, section 5.2, byte by byte,
// always in the shortest length form.
func refEncode(h framing.Header) []byte {
	b0 := h.Rsv | byte(h.Opcode)
	if h.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	out := []byte{b0, b1}
	l := uint64(max(h.Length, 0))
	switch {
	case l < 126:
		out[1] |= byte(l)
	case l < 1<<16:
		out[1] |= 126
		out = append(out, byte(l>>8), byte(l))
	default:
		out[1] |= 127
		for shift := 56; shift >= 0; shift -= 8 {
			out = append(out, byte(l>>shift))
		}
	}
	if h.Masked {
		out = append(out, h.Mask[:]...)
	}
	return out
}

// refResult is what a header decoder may answer for some bytes.
type refResult int

const (
	refOK       refResult = iota // a complete, decodable header
	refShort                     // not enough bytes yet
	refProtocol                  // 64-bit length with its top bit set
)

// refDecode decodes a header from b by the letter of RFC 6455, section 5.2.
// It reports whether the length used more bytes than the shortest form.
func refDecode(b []byte) (h framing.Header, n int, res refResult, nonMinimal bool) {
	if len(b) < 2 {
		return h, 0, refShort, false
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = b[0] & 0x70
	h.Opcode = framing.Opcode(b[0] & 0x0F)
	h.Masked = b[1]&0x80 != 0
	n = 2
	var l uint64
	switch l7 := b[1] & 0x7F; l7 {
	case 126:
		if len(b) < n+2 {
			return h, 0, refShort, false
		}
		l = uint64(b[2])<<8 | uint64(b[3])
		nonMinimal = l < 126
		n += 2
	case 127:
		if len(b) < n+8 {
			return h, 0, refShort, false
		}
		for i := range 8 {
			l = l<<8 | uint64(b[2+i])
		}
		nonMinimal = l < 1<<16
		n += 8
	default:
		l = uint64(l7)
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, refShort, false
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	if l>>63 != 0 {
		return framing.Header{}, 0, refProtocol, false
	}
	h.Length = int64(l)
	return h, n, refOK, nonMinimal
}
