package framing

import (
	"encoding/binary"
	"math/bits"
)

// MaskCopy copies src into dst (len(dst) >= len(src)) applying the masking
// transform as if src started at payload offset pos, in one pass, and
// returns (pos+len(src))&3, the key offset of the next piece. A client uses
// it to build a frame in its write buffer without a second pass over the
// payload; MaskCopy(b, b, ...) masks b in place.
//
// Whole 64-byte blocks go through xorBlocks (32 or 16 bytes at a time on
// amd64, see xorBlocks), the rest 8 bytes, then 1 byte, at a time.
func MaskCopy(dst, src []byte, key [4]byte, pos int) int {
	end := pos + len(src)
	k32 := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(pos&3))
	k64 := uint64(k32) | uint64(k32)<<32
	n := len(src)
	dst = dst[:n]
	i := n &^ 63
	xorBlocks(dst[:i], src[:i], k64)
	for ; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(dst[i:i+8], binary.LittleEndian.Uint64(src[i:i+8])^k64)
	}
	for ; i < n; i++ {
		dst[i] = src[i] ^ byte(k32)
		k32 = bits.RotateLeft32(k32, -8)
	}
	return end & 3
}
