package protocol

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// getBuf returns the smallest class that holds n bytes, nil beyond the
// largest, and putBuf takes back only buffers of a class size.
func TestBufClasses(t *testing.T) {
	for i := range numClasses {
		size := bufSize(i)
		for _, n := range []int{size - 1, size, size + 1} {
			bp := getBuf(n)
			if n > bufSize(numClasses-1) {
				require.Nil(t, bp, "n=%d", n)
				continue
			}
			require.NotNil(t, bp, "n=%d", n)
			require.GreaterOrEqual(t, len(*bp), n)
			c := bufClass(n)
			require.Equal(t, bufSize(c), len(*bp))
			if c > 0 {
				require.Less(t, bufSize(c-1), n, "n=%d fits a smaller class", n)
			}
			putBuf(bp)
		}
	}
	require.Equal(t, 0, bufClass(0))
	require.Equal(t, maxPooledPayload+hdrRoom, bufSize(numClasses-1))
	b := make([]byte, 1000) // not a class size: dropped, not pooled
	putBuf(&b)
}

// Frames around the size up to which they are built in the control frame
// buffer, and around pooled buffer classes, go out intact.
func TestWriteFrameSizes(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 511, 512, 513, 16383, 16384, 65536}
	for _, role := range []Role{RoleClient, RoleServer} {
		c, p := withRaw(t, role, nil)
		for _, n := range sizes {
			t.Run(fmt.Sprint(role, "/", n), func(t *testing.T) {
				payload := make([]byte, n)
				for i := range payload {
					payload[i] = byte(i*13 + n)
				}
				done := make(chan error, 1)
				go func() { done <- c.Write(bg(), MessageBinary, payload) }()
				h, got := p.mustNext()
				require.NoError(t, <-done)
				require.True(t, h.Fin)
				require.Equal(t, payload, got)
			})
		}
	}
}
