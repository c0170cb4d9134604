package protocol

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hookConn calls hook once, after the first write that took at least
// after bytes in all.
type hookConn struct {
	net.Conn
	mu      sync.Mutex
	written int
	after   int
	hook    func()
}

func (c *hookConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.written += n
	fire := c.hook != nil && c.written >= c.after
	hook := c.hook
	if fire {
		c.hook = nil
	}
	c.mu.Unlock()
	if fire {
		hook()
	}
	return n, err
}

// hookedPair returns a client Conn whose writes go through a hookConn and
// a server Conn reading it over loopback TCP.
func hookedPair(t *testing.T, after int, hook func(), copts, sopts *Options) (*Conn, *Conn) {
	t.Helper()
	a, b := tcpPair(t)
	copts.Role, sopts.Role = RoleClient, RoleServer
	cl := NewConn(&hookConn{Conn: a, after: after, hook: hook}, nil, copts)
	sv := NewConn(b, nil, sopts)
	t.Cleanup(func() { cl.CloseNow(); sv.CloseNow() })
	return cl, sv
}

// serverSees reads from sv until an error, in the background, and returns
// the messages and the final error.
func serverSees(t *testing.T, sv *Conn) func() ([]string, error) {
	type res struct {
		msgs []string
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		var r res
		for {
			_, p, err := sv.Read(bg())
			if err != nil {
				r.err = err
				ch <- r
				return
			}
			r.msgs = append(r.msgs, string(p))
		}
	}()
	return func() ([]string, error) {
		select {
		case r := <-ch:
			return r.msgs, r.err
		case <-time.After(5 * time.Second):
			sv.CloseNow()
			t.Fatal("the server's Read did not end within 5 s")
			return nil, nil
		}
	}
}

// TestWriterCancelMidMessageFailsConn: a Writer's context cancelled after
// a first frame is on the wire fails the connection; nothing of the next
// message reaches the peer as the continuation of the cut one.
func TestWriterCancelMidMessageFailsConn(t *testing.T) {
	ctx, cancel := context.WithCancel(bg())
	defer cancel()
	cl, sv := hookedPair(t, 1, cancel, &Options{}, &Options{})
	wait := serverSees(t, sv)
	w, err := cl.Writer(ctx, MessageText)
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 8<<10)) // one frame, then cancel
	require.NoError(t, err)
	_, err = w.Write([]byte("more"))
	if err == nil {
		err = w.Close()
	} else {
		_ = w.Close()
	}
	require.ErrorIs(t, err, context.Canceled)
	err = cl.Write(bg(), MessageText, []byte("next"))
	require.ErrorIs(t, err, ErrClosed, "the connection failed with the cut message")
	_, _, err = cl.Read(bg())
	require.ErrorIs(t, err, context.Canceled, "Read reports the cause")
	require.Equal(t, StatusAbnormalClosure, CloseStatus(err))
	msgs, err := wait()
	require.Empty(t, msgs)
	require.NotErrorIs(t, err, errExpectedContinuation, "the peer never sees a new message inside the cut one")
}

// TestWriterCancelBeforeFirstFrame: cancelled before any byte of the
// message is sent, the Conn stays usable.
func TestWriterCancelBeforeFirstFrame(t *testing.T) {
	cl, sv := connPair(t, "tcp", nil, nil)
	wait := serverSees(t, sv)
	ctx, cancel := context.WithCancel(bg())
	w, err := cl.Writer(ctx, MessageText)
	require.NoError(t, err)
	_, err = w.Write([]byte("buffered"))
	require.NoError(t, err)
	cancel()
	require.ErrorIs(t, w.Close(), context.Canceled)
	require.NoError(t, cl.Write(bg(), MessageText, []byte("next")))
	require.NoError(t, cl.Close(StatusNormalClosure, ""))
	msgs, _ := wait()
	require.Equal(t, []string{"next"}, msgs)
}

// TestCompressedWriteCancelMidMessageFailsConn: the same for a compressed
// Write whose output spans several frames.
func TestCompressedWriteCancelMidMessageFailsConn(t *testing.T) {
	ctx, cancel := context.WithCancel(bg())
	defer cancel()
	a := &CompressionOptions{}
	cl, sv := hookedPair(t, 1, cancel, &Options{Compression: a}, &Options{Compression: a, ReadLimit: -1})
	wait := serverSees(t, sv)
	p := testRandom(1, 3<<20) // incompressible: more than one frame of output
	err := cl.Write(ctx, MessageBinary, p)
	require.ErrorIs(t, err, context.Canceled)
	err = cl.Write(bg(), MessageText, []byte("next"))
	require.ErrorIs(t, err, ErrClosed, "the connection failed with the cut message")
	msgs, err := wait()
	require.Empty(t, msgs)
	require.NotErrorIs(t, err, errExpectedContinuation)
}

// TestCompressedWriterCancelMidMessageFailsConn: and for a compressed
// Writer.
func TestCompressedWriterCancelMidMessageFailsConn(t *testing.T) {
	ctx, cancel := context.WithCancel(bg())
	defer cancel()
	a := &CompressionOptions{}
	cl, sv := hookedPair(t, 1, cancel, &Options{Compression: a}, &Options{Compression: a, ReadLimit: -1})
	wait := serverSees(t, sv)
	w, err := cl.Writer(ctx, MessageBinary)
	require.NoError(t, err)
	var werr error
	for i := 0; i < 64 && werr == nil; i++ {
		_, werr = w.Write(testRandom(uint64(i), 64<<10))
	}
	cerr := w.Close()
	if werr == nil {
		werr = cerr
	}
	require.ErrorIs(t, werr, context.Canceled)
	err = cl.Write(bg(), MessageText, []byte("next"))
	require.ErrorIs(t, err, ErrClosed, "the connection failed with the cut message")
	msgs, err := wait()
	require.Empty(t, msgs)
	require.NotErrorIs(t, err, errExpectedContinuation)
}
