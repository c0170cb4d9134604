package clients

import (
	"context"

	"github.com/coder/websocket"

	"github.com/wslua/wslua/bench/internal/echo"
)

// coderClient uses coder/websocket, compression off.
type coderClient struct {
	c   *websocket.Conn
	buf []byte
}

func dialCoder(rawURL string) (Client, error) {
	c, _, err := websocket.Dial(context.Background(), rawURL, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(echo.MaxMessage)
	return &coderClient{c: c}, nil
}

// read reads one message into the reused buffer.
func (k *coderClient) read(ctx context.Context) (err error) {
	_, r, err := k.c.Reader(ctx)
	if err != nil {
		return err
	}
	k.buf, err = echo.AppendAll(k.buf[:0], r)
	return err
}

func (k *coderClient) RoundTrips(n int, text bool, p []byte) error {
	ctx := context.Background()
	typ := websocket.MessageBinary
	if text {
		typ = websocket.MessageText
	}
	for range n {
		if err := k.c.Write(ctx, typ, p); err != nil {
			return err
		}
		if err := k.read(ctx); err != nil {
			return err
		}
		if err := check(k.buf, p); err != nil {
			return err
		}
	}
	return nil
}

func (k *coderClient) Stream(n int, p []byte) error {
	if err := checkStreamCount(n); err != nil {
		return err
	}
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		if err := k.c.Write(ctx, websocket.MessageBinary, p); err != nil {
			return err
		}
		if i%echo.AckEvery == 0 {
			if err := k.read(ctx); err != nil {
				return err
			}
			if err := checkAck(k.buf); err != nil {
				return err
			}
		}
	}
	return nil
}

func (k *coderClient) Close() error { return k.c.CloseNow() }
