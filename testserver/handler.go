package testserver

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// ConnHandler is the scripted WebSocket http.Handler. It tracks every
// WebSocket it accepts so that Close can end them all.
type ConnHandler struct {
	opts Options

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	conns  map[*protocol.Conn]struct{}
	wg     sync.WaitGroup // one per ServeHTTP call past the route check, held by its session
}

// Handler returns a new scripted WebSocket handler (see the package doc for
// its behaviours). Its sessions end only when their clients leave (a /stall
// session that got a byte, never); use NewHandler when the handler must be
// closed.
func Handler(opts *Options) http.Handler { return NewHandler(opts) }

// NewHandler returns a new scripted WebSocket handler. opts may be nil.
func NewHandler(opts *Options) *ConnHandler {
	h := &ConnHandler{conns: make(map[*protocol.Conn]struct{})}
	if opts != nil {
		h.opts = *opts
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h
}

// ServeHTTP answers a WebSocket upgrade request on one of the scripted paths
// and starts the script on the connection, in a goroutine of its own that
// runs until the connection ends: ServeHTTP returns once the connection is
// upgraded, so that net/http frees its per-connection state (buffers,
// request, context) at once rather than when the session ends. Over HTTP/2
// (RFC 8441) it returns when the session ends: the WebSocket is a stream of
// this request.
func (h *ConnHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := routes[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	p, err := rt(h, r)
	if err != nil {
		http.Error(w, "testserver: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !h.enter() {
		http.Error(w, "testserver: shutting down", http.StatusServiceUnavailable)
		return
	}
	uo := &handshake.UpgradeOptions{
		CheckOrigin: func(*http.Request) bool { return true },
		Conn: protocol.Options{
			Role:            protocol.RoleServer,
			ReadLimit:       p.limit,
			ReadBufferSize:  h.opts.ReadBufferSize,
			WriteBufferSize: h.opts.WriteBufferSize,
			CloseTimeout:    h.opts.CloseTimeout,
		},
	}
	if p.subprotocols {
		uo.Subprotocols = h.opts.subprotocols()
	}
	if !h.opts.DisableCompression {
		uo.Compression = h.opts.Compression
		if uo.Compression == nil {
			uo.Compression = &protocol.CompressionOptions{}
		}
		// A test target exercises its clients' context-takeover inflating.
		uo.CompressionContextTakeover = true
	}
	c, err := handshake.Upgrade(w, r, uo)
	if err != nil {
		h.wg.Done()
		return // Upgrade has answered the client
	}
	s := &session{h: h, ctx: h.ctx, c: c, nc: c.NetConn(), path: r.URL.Path, query: r.URL.RawQuery}
	go func() {
		defer h.wg.Done()
		var err error
		if h.track(c) {
			err = p.run(s)
			h.untrack(c)
		} else {
			err = errShutdown // Close began during the handshake
		}
		s.finish(err)
		_ = c.CloseNow()
	}()
	<-handshake.Done(c) // HTTP/2: the stream lives as long as this call
}

// errShutdown ends a session accepted while the handler was closing.
var errShutdown = errors.New("testserver: shutting down")

// enter registers a ServeHTTP call; it fails once Close has begun.
func (h *ConnHandler) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	return true
}

func (h *ConnHandler) track(c *protocol.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	return true
}

func (h *ConnHandler) untrack(c *protocol.Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

// Close closes every open WebSocket (abruptly: the TCP connection is
// closed without a close handshake), refuses new upgrade requests with 503,
// and returns once every session handled by h has ended. It is safe to call
// more than once.
func (h *ConnHandler) Close() {
	h.mu.Lock()
	h.closed = true
	conns := make([]*protocol.Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	h.cancel()
	for _, c := range conns {
		_ = c.CloseNow()
	}
	h.wg.Wait()
}

// ActiveConns returns the number of WebSocket sessions currently open.
func (h *ConnHandler) ActiveConns() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// finish reports the end of the session to Options.OnClose and Logf.
func (s *session) finish(err error) {
	ev := CloseEvent{
		Path:  s.path,
		Query: s.query,
		Code:  protocol.StatusAbnormalClosure,
		Err:   err,
	}
	var ce *protocol.CloseError
	switch {
	case s.gotClose:
		ev.Code, ev.Reason = s.closeCode, s.closeReason
	case errors.As(err, &ce) && ce.Received:
		ev.Code, ev.Reason = ce.Code, ce.Reason
	}
	if s.h.opts.OnClose != nil {
		s.h.opts.OnClose(ev)
	}
	if s.h.opts.Logf != nil && err != nil && !(errors.As(err, &ce) && ce.Received) &&
		!errors.Is(err, net.ErrClosed) && s.ctx.Err() == nil {
		s.h.opts.Logf("testserver: %s?%s: %v", ev.Path, ev.Query, err)
	}
}
