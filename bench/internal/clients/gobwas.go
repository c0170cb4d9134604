package clients

import (
	"bufio"
	"context"
	"net"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/wslua/wslua/bench/internal/echo"
)

// gobwasClient uses gobwas/ws's dialer, wsutil's frame reader (UTF-8 checks
// on) and wsutil.WriteMessage into a bufio.Writer.
type gobwasClient struct {
	c       net.Conn
	bw      *bufio.Writer
	rd      *wsutil.Reader
	control wsutil.FrameHandlerFunc
	buf     []byte
}

func dialGobwas(rawURL string) (Client, error) {
	c, br, _, err := ws.Dial(context.Background(), rawURL)
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReaderSize(c, echo.GobwasBufferSize)
	}
	g := &gobwasClient{
		c:       c,
		bw:      bufio.NewWriterSize(c, echo.GobwasBufferSize),
		control: wsutil.ControlFrameHandler(c, ws.StateClientSide),
	}
	g.rd = &wsutil.Reader{
		Source:         br,
		State:          ws.StateClientSide,
		CheckUTF8:      true,
		MaxMessageSize: echo.MaxMessage,
		OnIntermediate: g.control,
	}
	return g, nil
}

// read reads one data message into the reused buffer.
func (g *gobwasClient) read() error {
	for {
		hdr, err := g.rd.NextFrame()
		if err != nil {
			return err
		}
		if hdr.OpCode.IsControl() {
			if err := g.control(hdr, g.rd); err != nil {
				return err
			}
			continue
		}
		g.buf, err = echo.AppendAll(g.buf[:0], g.rd)
		return err
	}
}

func (g *gobwasClient) RoundTrips(n int, text bool, p []byte) error {
	op := ws.OpBinary
	if text {
		op = ws.OpText
	}
	for range n {
		if err := echo.GobwasWrite(g.bw, ws.StateClientSide, op, p); err != nil {
			return err
		}
		if err := g.read(); err != nil {
			return err
		}
		if err := check(g.buf, p); err != nil {
			return err
		}
	}
	return nil
}

func (g *gobwasClient) Stream(n int, p []byte) error {
	if err := checkStreamCount(n); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		if err := echo.GobwasWrite(g.bw, ws.StateClientSide, ws.OpBinary, p); err != nil {
			return err
		}
		if i%echo.AckEvery == 0 {
			if err := g.read(); err != nil {
				return err
			}
			if err := checkAck(g.buf); err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *gobwasClient) Close() error { return g.c.Close() }
