package protocol

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// readLoop reads c until an error, in the background; the returned
// function waits (bounded) for that error.
func readLoop(t *testing.T, c *Conn) func() error {
	errc := readAll(c)
	return func() error { return waitErr(t, errc, 5*time.Second, "the read loop") }
}

// TestCloseRead: a write-only server discards what it receives, answers
// pings, and learns of the peer's close through the returned context.
func TestCloseRead(t *testing.T) {
	pongs := make(chan string, 1)
	cl, sv := connPair(t, "tcp", &Options{OnPong: func(p []byte) { pongs <- string(p) }}, nil)
	ctx := sv.CloseRead(bg())
	clientDone := readLoop(t, cl)
	for i := 0; i < 3; i++ {
		require.NoError(t, cl.Write(bg(), MessageBinary, make([]byte, 100<<10)))
	}
	require.NoError(t, cl.Ping(bg(), []byte("there?")))
	select {
	case p := <-pongs:
		require.Equal(t, "there?", p)
	case <-time.After(5 * time.Second):
		t.Fatal("no pong within 5 s")
	}
	require.NoError(t, sv.Write(bg(), MessageText, []byte("push")))
	require.NoError(t, ctx.Err(), "still open")
	require.NoError(t, cl.Close(StatusNormalClosure, ""))
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("CloseRead's context not done 5 s after the peer's close")
	}
	require.ErrorIs(t, sv.Write(bg(), MessageText, []byte("late")), ErrClosed)
	require.True(t, IsNormalClose(clientDone()))
}

// TestCloseReadStops: cancelling CloseRead's parent context stops its
// goroutine between messages, the Conn staying usable; the returned context
// ends only once the goroutine's last read has returned, so a message
// written right after it ends is the caller's, never the goroutine's. The
// server's socket moves its read deadline late (as a loaded machine may),
// which widened the window where the goroutine could still take a message
// after the returned context had ended.
func TestCloseReadStops(t *testing.T) {
	a, b := tcpPair(t)
	cl := NewConn(a, nil, &Options{Role: RoleClient})
	sv := NewConn(slowDeadlineConn{b}, nil, &Options{Role: RoleServer})
	t.Cleanup(func() { cl.CloseNow(); sv.CloseNow() })
	parent, cancel := context.WithCancel(context.WithValue(bg(), closeReadKey{}, "v"))
	ctx := sv.CloseRead(parent)
	require.Equal(t, "v", ctx.Value(closeReadKey{}), "the returned context carries the parent's values")
	time.Sleep(20 * time.Millisecond) // let the goroutine block in its read
	cancel()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("CloseRead's goroutine did not stop")
	}
	require.NoError(t, cl.Write(bg(), MessageText, []byte("after")))
	_, p, err := sv.Read(readCtx(t))
	require.NoError(t, err, "the message went to CloseRead's goroutine")
	require.Equal(t, "after", string(p))
}

type closeReadKey struct{}

// slowDeadlineConn moves its read deadline 200 ms after being asked to.
type slowDeadlineConn struct{ net.Conn }

func (c slowDeadlineConn) SetReadDeadline(t time.Time) error {
	time.Sleep(200 * time.Millisecond)
	return c.Conn.SetReadDeadline(t)
}

// TestPingRTT: PingRTT waits for its own pong, within its context, and
// fails once the connection is closed.
func TestPingRTT(t *testing.T) {
	cl, sv := connPair(t, "tcp", nil, nil)
	done := readLoop(t, sv)
	ctx, cancel := context.WithTimeout(bg(), 100*time.Millisecond)
	defer cancel()
	_, err := cl.PingRTT(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "nobody reads the client: its pong is never seen")
	clientDone := readLoop(t, cl)
	results := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			rtt, err := cl.PingRTT(readCtx(t))
			if err == nil && rtt <= 0 {
				err = context.Canceled // not expected: a positive round trip
			}
			results <- err
		}()
	}
	for i := 0; i < 4; i++ {
		require.NoError(t, waitErr(t, results, 5*time.Second, "PingRTT"))
	}
	require.NoError(t, sv.Close(StatusNormalClosure, ""))
	_, err = cl.PingRTT(readCtx(t))
	require.ErrorIs(t, err, ErrClosed)
	require.True(t, IsNormalClose(done()))
	require.True(t, IsNormalClose(clientDone()))
	cl.pingMu.Lock()
	require.Empty(t, cl.pingWait, "no waiter left behind")
	cl.pingMu.Unlock()
}

// TestSetReadLimit: the limit changes on a live Conn, from the next frame.
func TestSetReadLimit(t *testing.T) {
	cl, sv := connPair(t, "tcp", nil, nil)
	go func() { _, _, _ = cl.Read(bg()) }()
	require.NoError(t, cl.Write(bg(), MessageText, []byte("eleven byte")))
	_, p, err := sv.Read(readCtx(t))
	require.NoError(t, err)
	require.Len(t, p, 11)
	sv.SetReadLimit(10)
	require.NoError(t, cl.Write(bg(), MessageText, []byte("ten bytes!")))
	_, _, err = sv.Read(readCtx(t))
	require.NoError(t, err)
	require.NoError(t, cl.Write(bg(), MessageText, []byte("eleven byte")))
	_, _, err = sv.Read(readCtx(t))
	require.Equal(t, StatusMessageTooBig, CloseStatus(err))
}

// TestWriteUncompressed: a compressible message goes out uncompressed
// (RSV1 clear) through WriteUncompressed, compressed through Write.
func TestWriteUncompressed(t *testing.T) {
	c, p := withRaw(t, RoleServer, &Options{Compression: &CompressionOptions{}})
	msg := bytes.Repeat([]byte("compressible "), 1000)
	require.NoError(t, c.WriteUncompressed(bg(), MessageText, msg))
	require.NoError(t, c.Write(bg(), MessageText, msg))
	op, compressed, payload, _ := p.readMessage()
	require.Equal(t, framing.OpText, op)
	require.False(t, compressed)
	require.Equal(t, msg, payload)
	_, compressed, payload, _ = p.readMessage()
	require.True(t, compressed)
	require.Less(t, len(payload), len(msg))
	require.ErrorIs(t, c.WriteUncompressed(bg(), MessageType(9), nil), errMessageType)
}
