package clients

import (
	"github.com/gorilla/websocket"

	"github.com/wslua/wslua/bench/internal/echo"
)

// gorillaClient uses gorilla/websocket with its default dialer.
type gorillaClient struct {
	c   *websocket.Conn
	buf []byte
}

func dialGorilla(rawURL string) (Client, error) {
	c, _, err := websocket.DefaultDialer.Dial(rawURL, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(echo.MaxMessage)
	return &gorillaClient{c: c}, nil
}

// read reads one message into the reused buffer.
func (g *gorillaClient) read() (err error) {
	_, r, err := g.c.NextReader()
	if err != nil {
		return err
	}
	g.buf, err = echo.AppendAll(g.buf[:0], r)
	return err
}

func (g *gorillaClient) RoundTrips(n int, text bool, p []byte) error {
	typ := websocket.BinaryMessage
	if text {
		typ = websocket.TextMessage
	}
	for range n {
		if err := g.c.WriteMessage(typ, p); err != nil {
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

func (g *gorillaClient) Stream(n int, p []byte) error {
	if err := checkStreamCount(n); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		if err := g.c.WriteMessage(websocket.BinaryMessage, p); err != nil {
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

func (g *gorillaClient) Close() error { return g.c.Close() }
