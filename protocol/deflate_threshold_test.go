package protocol

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A negative threshold compresses every message, the empty one too, also
// when it is sent through a Writer that got no Write call (an io.Copy of
// an empty message, as an echo server does) or only empty ones: as
// Conn.Write does (TestCompressionThreshold).
func TestCompressionThresholdEmptyWriter(t *testing.T) {
	for _, writes := range []int{0, 1, 3} {
		t.Run(map[int]string{0: "no-write", 1: "one-empty-write", 3: "three-empty-writes"}[writes], func(t *testing.T) {
			c, p := withRaw(t, RoleServer, &Options{Compression: &CompressionOptions{Threshold: -1}})
			errc := make(chan error, 1)
			go func() {
				w, err := c.Writer(bg(), MessageBinary)
				if err != nil {
					errc <- err
					return
				}
				for range writes {
					if _, err := w.Write(nil); err != nil {
						errc <- err
						return
					}
				}
				errc <- w.Close()
			}()
			_, compressed, payload, _ := p.readMessage()
			require.NoError(t, recv(t, "the result", errc))
			require.True(t, compressed, "RSV1 on the empty message")
			out, err := refInflate(nil, payload)
			require.NoError(t, err)
			require.Empty(t, out)
		})
	}
}
