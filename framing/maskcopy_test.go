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
