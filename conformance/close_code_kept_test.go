package conformance

// RFC 6455, 7.1.5: once a close frame was received, its code is the
// connection close code, even when the reply cannot be written.

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// failingWrites is a connection whose writes fail as on a connection the
// peer has reset.
type failingWrites struct{ net.Conn }

func (failingWrites) Write([]byte) (int, error) { return 0, syscall.EPIPE }

// TestRFC7_CloseCodeKeptOnReplyFailure: RFC 6455, section 7.1.5: once a
// close frame was received, "the WebSocket Connection Close Code" is the
// code it carried, even when answering it fails, as it does whenever the
// peer closes TCP right after its close frame (a reset when data is unread).
func TestRFC7_CloseCodeKeptOnReplyFailure(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := protocol.NewConn(failingWrites{a}, nil, &protocol.Options{Role: protocol.RoleServer})
	defer c.CloseNow()
	frame := framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.OpClose, Masked: true, Mask: [4]byte{1, 2, 3, 4}},
		closeBody(1001, "bye"))
	done := make(chan error, 1)
	go func() { _, err := b.Write(frame); done <- err }()
	_, _, err := c.Read(testCtx(t))
	require.NoError(t, <-done)
	var ce *protocol.CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, protocol.StatusGoingAway, ce.Code, "the received close code (got %v)", err)
	require.True(t, ce.Remote, "the peer sent a close frame (got %v)", err)
	require.Equal(t, "bye", ce.Reason)
}

// TestRFC7_ClientKeepsCloseCodeOnReset: the same over TCP, from the client
// side. A server fails the connection with 1002 and closes at once, its
// unread data turning the close into a reset. The client has the close
// frame in its receive buffer but cannot write its reply: Read still
// returns 1002.
func TestRFC7_ClientKeepsCloseCodeOnReset(t *testing.T) {
	l := newRawListener(t)
	reset := make(chan struct{})
	wait := runClient(t, l.URL("/"), protocol.Options{}, func(ctx context.Context, c *protocol.Conn) error {
		if err := c.Write(ctx, protocol.MessageText, []byte("unread by the server")); err != nil {
			return err
		}
		<-reset
		_, _, err := c.Read(ctx)
		return err
	})
	s := l.accept("")
	_, err := s.br.Peek(1) // the client's message has arrived, unread
	require.NoError(t, err)
	s.mustWrite(frameBytes(closeF(closeBody(1002, "protocol error"))))
	require.NoError(t, s.nc.(*net.TCPConn).SetLinger(0))
	require.NoError(t, s.nc.Close())
	time.Sleep(50 * time.Millisecond) // let the reset arrive; not an assertion
	close(reset)
	err = wait()
	var ce *protocol.CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, protocol.StatusProtocolError, ce.Code, "the server's close code (got %v)", err)
	require.True(t, ce.Remote, "got %v", err)
}
