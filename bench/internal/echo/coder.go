package echo

import (
	"context"
	"net/http"

	"github.com/coder/websocket"
)

// coderHandler serves EchoPath and SinkPath with coder/websocket, compression
// off (the other implementations negotiate none either).
func coderHandler(s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sink := r.URL.Path == SinkPath
		if !sink && r.URL.Path != EchoPath {
			http.NotFound(w, r)
			return
		}
		if !s.enter() {
			return
		}
		defer s.wg.Done()
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			return
		}
		untrack := s.track(closerFunc(c.CloseNow))
		if untrack == nil {
			_ = c.CloseNow()
			return
		}
		defer untrack()
		defer c.CloseNow()
		c.SetReadLimit(MaxMessage)
		ctx := context.Background()
		var buf []byte
		for n := 1; ; n++ {
			typ, rd, err := c.Reader(ctx)
			if err != nil {
				return
			}
			if buf, err = AppendAll(buf[:0], rd); err != nil {
				return
			}
			switch {
			case !sink:
				err = c.Write(ctx, typ, buf)
			case n%AckEvery == 0:
				err = c.Write(ctx, websocket.MessageBinary, Ack)
			}
			if err != nil {
				return
			}
		}
	})
}

// closerFunc adapts a close function to io.Closer.
type closerFunc func() error

// Close calls f.
func (f closerFunc) Close() error { return f() }
