package interop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// clientImpl is a WebSocket client library under test.
type clientImpl interface {
	name() string
	// dial connects to url offering subprotocols; the connection goes
	// through a frameTap.
	dial(ctx context.Context, url string, subprotocols []string) (clientConn, error)
	// closeStatus extracts the close frame received from the peer out of
	// an error returned by a read.
	closeStatus(err error) (code int, reason string, ok bool)
}

// clientConn is an open connection of a clientImpl.
type clientConn interface {
	write(ctx context.Context, typ protocol.MessageType, p []byte) error
	// writeParts sends one message through the library's streaming
	// writer, one Write call per part; between, if not nil, is called
	// after the first part.
	writeParts(ctx context.Context, typ protocol.MessageType, parts [][]byte, between func() error) error
	read(ctx context.Context) (protocol.MessageType, []byte, error)
	// ping sends a ping. custom reports whether payload was used (coder
	// sends its own payload and returns once the matching pong arrived).
	ping(ctx context.Context, payload []byte) (custom bool, err error)
	// close performs the closing handshake and returns the code of the
	// server's close frame.
	close(ctx context.Context, code int, reason string) (reply int, err error)
	subprotocol() string
	// abort closes the connection at once; it is safe to call twice.
	abort()
	tap() *frameTap
	controls() *controlLog
}

// controlLog records the payloads of the pings and pongs a client received.
type controlLog struct {
	mu           sync.Mutex
	pings, pongs [][]byte
}

func (l *controlLog) ping(p []byte) {
	l.mu.Lock()
	l.pings = append(l.pings, append([]byte{}, p...))
	l.mu.Unlock()
}

func (l *controlLog) pong(p []byte) {
	l.mu.Lock()
	l.pongs = append(l.pongs, append([]byte{}, p...))
	l.mu.Unlock()
}

func (l *controlLog) get() (pings, pongs [][]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]byte(nil), l.pings...), append([][]byte(nil), l.pongs...)
}

// ---- ours: handshake.Dial + protocol.Conn ----

// oursClient is our client; compression, if not nil, is the
// permessage-deflate policy it offers (DialOptions.Compression).
type oursClient struct {
	compression *protocol.CompressionOptions
}

type oursConn struct {
	c    *protocol.Conn
	t    *frameTap
	ctrl controlLog
}

func (oursClient) name() string { return "ours" }

func (cl oursClient) dial(ctx context.Context, url string, subprotocols []string) (clientConn, error) {
	oc := &oursConn{}
	c, _, err := handshake.Dial(ctx, url, &handshake.DialOptions{
		Subprotocols:   subprotocols,
		Compression:    cl.compression,
		NetDialContext: tapDialer(func(t *frameTap) { oc.t = t }),
		Conn: protocol.Options{
			OnPing:       oc.ctrl.ping,
			OnPong:       oc.ctrl.pong,
			CloseTimeout: 10 * time.Second,
		},
	})
	if err != nil {
		return nil, err
	}
	oc.c = c
	return oc, nil
}

func (oursClient) closeStatus(err error) (int, string, bool) {
	var ce *protocol.CloseError
	if errors.As(err, &ce) && ce.Received {
		return int(ce.Code), ce.Reason, true
	}
	return 0, "", false
}

func (o *oursConn) write(ctx context.Context, typ protocol.MessageType, p []byte) error {
	return o.c.Write(ctx, typ, p)
}

func (o *oursConn) writeParts(ctx context.Context, typ protocol.MessageType, parts [][]byte, between func() error) error {
	w, err := o.c.Writer(ctx, typ)
	if err != nil {
		return err
	}
	return writeAll(w, parts, between)
}

// writeAll writes parts to a message writer, calls between (if not nil)
// after the first part, and closes the writer.
func writeAll(w io.WriteCloser, parts [][]byte, between func() error) error {
	for i, p := range parts {
		if _, err := w.Write(p); err != nil {
			_ = w.Close()
			return err
		}
		if i == 0 && between != nil {
			if err := between(); err != nil {
				_ = w.Close()
				return err
			}
		}
	}
	return w.Close()
}

func (o *oursConn) read(ctx context.Context) (protocol.MessageType, []byte, error) {
	return o.c.Read(ctx)
}

func (o *oursConn) ping(ctx context.Context, payload []byte) (bool, error) {
	return true, o.c.Ping(ctx, payload)
}

func (o *oursConn) close(ctx context.Context, code int, reason string) (int, error) {
	if err := o.c.Close(protocol.StatusCode(code), reason); err != nil {
		return 0, err
	}
	_, _, err := o.c.Read(ctx)
	if c, _, ok := (oursClient{}).closeStatus(err); ok {
		return c, nil
	}
	return 0, fmt.Errorf("no close frame from the server: %w", err)
}

func (o *oursConn) subprotocol() string   { return o.c.Subprotocol() }
func (o *oursConn) abort()                { _ = o.c.CloseNow() }
func (o *oursConn) tap() *frameTap        { return o.t }
func (o *oursConn) controls() *controlLog { return &o.ctrl }

// ---- gorilla/websocket ----

// gorillaClient is gorilla's client; compression sets EnableCompression.
type gorillaClient struct {
	compression bool
}

type gorillaConn struct {
	c    *gorilla.Conn
	t    *frameTap
	ctrl controlLog
}

func (gorillaClient) name() string { return "gorilla" }

func (cl gorillaClient) dial(ctx context.Context, url string, subprotocols []string) (clientConn, error) {
	gc := &gorillaConn{}
	d := gorilla.Dialer{
		NetDialContext:    tapDialer(func(t *frameTap) { gc.t = t }),
		Subprotocols:      subprotocols,
		HandshakeTimeout:  opTimeout,
		EnableCompression: cl.compression,
	}
	c, resp, err := d.DialContext(ctx, url, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	gc.c = c
	c.SetPingHandler(func(s string) error {
		gc.ctrl.ping([]byte(s))
		err := c.WriteControl(gorilla.PongMessage, []byte(s), time.Now().Add(opTimeout))
		if errors.Is(err, gorilla.ErrCloseSent) {
			return nil
		}
		return err
	})
	c.SetPongHandler(func(s string) error {
		gc.ctrl.pong([]byte(s))
		return nil
	})
	return gc, nil
}

func (gorillaClient) closeStatus(err error) (int, string, bool) {
	var ce *gorilla.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text, true
	}
	return 0, "", false
}

func deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(opTimeout)
}

func (g *gorillaConn) write(ctx context.Context, typ protocol.MessageType, p []byte) error {
	_ = g.c.SetWriteDeadline(deadline(ctx))
	return g.c.WriteMessage(int(typ), p)
}

func (g *gorillaConn) writeParts(ctx context.Context, typ protocol.MessageType, parts [][]byte, between func() error) error {
	_ = g.c.SetWriteDeadline(deadline(ctx))
	w, err := g.c.NextWriter(int(typ))
	if err != nil {
		return err
	}
	return writeAll(w, parts, between)
}

func (g *gorillaConn) read(ctx context.Context) (protocol.MessageType, []byte, error) {
	_ = g.c.SetReadDeadline(deadline(ctx))
	typ, p, err := g.c.ReadMessage()
	return protocol.MessageType(typ), p, err
}

func (g *gorillaConn) ping(ctx context.Context, payload []byte) (bool, error) {
	return true, g.c.WriteControl(gorilla.PingMessage, payload, deadline(ctx))
}

func (g *gorillaConn) close(ctx context.Context, code int, reason string) (int, error) {
	defer g.c.Close()
	if err := g.c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(code, reason), deadline(ctx)); err != nil {
		return 0, err
	}
	_ = g.c.SetReadDeadline(deadline(ctx))
	for {
		if _, _, err := g.c.NextReader(); err != nil {
			if c, _, ok := (gorillaClient{}).closeStatus(err); ok {
				return c, nil
			}
			return 0, fmt.Errorf("no close frame from the server: %w", err)
		}
	}
}

func (g *gorillaConn) subprotocol() string   { return g.c.Subprotocol() }
func (g *gorillaConn) abort()                { _ = g.c.Close() }
func (g *gorillaConn) tap() *frameTap        { return g.t }
func (g *gorillaConn) controls() *controlLog { return &g.ctrl }

// ---- coder/websocket ----

// coderClient is coder's client; mode is its CompressionMode (the zero
// value, CompressionDisabled, offers no compression).
type coderClient struct {
	mode coder.CompressionMode
}

// coderConn reads in a goroutine of its own: coder's Ping and Close rely on
// a concurrent reader to see the pong and the close reply.
type coderConn struct {
	c     *coder.Conn
	tr    *http.Transport
	t     *frameTap
	ctrl  controlLog
	msgs  chan coderMsg
	done  chan struct{}
	once  sync.Once
	ended chan struct{}
}

type coderMsg struct {
	typ protocol.MessageType
	p   []byte
	err error
}

func (coderClient) name() string { return "coder" }

func (cl coderClient) dial(ctx context.Context, url string, subprotocols []string) (clientConn, error) {
	cc := &coderConn{msgs: make(chan coderMsg), done: make(chan struct{}), ended: make(chan struct{})}
	cc.tr = &http.Transport{DialContext: tapDialer(func(t *frameTap) { cc.t = t })}
	c, resp, err := coder.Dial(ctx, url, &coder.DialOptions{
		HTTPClient:      &http.Client{Transport: cc.tr},
		Subprotocols:    subprotocols,
		CompressionMode: cl.mode,
		OnPingReceived: func(_ context.Context, p []byte) bool {
			cc.ctrl.ping(p)
			return true
		},
		OnPongReceived: func(_ context.Context, p []byte) { cc.ctrl.pong(p) },
	})
	if resp != nil && resp.Body != nil && err != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		cc.tr.CloseIdleConnections()
		return nil, err
	}
	cc.c = c
	c.SetReadLimit(64 << 20)
	go cc.readLoop()
	return cc, nil
}

func (cc *coderConn) readLoop() {
	defer close(cc.ended)
	for {
		typ, p, err := cc.c.Read(context.Background())
		select {
		case cc.msgs <- coderMsg{typ: protocol.MessageType(typ), p: p, err: err}:
		case <-cc.done:
			return
		}
		if err != nil {
			return
		}
	}
}

func (coderClient) closeStatus(err error) (int, string, bool) {
	var ce coder.CloseError
	if errors.As(err, &ce) {
		return int(ce.Code), ce.Reason, true
	}
	return 0, "", false
}

func (cc *coderConn) write(ctx context.Context, typ protocol.MessageType, p []byte) error {
	return cc.c.Write(ctx, coder.MessageType(typ), p)
}

func (cc *coderConn) writeParts(ctx context.Context, typ protocol.MessageType, parts [][]byte, between func() error) error {
	w, err := cc.c.Writer(ctx, coder.MessageType(typ))
	if err != nil {
		return err
	}
	return writeAll(w, parts, between)
}

func (cc *coderConn) read(ctx context.Context) (protocol.MessageType, []byte, error) {
	select {
	case m := <-cc.msgs:
		return m.typ, m.p, m.err
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
}

func (cc *coderConn) ping(ctx context.Context, _ []byte) (bool, error) {
	return false, cc.c.Ping(ctx)
}

func (cc *coderConn) close(_ context.Context, code int, reason string) (int, error) {
	// coder's Close returns nil only when the server's close frame carried
	// the same code.
	err := cc.c.Close(coder.StatusCode(code), reason)
	cc.stop()
	if err != nil {
		return 0, err
	}
	return code, nil
}

func (cc *coderConn) stop() {
	cc.once.Do(func() {
		close(cc.done)
		_ = cc.c.CloseNow()
		<-cc.ended
		cc.tr.CloseIdleConnections()
	})
}

func (cc *coderConn) subprotocol() string   { return cc.c.Subprotocol() }
func (cc *coderConn) abort()                { cc.stop() }
func (cc *coderConn) tap() *frameTap        { return cc.t }
func (cc *coderConn) controls() *controlLog { return &cc.ctrl }
