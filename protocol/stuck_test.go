package protocol

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// within runs f on a goroutine and fails the test if it does not return
// within d.
func within[T any](t *testing.T, d time.Duration, what string, f func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("%s: still blocked after %v", what, d)
		panic("unreachable")
	}
}

// blockedWrite starts a Write of a message far larger than the socket
// buffers on a Conn whose peer does not read, and returns its result.
func blockedWrite(c *Conn) <-chan error {
	errc := make(chan error, 1)
	go func() { errc <- c.Write(bg(), MessageBinary, make([]byte, 64<<20)) }()
	time.Sleep(200 * time.Millisecond) // let it fill the socket buffers; not an assertion
	return errc
}

func waitErr(t *testing.T, errc <-chan error, d time.Duration, what string) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(d):
		t.Fatalf("%s: still blocked after %v", what, d)
		return nil
	}
}

// TestPongReplyBounded: a peer pings, then stops reading while a write of
// ours is stuck on the full socket. A Read with a short context returns
// within it (the pong stays owed); the next Read tries the pong for
// ControlTimeout, then fails the connection, which ends the stuck write.
func TestPongReplyBounded(t *testing.T) {
	c, p := withRaw(t, RoleServer, &Options{ControlTimeout: 300 * time.Millisecond})
	werr := blockedWrite(c)
	p.send(framing.OpPing, true, []byte("hi"))
	ctx, cancel := context.WithTimeout(bg(), 200*time.Millisecond)
	defer cancel()
	err := within(t, 2*time.Second, "Read(200 ms) with a pong owed", func() error { _, _, err := c.Read(ctx); return err })
	require.ErrorIs(t, err, context.DeadlineExceeded)
	err = within(t, 3*time.Second, "Read with a pong that cannot be sent", func() error { _, _, err := c.Read(bg()); return err })
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "the control timeout: %v", err)
	require.Error(t, waitErr(t, werr, 2*time.Second, "the stuck Write"))
}

// TestCloseReplyBounded: a peer sends its close frame and stops reading
// while a write of ours is stuck: the reply gives up after CloseTimeout,
// the reader gets the peer's close and the stuck write returns.
func TestCloseReplyBounded(t *testing.T) {
	c, p := withRaw(t, RoleServer, &Options{CloseTimeout: 300 * time.Millisecond})
	werr := blockedWrite(c)
	p.send(framing.OpClose, true, closePayload(StatusGoingAway, "bye"))
	err := within(t, 3*time.Second, "Read meeting the peer's close", func() error { _, _, err := c.Read(bg()); return err })
	require.Equal(t, StatusGoingAway, CloseStatus(err))
	require.Error(t, waitErr(t, werr, 2*time.Second, "the stuck Write"))
}

// TestCloseShutsEverything: Close with a write stuck on the full socket and
// a reader blocked returns within CloseTimeout (and a little), with the
// socket closed and both calls returned.
func TestCloseShutsEverything(t *testing.T) {
	c, _ := withRaw(t, RoleServer, &Options{CloseTimeout: 300 * time.Millisecond})
	werr := blockedWrite(c)
	rerr := make(chan error, 1)
	go func() { _, _, err := c.Read(bg()); rerr <- err }()
	within(t, 3*time.Second, "Close", func() error { return c.Close(StatusNormalClosure, "") })
	require.ErrorIs(t, waitErr(t, werr, time.Second, "the stuck Write after Close"), ErrClosed)
	require.ErrorIs(t, waitErr(t, rerr, time.Second, "the blocked Read after Close"), ErrClosed)
}

// TestWritesHonourContextBehindStuckWrite: Write, Ping and Pong return
// within their context while another goroutine's write holds the frame
// lock, having sent nothing: the Conn stays usable for them.
func TestWritesHonourContextBehindStuckWrite(t *testing.T) {
	calls := map[string]func(*Conn, context.Context) error{
		"Write": func(c *Conn, ctx context.Context) error { return c.Write(ctx, MessageText, []byte("x")) },
		"Ping":  func(c *Conn, ctx context.Context) error { return c.Ping(ctx, nil) },
		"Pong":  func(c *Conn, ctx context.Context) error { return c.Pong(ctx, nil) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			c, _ := withRaw(t, RoleServer, nil)
			werr := blockedWrite(c)
			ctx, cancel := context.WithTimeout(bg(), 100*time.Millisecond)
			defer cancel()
			err := within(t, 2*time.Second, name+"(100 ms) behind a stuck write", func() error { return call(c, ctx) })
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.NotErrorIs(t, err, ErrClosed, "nothing was sent: the Conn is not failed")
			c.CloseNow()
			require.Error(t, waitErr(t, werr, 2*time.Second, "the stuck Write after CloseNow"))
		})
	}
}
