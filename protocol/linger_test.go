package protocol

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTooBigPeerStillSendingGets1009: the server fails the connection with
// 1009 at the header of a message over its read limit while the client is
// still sending that message. The server keeps reading (and discarding)
// until the client's close reply, so the client reads the 1009 instead of
// a connection reset.
func TestTooBigPeerStillSendingGets1009(t *testing.T) {
	cl, sv := connPair(t, "tcp", nil, &Options{ReadLimit: 1 << 20})
	serr := make(chan error, 1)
	go func() { _, _, err := sv.Read(bg()); serr <- err }()
	werr := make(chan error, 1)
	go func() { werr <- cl.Write(bg(), MessageBinary, make([]byte, 4<<20)) }()
	err := waitErr(t, serr, 5*time.Second, "the server's Read")
	require.Equal(t, StatusMessageTooBig, CloseStatus(err))
	_ = waitErr(t, werr, 5*time.Second, "the client's Write")
	_, _, err = cl.Read(readCtx(t))
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	require.True(t, ce.Received, "the client read the server's close frame: %v", err)
	require.Equal(t, StatusMessageTooBig, ce.Code)
	require.True(t, ce.Remote)
	require.False(t, IsNormalClose(err))
}

func TestIsNormalClose(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"peer 1000", &CloseError{Code: 1000, Received: true, Remote: true}, true},
		{"peer 1001", &CloseError{Code: 1001, Received: true, Remote: true}, true},
		{"peer 1001 wrapped", fmt.Errorf("read: %w", &CloseError{Code: 1001, Received: true}), true},
		{"peer 1011", &CloseError{Code: 1011, Received: true, Remote: true}, false},
		{"our Close answered", &CloseError{Code: 4000, Received: true, local: true}, true},
		{"our Close timed out", &CloseError{Code: 1000, Err: errCloseTimeout, local: true}, true},
		{"CloseNow", &CloseError{Code: 1006, Err: ErrClosed, local: true}, true},
		{"we failed it", &CloseError{Code: 1009, Err: ErrMessageTooBig}, false},
		{"lost", &CloseError{Code: 1006, Err: io.ErrUnexpectedEOF}, false},
		{"1000 not received", &CloseError{Code: 1000}, false},
		{"other error", io.EOF, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, IsNormalClose(tt.err)) })
	}
}
