package framing

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMaskCopy(t *testing.T) {
	src := make([]byte, 300)
	for i := range src {
		src[i] = byte(i)
	}
	key := [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	for _, split := range []int{0, 1, 3, 7, 8, 33, 64, 299, 300} {
		want := append([]byte(nil), src...)
		Mask(key, 0, want)
		got := make([]byte, len(src))
		pos := MaskCopy(got, src[:split], key, 0)
		MaskCopy(got[split:], src[split:], key, pos)
		require.Equal(t, want, got, "split %d", split)
	}
}

// maskBytewise is the reference: RFC 6455 5.3, one byte at a time.
func maskBytewise(key [4]byte, pos int, b []byte) {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
}

// MaskCopy agrees with the byte-at-a-time transform for every key offset,
// source and destination alignment and length class (the 64-byte, 8-byte
// and byte loops and their tails), copying and in place, and touches no
// byte of dst beyond len(src).
func TestMaskCopyOffsetsAlignments(t *testing.T) {
	key := [4]byte{0x5a, 0x01, 0xfe, 0x93}
	lengths := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 200, 1000, 4099}
	backing := make([]byte, 4099+16)
	for i := range backing {
		backing[i] = byte(i*7 + 3)
	}
	for _, n := range lengths {
		for pos := 0; pos < 8; pos++ { // offsets beyond 3 wrap like pos&3
			for srcAlign := 0; srcAlign < 8; srcAlign++ {
				for dstAlign := 0; dstAlign < 8; dstAlign += 3 {
					src := backing[srcAlign : srcAlign+n]
					want := make([]byte, n)
					copy(want, src)
					maskBytewise(key, pos, want)

					buf := make([]byte, n+16)
					for i := range buf {
						buf[i] = 0xCC
					}
					dst := buf[dstAlign : dstAlign+n]
					next := MaskCopy(dst, src, key, pos)
					require.Equal(t, (pos+n)&3, next, "next offset n=%d pos=%d", n, pos)
					require.Equal(t, want, dst, "copy n=%d pos=%d src+%d dst+%d", n, pos, srcAlign, dstAlign)
					for i, b := range buf {
						if i < dstAlign || i >= dstAlign+n {
							require.Equal(t, byte(0xCC), b, "byte %d outside dst written (n=%d)", i, n)
						}
					}

					inPlace := append(make([]byte, srcAlign), src...)[srcAlign:]
					MaskCopy(inPlace, inPlace, key, pos)
					require.Equal(t, want, inPlace, "in place n=%d pos=%d align %d", n, pos, srcAlign)
				}
			}
		}
	}
}
