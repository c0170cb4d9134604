package echo

import (
	"bufio"
	"net"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// GobwasBufferSize is the size of the bufio buffers around gobwas
// connections (gobwas leaves buffering to its user; 4 KiB like the others'
// defaults).
const GobwasBufferSize = 4096

// serveGobwas upgrades a raw connection with gobwas/ws's zero-copy upgrader
// and serves it with wsutil's frame reader, UTF-8 checks on.
func (s *Server) serveGobwas(c net.Conn) {
	sink := false
	up := ws.Upgrader{
		OnRequest: func(uri []byte) error {
			switch string(uri) {
			case EchoPath:
			case SinkPath:
				sink = true
			default:
				return ws.RejectConnectionError(ws.RejectionStatus(404))
			}
			return nil
		},
	}
	if _, err := up.Upgrade(c); err != nil {
		return
	}
	br := bufio.NewReaderSize(c, GobwasBufferSize)
	bw := bufio.NewWriterSize(c, GobwasBufferSize)
	control := wsutil.ControlFrameHandler(c, ws.StateServerSide)
	rd := &wsutil.Reader{
		Source:         br,
		State:          ws.StateServerSide,
		CheckUTF8:      true,
		MaxMessageSize: MaxMessage,
		OnIntermediate: control,
	}
	var buf []byte
	for n := 1; ; {
		hdr, err := rd.NextFrame()
		if err != nil {
			return
		}
		if hdr.OpCode.IsControl() {
			if err := control(hdr, rd); err != nil {
				return
			}
			continue
		}
		if buf, err = AppendAll(buf[:0], rd); err != nil {
			return
		}
		switch {
		case !sink:
			err = GobwasWrite(bw, ws.StateServerSide, hdr.OpCode, buf)
		case n%AckEvery == 0:
			err = GobwasWrite(bw, ws.StateServerSide, ws.OpBinary, Ack)
		}
		if err != nil {
			return
		}
		n++
	}
}

// GobwasWrite writes one unfragmented message to bw (masked if state is the
// client side, on a pooled copy as wsutil does) and flushes it.
func GobwasWrite(bw *bufio.Writer, state ws.State, op ws.OpCode, p []byte) error {
	if err := wsutil.WriteMessage(bw, state, op, p); err != nil {
		return err
	}
	return bw.Flush()
}
