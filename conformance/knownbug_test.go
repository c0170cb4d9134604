//go:build knownbug

package conformance

// Tests that demonstrate known bugs in other packages. They fail today and
// are excluded from the default build; run them with -tags knownbug.

import (
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// failingWrites is a connection whose writes fail as on a connection the
// peer has reset.
type failingWrites struct{ net.Conn }

func (failingWrites) Write([]byte) (int, error) { return 0, syscall.EPIPE }

// TestKnownBugCloseCodeLostOnReplyFailure: RFC 6455, section 7.1.5: once a
// close frame was received, "the WebSocket Connection Close Code" is the
// code it carried. protocol.Conn reports 1006 (with the write error) when
// answering the peer's close frame fails, which happens whenever the peer
// closes TCP right after its close frame (as protocol.Conn itself does when
// it fails a connection with unread data, which turns into a reset).
func TestKnownBugCloseCodeLostOnReplyFailure(t *testing.T) {
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
