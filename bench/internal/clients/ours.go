//go:build !wsbench_noours

package clients

import (
	"context"

	"github.com/wslua/wslua/bench/internal/echo"
	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// oursClient uses the wslua stack: handshake.Dial, Write and ReadAppend into
// a reused buffer.
type oursClient struct {
	c   *protocol.Conn
	buf []byte
}

func dialOurs(rawURL string) (Client, error) {
	c, _, err := handshake.Dial(context.Background(), rawURL, &handshake.DialOptions{
		Conn: protocol.Options{ReadLimit: echo.MaxMessage},
	})
	if err != nil {
		return nil, err
	}
	return &oursClient{c: c}, nil
}

func (o *oursClient) RoundTrips(n int, text bool, p []byte) (err error) {
	ctx := context.Background()
	typ := protocol.MessageBinary
	if text {
		typ = protocol.MessageText
	}
	for range n {
		if err = o.c.Write(ctx, typ, p); err != nil {
			return err
		}
		if _, o.buf, err = o.c.ReadAppend(ctx, o.buf[:0]); err != nil {
			return err
		}
		if err = check(o.buf, p); err != nil {
			return err
		}
	}
	return nil
}

func (o *oursClient) Stream(n int, p []byte) (err error) {
	if err = checkStreamCount(n); err != nil {
		return err
	}
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		if err = o.c.Write(ctx, protocol.MessageBinary, p); err != nil {
			return err
		}
		if i%echo.AckEvery == 0 {
			if _, o.buf, err = o.c.ReadAppend(ctx, o.buf[:0]); err != nil {
				return err
			}
			if err = checkAck(o.buf); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *oursClient) Close() error { return o.c.CloseNow() }
