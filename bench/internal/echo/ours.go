//go:build !wsbench_noours

package echo

import (
	"context"
	"net/http"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// oursHandler serves EchoPath and SinkPath with the wslua stack, default
// buffer sizes, reading with ReadAppend into a reused buffer. The handler
// returns once the connection is upgraded, serving it from a goroutine of
// its own, so that net/http frees its per-connection state (buffers,
// request, context) instead of keeping it for the connection's lifetime.
func oursHandler(s *Server) http.Handler {
	opts := &handshake.UpgradeOptions{Conn: protocol.Options{ReadLimit: MaxMessage}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sink := r.URL.Path == SinkPath
		if !sink && r.URL.Path != EchoPath {
			http.NotFound(w, r)
			return
		}
		if !s.enter() {
			return
		}
		c, err := handshake.Upgrade(w, r, opts)
		if err != nil {
			s.wg.Done()
			return
		}
		untrack := s.track(closerFunc(c.CloseNow))
		if untrack == nil {
			_ = c.CloseNow()
			s.wg.Done()
			return
		}
		go func() {
			defer s.wg.Done()
			defer untrack()
			defer c.CloseNow()
			oursServe(c, sink)
		}()
	})
}

// oursServe echoes (or acks) messages until the connection ends.
func oursServe(c *protocol.Conn, sink bool) {
	ctx := context.Background()
	var buf []byte
	var err error
	for n := 1; ; n++ {
		var typ protocol.MessageType
		if typ, buf, err = c.ReadAppend(ctx, buf[:0]); err != nil {
			return
		}
		switch {
		case !sink:
			err = c.Write(ctx, typ, buf)
		case n%AckEvery == 0:
			err = c.Write(ctx, protocol.MessageBinary, Ack)
		}
		if err != nil {
			return
		}
	}
}

// OursBuilt reports whether the wslua implementation is compiled in.
const OursBuilt = true
