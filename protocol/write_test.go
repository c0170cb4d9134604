package protocol

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// countConn counts the Write calls made on a net.Conn.
type countConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// Write hands a whole message (header and payload) to the network in one
// write call, whatever its size up to the largest write buffer.
func TestWriteOneSyscallPerMessage(t *testing.T) {
	for _, role := range []Role{RoleClient, RoleServer} {
		for _, n := range []int{0, 16, 125, 4096, 4097, 65536, maxPooledPayload} {
			t.Run(fmt.Sprint(role, n), func(t *testing.T) {
				a, b := tcpPair(t)
				cc := &countConn{Conn: a}
				c := NewConn(cc, nil, &Options{Role: role})
				defer c.CloseNow()
				p := &rawPeer{t: t, nc: b, br: bufioReader(b), client: role == RoleServer}
				payload := bytes.Repeat([]byte{'a'}, n)
				go func() { _ = c.Write(bg(), MessageText, payload) }()
				h, got := p.mustNext()
				require.Equal(t, int64(n), h.Length)
				require.Equal(t, payload, got)
				require.Equal(t, int64(1), cc.writes.Load())
			})
		}
	}
}

// Writer fragments a message: full buffers become non-final frames, a long
// Write becomes one frame, Close sends the final frame.
func TestWriterFragments(t *testing.T) {
	for _, role := range []Role{RoleClient, RoleServer} {
		t.Run(role.String(), func(t *testing.T) {
			c, p := withRaw(t, role, &Options{WriteBufferSize: 1000})
			var want []byte
			go func() {
				w, err := c.Writer(bg(), MessageText)
				if err != nil {
					return
				}
				for i := 0; i < 25; i++ { // 2500 bytes of small writes: two full buffers
					fmt.Fprintf(w, "%099d\n", i)
				}
				w.Write(bytes.Repeat([]byte("L"), 5000)) // buffered 500 + 500, then a 4500-byte... see below
				w.Close()
				_, _ = w.Write([]byte("x"))
			}()
			for i := 0; i < 25; i++ {
				want = append(want, fmt.Sprintf("%099d\n", i)...)
			}
			want = append(want, bytes.Repeat([]byte("L"), 5000)...)
			var got []byte
			var frames []framing.Header
			for {
				h, b := p.mustNext()
				frames = append(frames, h)
				got = append(got, b...)
				if h.Fin {
					break
				}
			}
			require.Equal(t, string(want), string(got))
			require.Equal(t, framing.OpText, frames[0].Opcode)
			for i, h := range frames {
				if i > 0 {
					require.Equal(t, framing.OpContinuation, h.Opcode)
				}
				require.Equal(t, i == len(frames)-1, h.Fin)
				require.LessOrEqual(t, h.Length, int64(5000))
			}
			require.GreaterOrEqual(t, len(frames), 4)
			// The writer is done: the next message goes through.
			go func() { _ = c.Write(bg(), MessageBinary, []byte("next")) }()
			h, b := p.mustNext()
			require.Equal(t, framing.OpBinary, h.Opcode)
			require.Equal(t, "next", string(b))
		})
	}
}

func TestWriterMisuse(t *testing.T) {
	c, _ := withRaw(t, RoleServer, nil)
	w, err := c.Writer(bg(), MessageBinary)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	_, err = w.Write([]byte("x"))
	require.ErrorIs(t, err, errWriterClosed)
	require.ErrorIs(t, w.Close(), errWriterClosed)
	require.ErrorIs(t, c.Write(bg(), MessageType(3), nil), errMessageType)
	_, err = c.Writer(bg(), 0)
	require.ErrorIs(t, err, errMessageType)
	require.ErrorIs(t, c.Ping(bg(), make([]byte, 126)), errControlTooLong)
	require.ErrorIs(t, c.Pong(bg(), make([]byte, 200)), errControlTooLong)
}

// A control frame goes out between the fragments of a message being
// written: Ping does not wait for the message lock.
func TestControlBetweenFragments(t *testing.T) {
	c, p := withRaw(t, RoleClient, nil)
	w, err := c.Writer(bg(), MessageBinary)
	require.NoError(t, err)
	wrote1 := make(chan struct{})
	go func() {
		defer close(wrote1)
		_, _ = w.Write(bytes.Repeat([]byte("a"), 10000))
	}()
	h, _ := p.mustNext()
	recv(t, "the first write", wrote1)
	require.False(t, h.Fin)
	ctx, cancel := context.WithTimeout(bg(), 5*time.Second)
	defer cancel()
	go func() { _ = c.Ping(ctx, []byte("between")) }()
	h, b := p.mustNext()
	require.Equal(t, framing.OpPing, h.Opcode)
	require.Equal(t, "between", string(b))
	// Another message waits for the writer.
	wrote := make(chan error, 1)
	go func() { wrote <- c.Write(ctx, MessageText, []byte("second")) }()
	go func() { _ = w.Close() }()
	h, _ = p.mustNext()
	require.Equal(t, framing.OpContinuation, h.Opcode)
	require.True(t, h.Fin)
	h, b = p.mustNext()
	require.Equal(t, framing.OpText, h.Opcode)
	require.Equal(t, "second", string(b))
	require.NoError(t, recv(t, "the write", wrote))
	// Ping is also answered while a message is half written: pongs are
	// control frames too.
	p.send(framing.OpPing, true, []byte("q"))
	go func() { _, _, _ = c.Read(bg()) }()
	h, b = p.mustNext()
	require.Equal(t, framing.OpPong, h.Opcode)
	require.Equal(t, "q", string(b))
}

// Many goroutines write messages, stream fragmented ones and ping at once;
// the peer receives every message intact.
func TestConcurrentWriters(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			cl, sv := connPair(t, tr, &Options{WriteBufferSize: 512}, &Options{ReadLimit: -1})
			const writers, perWriter = 6, 40
			var wg sync.WaitGroup
			msg := func(id, i int) []byte {
				return bytes.Repeat([]byte{byte('a' + id)}, 1+(i*977+id*131)%9000)
			}
			for id := 0; id < writers; id++ {
				wg.Add(1)
				go func(id int) {
					defer wg.Done()
					for i := 0; i < perWriter; i++ {
						var err error
						if id%2 == 0 {
							err = cl.Write(bg(), MessageBinary, msg(id, i))
						} else {
							var w io.WriteCloser
							w, err = cl.Writer(bg(), MessageBinary)
							if err == nil {
								m := msg(id, i)
								for len(m) > 0 && err == nil {
									k := min(len(m), 700)
									_, err = w.Write(m[:k])
									m = m[k:]
								}
								if cerr := w.Close(); err == nil {
									err = cerr
								}
							}
						}
						if err != nil {
							t.Error(err)
							return
						}
						if i%5 == 0 {
							_ = cl.Ping(bg(), []byte{byte(id)})
						}
					}
				}(id)
			}
			go func() { // the client reads pongs
				for {
					if _, _, err := cl.Read(bg()); err != nil {
						return
					}
				}
			}()
			counts := make([]int, writers)
			for n := 0; n < writers*perWriter; n++ {
				_, b, err := sv.Read(bg())
				require.NoError(t, err)
				require.NotEmpty(t, b)
				id := int(b[0] - 'a')
				require.Less(t, id, writers)
				require.Equal(t, msg(id, counts[id]), b, "message %d of writer %d", counts[id], id)
				counts[id]++
			}
			waitGroup(t, "the goroutines", &wg)
		})
	}
}

// A Write that waits for the message lock gives up when ctx is done.
func TestWriteWaitsForWriterWithContext(t *testing.T) {
	c, _ := withRaw(t, RoleServer, nil)
	w, err := c.Writer(bg(), MessageText)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(bg())
	cancel()
	require.ErrorIs(t, c.Write(ctx, MessageText, []byte("x")), context.Canceled)
	require.NoError(t, w.Close())
}
