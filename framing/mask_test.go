package framing_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

func TestMaskRFCExample(t *testing.T) {
	b := []byte("Hello")
	ret := framing.Mask([4]byte{0x37, 0xfa, 0x21, 0x3d}, 0, b)
	require.Equal(t, []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}, b)
	require.Equal(t, 1, ret)
}

// TestMaskReference compares Mask against the byte-at-a-time reference for
// every length 0..300, every key offset 0..3 and every start alignment 0..7
// of the slice inside its buffer, and checks nothing outside it is touched.
func TestMaskReference(t *testing.T) {
	const guard = 16
	rng := rand.New(rand.NewPCG(1, 2))
	key := [4]byte{0x12, 0x9a, 0xf0, 0x5c}
	for n := 0; n <= 300; n++ {
		for pos := range 4 {
			for align := range 8 {
				buf := make([]byte, guard+align+n+guard)
				for i := range buf {
					buf[i] = byte(rng.Uint32())
				}
				want := bytes.Clone(buf)
				refMask(key, pos, want[guard+align:guard+align+n])

				ret := framing.Mask(key, pos, buf[guard+align:guard+align+n])
				if !bytes.Equal(want, buf) {
					require.Equal(t, want, buf, "n=%d pos=%d align=%d", n, pos, align)
				}
				require.Equal(t, (pos+n)&3, ret, "returned offset, n=%d pos=%d", n, pos)
			}
		}
	}
}

func TestMaskKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		var key [4]byte
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		n := rng.IntN(600)
		pos := rng.IntN(4)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		want := bytes.Clone(b)
		refMask(key, pos, want)
		framing.Mask(key, pos, b)
		require.Equal(t, want, b, "key %x n=%d pos=%d", key, n, pos)
	}
}

func TestMaskOffsetModulo(t *testing.T) {
	// Only the offset modulo 4 matters: large and negative offsets behave
	// like their residue. The large ones fit an int of 32 bits as well as
	// one of 64 (GOARCH=386, arm).
	key := [4]byte{1, 2, 4, 8}
	base := bytes.Repeat([]byte{0xA5, 0x5A, 0x00, 0xFF, 0x3C}, 23)
	for _, pos := range []int{4, 5, 6, 7, 1 << 30, 1<<30 + 3, math.MaxInt>>1 + 2, math.MaxInt - 1, math.MaxInt, -1, -4, -7, math.MinInt + 1} {
		t.Run(fmt.Sprint(pos), func(t *testing.T) {
			want := bytes.Clone(base)
			framing.Mask(key, pos&3, want)
			got := bytes.Clone(base)
			ret := framing.Mask(key, pos, got)
			require.Equal(t, want, got)
			require.Equal(t, (pos+len(base))&3, ret)
		})
	}
}

func TestMaskPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	key := [4]byte{0xc0, 0xff, 0xee, 0x11}
	for _, n := range []int{0, 1, 5, 63, 64, 65, 127, 128, 129, 1000, 4099, 70000} {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(rng.Uint32())
		}
		whole := bytes.Clone(payload)
		wholeRet := framing.Mask(key, 0, whole)
		for trial := range 20 {
			got := bytes.Clone(payload)
			pos := 0
			for rest := got; len(rest) > 0; {
				k := rng.IntN(min(len(rest), 150) + 1) // empty pieces too
				pos = framing.Mask(key, pos, rest[:k])
				rest = rest[k:]
			}
			require.Equal(t, whole, got, "n=%d trial=%d", n, trial)
			require.Equal(t, wholeRet, pos)
		}
	}
}

func TestMaskInvolution(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, n := range []int{0, 1, 7, 8, 9, 125, 4096, 65537} {
		for pos := range 4 {
			orig := make([]byte, n)
			for i := range orig {
				orig[i] = byte(i)
			}
			b := bytes.Clone(orig)
			framing.Mask(key, pos, b)
			if n >= 4 {
				require.NotEqual(t, orig, b)
			}
			framing.Mask(key, pos, b)
			require.Equal(t, orig, b, "n=%d pos=%d", n, pos)
		}
	}
}

func TestMaskZeroAllocs(t *testing.T) {
	b := make([]byte, 4099)
	allocs := testing.AllocsPerRun(100, func() {
		framing.Mask([4]byte{1, 2, 3, 4}, 3, b[1:])
	})
	require.Zero(t, allocs)
}
