package interop

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// session is what a contract server's handler needs from a request.
type session struct {
	path   string
	id     string
	parts  int
	data   string
	code   int
	reason string
}

func parseSession(r *http.Request) session {
	q := r.URL.Query()
	s := session{path: r.URL.Path, id: q.Get("id"), data: q.Get("data"), reason: q.Get("reason"), parts: 1}
	if n, err := strconv.Atoi(q.Get("parts")); err == nil && n > 0 && n <= 1000 {
		s.parts = n
	}
	s.code = 1000
	if n, err := strconv.Atoi(q.Get("code")); err == nil {
		s.code = n
	}
	return s
}

// inproc is an httptest server on 127.0.0.1 whose handlers hijack their
// connections: it tracks them so that the cleanup closes every WebSocket
// and waits for every handler (no goroutine outlives the test).
type inproc struct {
	srv    *httptest.Server
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
	conns  map[*func()]struct{}
}

// startInproc serves handle; handle calls track with a function that closes
// its WebSocket at once, and the returned function when it is done.
func startInproc(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, track func(closeNow func()) (untrack func()))) string {
	s := &inproc{conns: make(map[*func()]struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		defer s.wg.Done()
		handle(w, r, s.track)
	}))
	t.Cleanup(func() {
		s.mu.Lock()
		s.closed = true
		for f := range s.conns {
			(*f)()
		}
		s.mu.Unlock()
		s.wg.Wait()
		s.srv.Close()
	})
	return "ws" + strings.TrimPrefix(s.srv.URL, "http")
}

func (s *inproc) track(closeNow func()) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &closeNow
	if s.closed {
		closeNow()
	}
	s.conns[f] = struct{}{}
	return func() {
		s.mu.Lock()
		delete(s.conns, f)
		s.mu.Unlock()
	}
}

// ---- gorilla/websocket server ----

func newGorillaTarget(t *testing.T) *target { return newGorillaTargetWith(t, false) }

// newGorillaTargetWith starts the gorilla server, with EnableCompression
// set to compression.
func newGorillaTargetWith(t *testing.T, compression bool) *target {
	log := newCloseLog()
	up := gorilla.Upgrader{
		Subprotocols:      contractSubprotocols,
		CheckOrigin:       func(*http.Request) bool { return true },
		EnableCompression: compression,
	}
	base := startInproc(t, func(w http.ResponseWriter, r *http.Request, track func(func()) func()) {
		s := parseSession(r)
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		defer track(func() { _ = c.Close() })()
		report := func(err error) {
			rep := closeReport{ID: s.id, Code: 1006}
			var ce *gorilla.CloseError
			if errors.As(err, &ce) {
				rep.Code, rep.Reason = ce.Code, ce.Text
			}
			log.add(rep)
		}
		switch s.path {
		case "/close":
			_ = c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(s.code, s.reason), time.Now().Add(opTimeout))
			for {
				if _, _, err := c.NextReader(); err != nil {
					report(err)
					return
				}
			}
		case "/ping":
			var once sync.Once
			c.SetPongHandler(func(p string) error {
				var err error
				once.Do(func() { err = c.WriteMessage(gorilla.TextMessage, []byte("pong:"+p)) })
				return err
			})
			_ = c.WriteControl(gorilla.PingMessage, []byte(s.data), time.Now().Add(opTimeout))
		case "/proto":
			_ = c.WriteMessage(gorilla.TextMessage, []byte("proto:"+c.Subprotocol()))
		}
		for {
			typ, rd, err := c.NextReader()
			if err != nil {
				report(err)
				return
			}
			p, err := io.ReadAll(rd)
			if err != nil {
				report(err)
				return
			}
			if s.path != "/fragecho" {
				err = c.WriteMessage(typ, p)
			} else {
				err = gorillaWriteParts(c, typ, splitParts(p, s.parts))
			}
			if err != nil {
				report(err)
				return
			}
		}
	})
	return &target{name: "gorilla", kind: kindContract, base: base, customPing: true, closes: log}
}

// gorillaWriteParts sends one message through NextWriter, one Write per part.
func gorillaWriteParts(c *gorilla.Conn, typ int, parts [][]byte) error {
	w, err := c.NextWriter(typ)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return w.Close()
}

// ---- coder/websocket server ----

func newCoderTarget(t *testing.T) *target { return newCoderTargetWith(t, coder.CompressionDisabled) }

// newCoderTargetWith starts the coder server with the given CompressionMode.
func newCoderTargetWith(t *testing.T, mode coder.CompressionMode) *target {
	log := newCloseLog()
	base := startInproc(t, func(w http.ResponseWriter, r *http.Request, track func(func()) func()) {
		s := parseSession(r)
		pongs := make(chan []byte, 1)
		c, err := coder.Accept(w, r, &coder.AcceptOptions{
			Subprotocols:       contractSubprotocols,
			InsecureSkipVerify: true,
			CompressionMode:    mode,
			OnPongReceived: func(_ context.Context, p []byte) {
				select {
				case pongs <- append([]byte{}, p...):
				default:
				}
			},
		})
		if err != nil {
			return
		}
		defer c.CloseNow()
		defer track(func() { _ = c.CloseNow() })()
		c.SetReadLimit(64 << 20)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		report := func(err error) {
			rep := closeReport{ID: s.id, Code: 1006}
			var ce coder.CloseError
			if errors.As(err, &ce) {
				rep.Code, rep.Reason = int(ce.Code), ce.Reason
			}
			log.add(rep)
		}
		var pinger sync.WaitGroup
		defer pinger.Wait()
		defer cancel()
		switch s.path {
		case "/close":
			// coder's Close returns nil only when the client's close frame
			// carried the same code, so nil is a report of that code.
			if err := c.Close(coder.StatusCode(s.code), s.reason); err != nil {
				report(err)
			} else {
				log.add(closeReport{ID: s.id, Code: s.code})
			}
			return
		case "/ping":
			// coder sends its own ping payload and needs a concurrent
			// reader (the echo loop below) to see the pong.
			pinger.Go(func() {
				if c.Ping(ctx) != nil {
					return
				}
				select {
				case p := <-pongs:
					_ = c.Write(ctx, coder.MessageText, append([]byte("pong:"), p...))
				case <-ctx.Done():
				}
			})
		case "/proto":
			_ = c.Write(ctx, coder.MessageText, []byte("proto:"+c.Subprotocol()))
		}
		for {
			typ, p, err := c.Read(ctx)
			if err != nil {
				report(err)
				return
			}
			if s.path != "/fragecho" {
				err = c.Write(ctx, typ, p)
			} else {
				err = coderWriteParts(ctx, c, typ, splitParts(p, s.parts))
			}
			if err != nil {
				report(err)
				return
			}
		}
	})
	return &target{name: "coder", kind: kindContract, base: base, customPing: false, closes: log}
}

// coderWriteParts sends one message through Writer, one Write per part.
func coderWriteParts(ctx context.Context, c *coder.Conn, typ coder.MessageType, parts [][]byte) error {
	w, err := c.Writer(ctx, typ)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return w.Close()
}

// ---- our handshake.Upgrade server, speaking the same contract ----

func newUpgradeTarget(t *testing.T) *target {
	log := newCloseLog()
	base := startInproc(t, func(w http.ResponseWriter, r *http.Request, track func(func()) func()) {
		s := parseSession(r)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var c *protocol.Conn
		var once sync.Once
		opts := &handshake.UpgradeOptions{
			Subprotocols: contractSubprotocols,
			Conn: protocol.Options{
				ReadLimit: 64 << 20,
				// OnPong runs on the reading goroutine, after Upgrade
				// returned: c is set.
				OnPong: func(p []byte) {
					if s.path == "/ping" {
						once.Do(func() { _ = c.Write(ctx, protocol.MessageText, append([]byte("pong:"), p...)) })
					}
				},
			},
		}
		c, err := handshake.Upgrade(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		defer track(func() { _ = c.CloseNow() })()
		report := func(err error) {
			rep := closeReport{ID: s.id, Code: 1006}
			var ce *protocol.CloseError
			if errors.As(err, &ce) && ce.Received {
				rep.Code, rep.Reason = int(ce.Code), ce.Reason
			}
			log.add(rep)
		}
		switch s.path {
		case "/close":
			if err := c.Close(protocol.StatusCode(s.code), s.reason); err != nil {
				report(err)
				return
			}
			_, _, err := c.Read(ctx)
			report(err)
			return
		case "/ping":
			_ = c.Ping(ctx, []byte(s.data))
		case "/proto":
			_ = c.Write(ctx, protocol.MessageText, []byte("proto:"+c.Subprotocol()))
		}
		var buf []byte
		for {
			typ, p, err := c.ReadAppend(ctx, buf[:0])
			if err != nil {
				report(err)
				return
			}
			buf = p
			if s.path != "/fragecho" {
				err = c.Write(ctx, typ, p)
			} else {
				err = oursWriteParts(ctx, c, typ, splitParts(p, s.parts))
			}
			if err != nil {
				report(err)
				return
			}
		}
	})
	return &target{name: "upgrade", kind: kindContract, base: base, customPing: true, closes: log}
}

// oursWriteParts sends one message through Conn.Writer, one Write per part.
func oursWriteParts(ctx context.Context, c *protocol.Conn, typ protocol.MessageType, parts [][]byte) error {
	w, err := c.Writer(ctx, typ)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			_ = w.Close()
			return err
		}
	}
	return w.Close()
}
