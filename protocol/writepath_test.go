package protocol

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
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
				require.NoError(t, recv(t, "the call", done))
				require.True(t, h.Fin)
				require.Equal(t, payload, got)
			})
		}
	}
}

// Write takes the message lock only while a Writer is active, but then it
// waits for it: its frame never lands between a Writer's fragments.
func TestWriteWaitsForActiveWriter(t *testing.T) {
	for _, role := range []Role{RoleClient, RoleServer} {
		t.Run(role.String(), func(t *testing.T) {
			c, p := withRaw(t, role, &Options{WriteBufferSize: 512})
			w, err := c.Writer(bg(), MessageBinary)
			require.NoError(t, err)
			_, err = w.Write(make([]byte, 600)) // a first, non-final frame
			require.NoError(t, err)
			h, _ := p.mustNext()
			require.False(t, h.Fin)

			ctx, cancel := context.WithTimeout(bg(), 50*time.Millisecond)
			defer cancel()
			require.ErrorIs(t, c.Write(ctx, MessageText, []byte("x")), context.DeadlineExceeded)

			done := make(chan error, 1)
			go func() { done <- c.Write(bg(), MessageText, []byte("y")) }()
			_, err = w.Write([]byte("tail"))
			require.NoError(t, err)
			require.NoError(t, w.Close())
			h, b := p.mustNext()
			require.Equal(t, framing.OpContinuation, h.Opcode)
			require.True(t, h.Fin)
			require.Equal(t, "tail", string(b))
			h, b = p.mustNext()
			require.Equal(t, framing.OpText, h.Opcode)
			require.Equal(t, "y", string(b))
			require.NoError(t, recv(t, "the call", done))

			require.NoError(t, c.Write(bg(), MessageText, []byte("z")), "no Writer: no waiting")
			_, b = p.mustNext()
			require.Equal(t, "z", string(b))
		})
	}
}
