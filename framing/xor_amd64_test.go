//go:build amd64 && !purego

package framing

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Both of xorBlocks' loops agree with the byte-at-a-time transform for
// every block count up to 40, source and destination alignment, copying and
// in place, and write nothing past the whole blocks.
func TestXorBlocksLoops(t *testing.T) {
	loops := []bool{false}
	if cpuHasAVX2() {
		loops = append(loops, true)
	}
	saved := useAVX2
	t.Cleanup(func() { useAVX2 = saved })
	key := [4]byte{0x3c, 0xa5, 0x0f, 0xe1}
	k64 := uint64(key[0]) | uint64(key[1])<<8 | uint64(key[2])<<16 | uint64(key[3])<<24
	k64 |= k64 << 32
	backing := make([]byte, 40*64+100)
	for i := range backing {
		backing[i] = byte(i*13 + 5)
	}
	for _, avx2 := range loops {
		useAVX2 = avx2
		for n := 0; n <= 40*64+63; n += 37 {
			for align := range 5 {
				src := backing[align : align+n]
				whole := n &^ 63
				want := bytes.Clone(src[:whole])
				maskBytewise(key, 0, want)

				buf := bytes.Repeat([]byte{0xCC}, n+align+8)
				dst := buf[align : align+n]
				xorBlocks(dst, src, k64)
				require.Equal(t, want, dst[:whole], "avx2=%v n=%d align=%d", avx2, n, align)
				require.Equal(t, bytes.Repeat([]byte{0xCC}, len(buf)-align-whole), buf[align+whole:], "written past the blocks: avx2=%v n=%d", avx2, n)

				in := bytes.Clone(src)
				xorBlocks(in, in, k64)
				require.Equal(t, want, in[:whole], "in place: avx2=%v n=%d", avx2, n)
				require.Equal(t, src[whole:], in[whole:], "in place, the tail: avx2=%v n=%d", avx2, n)
			}
		}
	}
}

// cpuHasAVX2 agrees with what the kernel reports.
func TestCPUHasAVX2(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/cpuinfo")
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	require.NoError(t, err)
	var flags []string
	for line := range strings.SplitSeq(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "flags"); ok {
			flags = strings.Fields(strings.TrimLeft(v, " \t:"))
			break
		}
	}
	require.NotEmpty(t, flags, "no flags line in /proc/cpuinfo")
	has := false
	for _, f := range flags {
		has = has || f == "avx2"
	}
	require.Equal(t, has, cpuHasAVX2(), "/proc/cpuinfo says avx2=%v", has)
}
