package clients

import (
	"bufio"
	"net"

	"github.com/wslua/wslua/bench/internal/echo"
)

// tcpClient speaks the length-prefixed baseline protocol.
type tcpClient struct {
	c   net.Conn
	br  *bufio.Reader
	w   *echo.TCPWriter
	buf []byte
}

func dialTCP(rawURL string) (Client, error) {
	host, path, err := hostPath(rawURL)
	if err != nil {
		return nil, err
	}
	mode := byte(echo.TCPEcho)
	if path == echo.SinkPath {
		mode = echo.TCPSink
	}
	c, err := net.Dial("tcp", host)
	if err != nil {
		return nil, err
	}
	t := &tcpClient{c: c, br: bufio.NewReaderSize(c, echo.TCPBufferSize), w: echo.NewTCPWriter(c)}
	if _, err := c.Write([]byte{mode}); err != nil {
		_ = c.Close()
		return nil, err
	}
	return t, nil
}

func (t *tcpClient) RoundTrips(n int, _ bool, p []byte) (err error) {
	for range n {
		if err = t.w.WriteMessage(p); err != nil {
			return err
		}
		if t.buf, err = echo.TCPReadMessage(t.br, t.buf); err != nil {
			return err
		}
		if err = check(t.buf, p); err != nil {
			return err
		}
	}
	return nil
}

func (t *tcpClient) Stream(n int, p []byte) (err error) {
	if err = checkStreamCount(n); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		if err = t.w.WriteMessage(p); err != nil {
			return err
		}
		if i%echo.AckEvery == 0 {
			if t.buf, err = echo.TCPReadMessage(t.br, t.buf); err != nil {
				return err
			}
			if err = checkAck(t.buf); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *tcpClient) Close() error { return t.c.Close() }
