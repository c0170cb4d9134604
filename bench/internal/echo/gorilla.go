package echo

import (
	"net/http"

	"github.com/gorilla/websocket"
)

// gorillaHandler serves EchoPath and SinkPath with gorilla/websocket, using
// its default buffer sizes.
func gorillaHandler(s *Server) http.Handler {
	up := websocket.Upgrader{}
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
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		untrack := s.track(c.NetConn())
		if untrack == nil {
			_ = c.Close()
			return
		}
		defer untrack()
		defer c.Close()
		c.SetReadLimit(MaxMessage)
		var buf []byte
		for n := 1; ; n++ {
			typ, rd, err := c.NextReader()
			if err != nil {
				return
			}
			if buf, err = AppendAll(buf[:0], rd); err != nil {
				return
			}
			switch {
			case !sink:
				err = c.WriteMessage(typ, buf)
			case n%AckEvery == 0:
				err = c.WriteMessage(websocket.BinaryMessage, Ack)
			}
			if err != nil {
				return
			}
		}
	})
}
