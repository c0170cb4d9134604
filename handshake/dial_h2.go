package handshake

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// HTTP2Mode selects whether Dial opens the WebSocket as a stream of an
// HTTP/2 connection (RFC 8441) instead of over HTTP/1.1.
type HTTP2Mode int

const (
	// HTTP2Off dials over HTTP/1.1 only (the default).
	HTTP2Off HTTP2Mode = iota
	// HTTP2Prefer opens the WebSocket over HTTP/2 when the server supports
	// it, and otherwise over HTTP/1.1: when TLS does not select h2, when the
	// server's first SETTINGS frame does not enable extended CONNECT, or
	// when it answers the extended CONNECT with a status other than 2xx.
	// ws:// URLs always use HTTP/1.1.
	HTTP2Prefer
	// HTTP2Require opens the WebSocket over HTTP/2 or fails, with an error
	// that says which of the cases above happened. It needs a wss:// URL.
	HTTP2Require
)

// String returns the mode's name.
func (m HTTP2Mode) String() string {
	switch m {
	case HTTP2Off:
		return "off"
	case HTTP2Prefer:
		return "prefer"
	case HTTP2Require:
		return "require"
	}
	return fmt.Sprintf("HTTP2Mode(%d)", int(m))
}

// Why an HTTP/2 dial did not open a stream; the HTTP/1.1 fallback (or
// the HTTP2Require error) says which.
var (
	// ErrNoHTTP2 reports a server that did not select h2 in TLS ALPN.
	ErrNoHTTP2 = errors.New("server does not speak HTTP/2 (TLS ALPN did not select h2)")
	// ErrNoExtendedConnect reports an HTTP/2 server whose SETTINGS do not
	// enable extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441).
	ErrNoExtendedConnect = errors.New("HTTP/2 server does not enable extended CONNECT (RFC 8441)")
	// ErrStreamRefused reports an HTTP/2 server that answered the extended
	// CONNECT with a status other than 2xx (the HandshakeError's
	// StatusCode holds it).
	ErrStreamRefused = errors.New("HTTP/2 server refused the WebSocket stream")
)

// HTTP2Pool holds the HTTP/2 connections that dials with HTTP2 set share:
// WebSockets to the same server (host and port, TLS server name, the same
// *tls.Config pointer or nil, and proxy) are opened as streams of one
// connection, and a new connection is made
// only when the server's limit on concurrent streams is reached. A
// connection closes itself after IdleTimeout without streams. The zero
// value is ready to use.
type HTTP2Pool struct {
	// IdleTimeout is how long a connection without WebSockets stays open.
	// 0 means DefaultHTTP2IdleTimeout.
	IdleTimeout time.Duration

	mu      sync.Mutex
	entries map[poolKey]*poolEntry
	tr      *http2.Transport
}

// streamReceiveWindow is the HTTP/2 flow-control window of each WebSocket
// stream a client opens: the most a server can send ahead of our reads.
const streamReceiveWindow = 1 << 20

// DefaultHTTP2IdleTimeout is the IdleTimeout of a zero HTTP2Pool.
const DefaultHTTP2IdleTimeout = 30 * time.Second

// noStreamMemory is how long a pool remembers that a server did not offer
// WebSockets over HTTP/2, so that HTTP2Prefer dials go straight to
// HTTP/1.1 meanwhile.
const noStreamMemory = time.Minute

// DefaultHTTP2Pool is the pool of dials whose DialOptions.HTTP2Pool is nil.
var DefaultHTTP2Pool = &HTTP2Pool{}

// poolKey identifies the dials that may share a connection.
type poolKey struct {
	addr       string
	serverName string
	tls        *tls.Config // the caller's configuration, by identity
	proxy      string
}

// pooledConn is one HTTP/2 connection of a pool.
type pooledConn struct {
	cc           *http2.ClientConn
	laddr, raddr net.Addr // of the TLS connection under cc
}

// poolEntry is the pool's state for one key.
type poolEntry struct {
	conns    []*pooledConn
	dialing  chan struct{} // non-nil while a dial for this key runs; closed when it ends
	noStream error         // why the server offered no stream, until noStreamUntil
	until    time.Time
}

// CloseIdle closes the pool's connections that carry no WebSocket.
func (p *HTTP2Pool) CloseIdle() {
	p.mu.Lock()
	var idle []*http2.ClientConn
	for _, e := range p.entries {
		kept := e.conns[:0]
		for _, pc := range e.conns {
			if st := pc.cc.State(); st.StreamsActive == 0 && st.StreamsReserved == 0 && st.StreamsPending == 0 {
				idle = append(idle, pc.cc)
			} else {
				kept = append(kept, pc)
			}
		}
		e.conns = kept
	}
	p.mu.Unlock()
	for _, cc := range idle {
		_ = cc.Close()
	}
}

// Close closes every connection of the pool, ending the WebSockets they
// carry. The pool stays usable: later dials open new connections.
func (p *HTTP2Pool) Close() {
	p.mu.Lock()
	var all []*http2.ClientConn
	for _, e := range p.entries {
		for _, pc := range e.conns {
			all = append(all, pc.cc)
		}
		e.conns = nil
	}
	p.mu.Unlock()
	for _, cc := range all {
		_ = cc.Close()
	}
}

// transport returns the http2.Transport the pool makes its connections
// with.
func (p *HTTP2Pool) transport() *http2.Transport {
	if p.tr == nil {
		idle := p.IdleTimeout
		if idle <= 0 {
			idle = DefaultHTTP2IdleTimeout
		}
		// The stream window bounds what a server can make us buffer per
		// WebSocket beyond what Read consumed (x/net's default is 4 MiB);
		// it is set through a net/http Transport, the only way x/net takes
		// it. DisableCompression: no Accept-Encoding on a WebSocket request.
		t1 := &http.Transport{HTTP2: &http.HTTP2Config{MaxReceiveBufferPerStream: streamReceiveWindow}}
		tr, err := http2.ConfigureTransports(t1)
		if err != nil {
			tr = &http2.Transport{}
		}
		tr.IdleConnTimeout = idle
		tr.DisableCompression = true
		p.tr = tr
	}
	return p.tr
}

// sweepLocked forgets the entries that hold nothing: no connection, no
// dial under way, no refusal still remembered. p.mu is held.
func (p *HTTP2Pool) sweepLocked() {
	now := time.Now()
	for k, e := range p.entries {
		if e.dialing != nil || (e.noStream != nil && now.Before(e.until)) {
			continue
		}
		live := false
		for _, pc := range e.conns {
			if st := pc.cc.State(); !st.Closed {
				live = true
				break
			}
		}
		if !live {
			delete(p.entries, k)
		}
	}
}

// reserve returns a connection of e with a stream reserved, or nil. It
// drops closed connections. p.mu is held.
func (e *poolEntry) reserve() *pooledConn {
	kept := e.conns[:0]
	var found *pooledConn
	for _, pc := range e.conns {
		if st := pc.cc.State(); st.Closed || st.Closing {
			continue // a full connection is kept: its streams end
		}
		kept = append(kept, pc)
		if found == nil && pc.cc.ReserveNewRequest() {
			found = pc
		}
	}
	clear(e.conns[len(kept):])
	e.conns = kept
	return found
}

// acquire returns an HTTP/2 connection to the server of key with a stream
// reserved, dialing one if needed. When the dial's TLS handshake does not
// select h2, it returns that connection (tc, over raw) instead, for an
// HTTP/1.1 handshake, with ErrNoHTTP2. A remembered refusal returns its
// error and no connection.
func (p *HTTP2Pool) acquire(ctx context.Context, key poolKey, dialTLS func() (raw, tc net.Conn, err error)) (pc *pooledConn, raw, tc net.Conn, err error) {
	for {
		p.mu.Lock()
		if p.entries == nil {
			p.entries = make(map[poolKey]*poolEntry)
		}
		e := p.entries[key]
		if e == nil {
			p.sweepLocked()
			e = &poolEntry{}
			p.entries[key] = e
		}
		if e.noStream != nil && time.Now().Before(e.until) {
			err := e.noStream
			p.mu.Unlock()
			return nil, nil, nil, err
		}
		if pc := e.reserve(); pc != nil {
			p.mu.Unlock()
			return pc, nil, nil, nil
		}
		if wait := e.dialing; wait != nil {
			p.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, nil, nil, &HandshakeError{Op: opDial, Reason: "waiting for an HTTP/2 connection", Err: ctx.Err()}
			}
		}
		done := make(chan struct{})
		e.dialing = done
		tr := p.transport()
		p.mu.Unlock()

		pc, raw, tc, err = dialH2(ctx, tr, dialTLS)

		p.mu.Lock()
		e.dialing = nil
		close(done)
		switch {
		case pc != nil:
			pc.cc.ReserveNewRequest()
			e.conns = append(e.conns, pc)
		case errors.Is(err, ErrNoHTTP2):
			e.noStream, e.until = err, time.Now().Add(noStreamMemory)
		}
		p.mu.Unlock()
		return pc, raw, tc, err
	}
}

// dialH2 dials the server and starts HTTP/2 on the connection if TLS
// selected h2.
func dialH2(ctx context.Context, tr *http2.Transport, dialTLS func() (raw, tc net.Conn, err error)) (*pooledConn, net.Conn, net.Conn, error) {
	raw, tc, err := dialTLS()
	if err != nil {
		return nil, nil, nil, err
	}
	if tc.(*tls.Conn).ConnectionState().NegotiatedProtocol != alpnH2 {
		return nil, raw, tc, ErrNoHTTP2
	}
	cc, err := tr.NewClientConn(tc)
	if err == nil {
		// The server sends its SETTINGS first: once a PING comes back they
		// are known, and so its limit on concurrent streams, which the
		// pool's reservations then honour (x/net assumes 100 until then).
		if err = cc.Ping(ctx); err != nil {
			cc.Close()
		}
	}
	if err != nil {
		tc.Close()
		return nil, nil, nil, &HandshakeError{Op: opHandshake, Reason: "starting HTTP/2", Err: ctxErrOr(ctx, err)}
	}
	return &pooledConn{cc: cc, laddr: tc.LocalAddr(), raddr: tc.RemoteAddr()}, nil, nil, nil
}

// forget remembers that the server of key refused WebSocket streams.
func (p *HTTP2Pool) forget(key poolKey, why error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.entries[key]; e != nil {
		e.noStream, e.until = why, time.Now().Add(noStreamMemory)
	}
}

// h2Protos returns the ALPN list of an HTTP/2 dial: h2, http/1.1, then the
// caller's other protocols.
func h2Protos(user []string) []string {
	out := []string{alpnH2, alpnHTTP11}
	for _, p := range user {
		if p != alpnH2 && p != alpnHTTP11 {
			out = append(out, p)
		}
	}
	return out
}

// dialStream opens the WebSocket as an HTTP/2 stream (RFC 8441), falling
// back to HTTP/1.1 as opts.HTTP2 allows.
func dialStream(ctx context.Context, t *target, pu *url.URL, req *request, opts *DialOptions) (*clientConn, *http.Response, error) {
	pool := opts.HTTP2Pool
	if pool == nil {
		pool = DefaultHTTP2Pool
	}
	key := poolKey{addr: t.addr, serverName: stripZone(t.host), tls: opts.TLSConfig}
	if opts.TLSConfig != nil && opts.TLSConfig.ServerName != "" {
		key.serverName = opts.TLSConfig.ServerName
	}
	if pu != nil {
		key.proxy = pu.String()
	}
	dialTLS := func() (raw, tc net.Conn, err error) {
		if raw, err = openRaw(ctx, t, pu, opts); err != nil {
			return nil, nil, err
		}
		err = withAbort(ctx, raw, func() error {
			var err error
			tc, err = tunnel(ctx, raw, t, pu, opts, h2Protos(nextProtos(opts.TLSConfig)))
			return err
		})
		return raw, tc, err
	}
	pc, raw, tc, err := pool.acquire(ctx, key, dialTLS)
	var why error
	var refusal *http.Response
	switch {
	case pc != nil:
		hc, resp, err := openStream(ctx, pc, t, req, opts)
		if err != nil && !isStreamRefusal(err) && resp == nil && ctx.Err() == nil {
			// The connection died under the request (a GOAWAY, or a peer
			// that dropped it): once more, on a connection of its own.
			if st := pc.cc.State(); st.Closed || st.Closing {
				if pc, raw, tc, err = pool.acquire(ctx, key, dialTLS); pc != nil {
					hc, resp, err = openStream(ctx, pc, t, req, opts)
				} else if err == nil {
					err = &HandshakeError{Op: opHandshake, Reason: "no HTTP/2 connection for the retry"}
				}
				if tc != nil {
					tc.Close()
				}
			}
		}
		if err == nil || !isStreamRefusal(err) {
			return hc, resp, err
		}
		if errors.Is(err, ErrNoExtendedConnect) {
			pool.forget(key, ErrNoExtendedConnect)
		}
		why, refusal = err, resp
	case errors.Is(err, ErrNoHTTP2), errors.Is(err, ErrNoExtendedConnect):
		why = err
	default:
		return nil, nil, err
	}
	if opts.HTTP2 == HTTP2Require {
		if tc != nil {
			tc.Close()
		}
		var he *HandshakeError
		if errors.As(why, &he) {
			return nil, refusal, he
		}
		return nil, nil, &HandshakeError{Op: opHandshake, Reason: "HTTP2Require: " + why.Error(), Err: why}
	}

	// Fall back to HTTP/1.1: on the connection TLS gave us, or a new one.
	req, err = newRequest(t, opts) // new key, new extension state
	if err != nil {
		return nil, nil, err
	}
	var hc *clientConn
	var resp *http.Response
	if tc != nil {
		hc, resp, err = finishHTTP11(ctx, raw, tc, t, pu, req, opts)
	} else if raw, err = openRaw(ctx, t, pu, opts); err == nil {
		hc, resp, err = finishHTTP11(ctx, raw, nil, t, pu, req, opts)
	}
	var he *HandshakeError
	if err != nil && errors.As(err, &he) {
		he.Reason = "over HTTP/1.1 after HTTP/2 failed (" + reasonOf(why) + "): " + he.Reason
	}
	return hc, resp, err
}

// reasonOf returns the words of a fallback cause.
func reasonOf(err error) string {
	var he *HandshakeError
	if errors.As(err, &he) {
		return he.Reason
	}
	return err.Error()
}

// isStreamRefusal reports whether an openStream error means the server
// does not take WebSockets over HTTP/2 (so HTTP/1.1 may be tried).
func isStreamRefusal(err error) bool {
	return errors.Is(err, ErrNoExtendedConnect) || errors.Is(err, ErrStreamRefused)
}

// openStream sends the extended CONNECT on cc (a stream is reserved) and
// checks the answer.
func openStream(ctx context.Context, pc *pooledConn, t *target, req *request, opts *DialOptions) (*clientConn, *http.Response, error) {
	pr, pw := io.Pipe()
	// x/net ties the whole stream to the request's context, while ctx
	// bounds the handshake only: the stream gets a context of its own,
	// canceled with ctx until the response arrives, and by Close after.
	sctx, scancel := context.WithCancel(context.WithoutCancel(ctx))
	u := *t.public
	u.Scheme = "https"
	hreq := (&http.Request{
		Method:     http.MethodConnect,
		URL:        &u,
		Host:       req.host,
		Header:     make(http.Header),
		Body:       pr,
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
	}).WithContext(sctx)
	hreq.ContentLength = -1
	hreq.Header[protocolPseudoHeader] = []string{"websocket"}
	hreq.Header.Set("Sec-WebSocket-Version", "13")
	if len(opts.Subprotocols) > 0 {
		hreq.Header.Set("Sec-WebSocket-Protocol", strings.Join(opts.Subprotocols, ", "))
	}
	for _, e := range req.check.extensions {
		hreq.Header.Add("Sec-WebSocket-Extensions", e.offer())
	}
	if t.user != nil {
		hreq.Header.Set(hdrAuth, basicAuth(t.user))
	}
	for name, values := range opts.Header {
		if !strings.EqualFold(name, hdrHost) {
			hreq.Header[name] = append(hreq.Header[name], values...)
		}
	}

	stopWatch := context.AfterFunc(ctx, scancel)
	resp, err := pc.cc.RoundTrip(hreq)
	if !stopWatch() && err == nil {
		resp.Body.Close()
		err = ctx.Err()
	}
	if err != nil {
		scancel()
		pw.Close()
		if strings.Contains(err.Error(), "extended connect not supported by peer") {
			return nil, nil, &HandshakeError{Op: opHandshake, Reason: ErrNoExtendedConnect.Error(), Err: ErrNoExtendedConnect}
		}
		return nil, nil, &HandshakeError{Op: opHandshake, Reason: "sending the extended CONNECT request", Err: ctxErrOr(ctx, err)}
	}
	resp.Request = &http.Request{Method: http.MethodConnect, URL: t.public, Host: req.host, Proto: "HTTP/2.0", ProtoMajor: 2}
	body := resp.Body
	fail := func(e *HandshakeError) (*clientConn, *http.Response, error) {
		pw.Close()
		body.Close()
		scancel()
		resp.Body = http.NoBody
		return nil, resp, e
	}
	if resp.StatusCode/100 != 2 {
		e := &HandshakeError{Op: opHandshake, StatusCode: resp.StatusCode, Reason: ErrStreamRefused.Error() + ": " + sanitize(resp.Status, maxPeerText), Err: ErrStreamRefused}
		buf := make([]byte, maxBodyExcerpt)
		stop := context.AfterFunc(ctx, func() { body.Close() })
		timer := time.AfterFunc(bodyReadTimeout, func() { body.Close() })
		n, _ := io.ReadFull(body, buf)
		timer.Stop()
		stop()
		if n > 0 {
			e.Body = buf[:n:n]
		}
		fail(e)
		if n > 0 {
			resp.Body = io.NopCloser(strings.NewReader(string(e.Body)))
		}
		return nil, resp, e
	}
	sub, reason := selectedSubprotocol(resp.Header.Values(hdrProtocol), opts.Subprotocols)
	if reason != "" {
		return fail(&HandshakeError{Op: opHandshake, StatusCode: resp.StatusCode, Reason: reason})
	}
	if err := negotiateClientExtensions(req.check.extensions, resp.Header); err != nil {
		return fail(&HandshakeError{Op: opHandshake, StatusCode: resp.StatusCode, Reason: err.Error()})
	}
	resp.Body = http.NoBody
	sc := newStreamConn(&streamConn{
		body:        body,
		w:           pw,
		abortWrite:  func() { pw.CloseWithError(streamTimeout("write")) },
		finishWrite: func() { pw.Close() },
		finishRead: func() {
			body.Close()
			scancel()
		},
		lingerRead: true,
		laddr:      pc.laddr,
		raddr:      pc.raddr,
	})
	return &clientConn{conn: sc, subprotocol: sub, compression: agreedCompression(req.check.extensions)}, resp, nil
}
