package framing

import (
	"encoding/binary"
	"math/bits"
)

// Mask applies the RFC 6455 masking transform (section 5.3) to b in place,
// as if b started at byte offset pos of the payload masked with key, and
// returns the offset following b. Masking a payload piece by piece, feeding
// back the returned offset, gives the same result as masking it whole, so a
// payload can be unmasked as it streams in. The transform is its own
// inverse.
//
// It works a machine word at a time whatever the alignment of b and the
// offset into the key.
func Mask(key [4]byte, pos int, b []byte) int {
	end := pos + len(b)
	// Byte j of b uses key[(pos+j)&3]: rotate the little-endian key word so
	// that its lowest byte is key[pos&3].
	k32 := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(pos&3))
	if len(b) >= 8 {
		k64 := uint64(k32) | uint64(k32)<<32
		for len(b) >= 64 {
			v := b[:64:64]
			binary.LittleEndian.PutUint64(v[0:], binary.LittleEndian.Uint64(v[0:])^k64)
			binary.LittleEndian.PutUint64(v[8:], binary.LittleEndian.Uint64(v[8:])^k64)
			binary.LittleEndian.PutUint64(v[16:], binary.LittleEndian.Uint64(v[16:])^k64)
			binary.LittleEndian.PutUint64(v[24:], binary.LittleEndian.Uint64(v[24:])^k64)
			binary.LittleEndian.PutUint64(v[32:], binary.LittleEndian.Uint64(v[32:])^k64)
			binary.LittleEndian.PutUint64(v[40:], binary.LittleEndian.Uint64(v[40:])^k64)
			binary.LittleEndian.PutUint64(v[48:], binary.LittleEndian.Uint64(v[48:])^k64)
			binary.LittleEndian.PutUint64(v[56:], binary.LittleEndian.Uint64(v[56:])^k64)
			b = b[64:]
		}
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
			b = b[8:]
		}
	}
	for i := range b {
		b[i] ^= byte(k32)
		k32 = bits.RotateLeft32(k32, -8)
	}
	return end & 3
}
