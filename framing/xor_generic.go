//go:build !amd64 || purego

package framing

import "encoding/binary"

// xorBlocks stores src XOR key (a little-endian 8-byte word) into dst, for
// the first len(src) rounded down to a multiple of 64 bytes; dst is at least
// that long, and is either src itself or does not overlap it.
//
// Both slices are indexed from one counter and re-sliced with constant
// bounds (s := src[i : i+64 : i+64]), which lets the compiler drop every
// bounds check in the body: each 8 bytes cost one load, one XOR and one
// store. Unrolling further than 64 bytes does not help: the loop is bound
// by stores.
func xorBlocks(dst, src []byte, key uint64) {
	n := len(src) &^ 63
	dst = dst[:n]
	for i := 0; i < n; i += 64 {
		s, d := src[i:i+64:i+64], dst[i:i+64:i+64]
		binary.LittleEndian.PutUint64(d[0:], binary.LittleEndian.Uint64(s[0:])^key)
		binary.LittleEndian.PutUint64(d[8:], binary.LittleEndian.Uint64(s[8:])^key)
		binary.LittleEndian.PutUint64(d[16:], binary.LittleEndian.Uint64(s[16:])^key)
		binary.LittleEndian.PutUint64(d[24:], binary.LittleEndian.Uint64(s[24:])^key)
		binary.LittleEndian.PutUint64(d[32:], binary.LittleEndian.Uint64(s[32:])^key)
		binary.LittleEndian.PutUint64(d[40:], binary.LittleEndian.Uint64(s[40:])^key)
		binary.LittleEndian.PutUint64(d[48:], binary.LittleEndian.Uint64(s[48:])^key)
		binary.LittleEndian.PutUint64(d[56:], binary.LittleEndian.Uint64(s[56:])^key)
	}
}
