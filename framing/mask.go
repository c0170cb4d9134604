package framing

import (
	"encoding/binary"
	"math/bits"
)

// Mask applies the RFC 6455 masking transform (section 5.3) to b in place,
// as if b started at byte offset pos of the payload masked with key, and
// returns the offset following b reduced modulo 4, (pos+len(b))&3, which is
// all the transform depends on. Masking a payload piece by piece, feeding
// back the returned offset, gives the same result as masking it whole, so a
// payload can be unmasked as it streams in. The transform is its own
// inverse.
//
// It works 32 bytes at a time on amd64 with AVX2 (16 with SSE2) and a
// machine word at a time elsewhere, whatever the alignment of b and the
// offset into the key.
func Mask(key [4]byte, pos int, b []byte) int {
	end := pos + len(b)
	// Byte j of b uses key[(pos+j)&3]: rotate the little-endian key word so
	// that its lowest byte is key[pos&3].
	k32 := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(pos&3))
	if len(b) >= 8 {
		// Every step below covers a multiple of 4 bytes, so the key word
		// stays in phase: whole 64-byte blocks in xorBlocks, then the
		// remainder without loops. Re-slicing with a constant length and
		// capacity (v := b[:32:32]) lets the compiler drop the bounds
		// checks.
		k64 := uint64(k32) | uint64(k32)<<32
		if n := len(b) &^ 63; n > 0 {
			xorBlocks(b[:n], b[:n], k64)
			b = b[n:]
		}
		if len(b) >= 32 {
			v := b[:32:32]
			binary.LittleEndian.PutUint64(v[0:], binary.LittleEndian.Uint64(v[0:])^k64)
			binary.LittleEndian.PutUint64(v[8:], binary.LittleEndian.Uint64(v[8:])^k64)
			binary.LittleEndian.PutUint64(v[16:], binary.LittleEndian.Uint64(v[16:])^k64)
			binary.LittleEndian.PutUint64(v[24:], binary.LittleEndian.Uint64(v[24:])^k64)
			b = b[32:]
		}
		if len(b) >= 16 {
			v := b[:16:16]
			binary.LittleEndian.PutUint64(v[0:], binary.LittleEndian.Uint64(v[0:])^k64)
			binary.LittleEndian.PutUint64(v[8:], binary.LittleEndian.Uint64(v[8:])^k64)
			b = b[16:]
		}
		if len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
			b = b[8:]
		}
	}
	if len(b) >= 4 {
		binary.LittleEndian.PutUint32(b, binary.LittleEndian.Uint32(b)^k32)
		b = b[4:]
	}
	for i := range b { // at most 3 bytes
		b[i] ^= byte(k32)
		k32 >>= 8
	}
	return end & 3
}
