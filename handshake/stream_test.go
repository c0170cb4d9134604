package handshake

import (
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// pipeStream returns a streamConn over two pipes, and the peer's ends: in
// (what the conn reads) and out (what it wrote).
func pipeStream(t *testing.T) (s *streamConn, in *io.PipeWriter, out *io.PipeReader) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s = newStreamConn(&streamConn{
		body:        inR,
		w:           outW,
		abortWrite:  func() { outW.CloseWithError(streamTimeout("write")) },
		finishWrite: func() { outW.Close() },
		finishRead:  func() { inR.Close() },
		lingerRead:  true,
		laddr:       stringAddr("local"),
		raddr:       stringAddr("remote"),
	})
	t.Cleanup(func() {
		s.Close()
		inW.Close()
		outR.Close()
	})
	return s, inW, outR
}

// within fails the test if f does not return within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s still blocked after %v", what, d)
	}
}

// protocol.Conn moves deadlines to interrupt a call and then goes on: a
// read deadline that passed must not break the stream.
func TestStreamConnReadDeadlineIsMovable(t *testing.T) {
	s, in, _ := pipeStream(t)
	buf := make([]byte, 8)
	require.NoError(t, s.SetReadDeadline(time.Now().Add(30*time.Millisecond)))
	within(t, 2*time.Second, "Read past its deadline", func() {
		_, err := s.Read(buf)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		var ne net.Error
		require.ErrorAs(t, err, &ne)
		require.True(t, ne.Timeout())
	})
	require.NoError(t, s.SetReadDeadline(time.Unix(1, 0)))
	_, err := s.Read(buf)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "a past deadline fails at once")

	require.NoError(t, s.SetReadDeadline(time.Time{}))
	go in.Write([]byte("hello world"))
	n, err := io.ReadFull(s, buf)
	require.NoError(t, err)
	require.Equal(t, "hello wo", string(buf[:n]))
	n, err = s.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "rld", string(buf[:n]))

	in.Close()
	_, err = s.Read(buf)
	require.ErrorIs(t, err, io.EOF)
	_, err = s.Read(buf)
	require.ErrorIs(t, err, io.EOF, "the end stays")
}

// A deadline that passes between writes fails the next Write only; one
// that passes while a Write is blocked aborts the stream.
func TestStreamConnWriteDeadline(t *testing.T) {
	s, _, out := pipeStream(t)
	require.NoError(t, s.SetWriteDeadline(time.Unix(1, 0)))
	_, err := s.Write([]byte("x"))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.NoError(t, s.SetWriteDeadline(time.Time{}))
	go io.ReadFull(out, make([]byte, 2))
	n, err := s.Write([]byte("ok"))
	require.NoError(t, err, "the stream survives a deadline that passed between writes")
	require.Equal(t, 2, n)

	// Nobody reads out now: the Write blocks until its deadline.
	require.NoError(t, s.SetWriteDeadline(time.Now().Add(30*time.Millisecond)))
	within(t, 2*time.Second, "Write past its deadline", func() {
		_, err := s.Write([]byte("blocked"))
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	})
	require.NoError(t, s.SetWriteDeadline(time.Time{}))
	_, err = s.Write([]byte("more"))
	require.Error(t, err, "an aborted stream stays unwritable")
}

// Close returns a blocked Read and a blocked Write, and ends the reader
// goroutine (goleak checks at the end of the package).
func TestStreamConnCloseUnblocks(t *testing.T) {
	s, _, _ := pipeStream(t)
	readErr := make(chan error, 1)
	writeErr := make(chan error, 1)
	go func() { _, err := s.Read(make([]byte, 1)); readErr <- err }()
	go func() { _, err := s.Write([]byte("never read")); writeErr <- err }()
	time.Sleep(20 * time.Millisecond)
	select {
	case <-doneOf(s):
		t.Fatal("done before Close")
	default:
	}
	within(t, 2*time.Second, "Close", func() { require.NoError(t, s.Close()) })
	within(t, 2*time.Second, "Read after Close", func() { require.ErrorIs(t, <-readErr, net.ErrClosed) })
	within(t, 2*time.Second, "Write after Close", func() { require.Error(t, <-writeErr) })
	require.ErrorIs(t, s.Close(), net.ErrClosed)
	_, err := s.Write([]byte("x"))
	require.ErrorIs(t, err, net.ErrClosed)
	within(t, 2*streamLinger, "the stream's end", func() { <-doneOf(s) })
	require.Equal(t, "local", s.LocalAddr().String())
	require.Equal(t, "remote", s.RemoteAddr().String())
}

// doneOf is the done channel of a streamConn.
func doneOf(s *streamConn) <-chan struct{} { return s.done }
