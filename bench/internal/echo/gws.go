package echo

import (
	"net/http"

	"github.com/lxzan/gws"
)

// gwsOption is the configuration of every gws server: default buffers, limits
// raised to MaxMessage, and UTF-8 validation of text messages on (RFC 6455,
// section 8.1; gws leaves it off by default, the other implementations that
// offer it are configured the same way).
func gwsOption() *gws.ServerOption {
	return &gws.ServerOption{
		ReadMaxPayloadSize:  MaxMessage,
		WriteMaxPayloadSize: MaxMessage,
		CheckUtf8Enabled:    true,
	}
}

// gwsEcho sends every message back.
type gwsEcho struct{ gws.BuiltinEventHandler }

// OnMessage echoes m.
func (gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	_ = c.WriteMessage(m.Opcode, m.Bytes())
	_ = m.Close()
}

// gwsSink acknowledges every AckEvery messages of one connection.
type gwsSink struct {
	gws.BuiltinEventHandler
	n int
}

// OnMessage counts m and acks when due.
func (h *gwsSink) OnMessage(c *gws.Conn, m *gws.Message) {
	_ = m.Close()
	h.n++
	if h.n%AckEvery == 0 {
		_ = c.WriteMessage(gws.OpcodeBinary, Ack)
	}
}

// gwsHandler serves EchoPath and SinkPath with lxzan/gws; each connection's
// read loop runs on the handler's goroutine.
func gwsHandler(s *Server) http.Handler {
	echoUp := gws.NewUpgrader(gwsEcho{}, gwsOption())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := echoUp
		switch r.URL.Path {
		case EchoPath:
		case SinkPath:
			// The sink counts per connection: one handler, so one
			// upgrader, per connection.
			up = gws.NewUpgrader(&gwsSink{}, gwsOption())
		default:
			http.NotFound(w, r)
			return
		}
		if !s.enter() {
			return
		}
		defer s.wg.Done()
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		untrack := s.track(c.NetConn())
		if untrack == nil {
			_ = c.NetConn().Close()
			return
		}
		defer untrack()
		c.ReadLoop()
	})
}
