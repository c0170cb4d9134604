package handshake

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"

	"github.com/wslua/wslua/handshake/xconnect"
	"github.com/wslua/wslua/protocol"
)

// h2Seen is what an HTTP/2 test server saw of one upgrade request.
type h2Seen struct {
	proto, method, pseudo string
	err                   error // Upgrade's
	end                   error // how the session ended
}

// h2Server is an HTTPS server with HTTP/2 and extended CONNECT that
// upgrades every request with opts and echoes, in a goroutine of its own
// (the handler waits for Done). It counts the TCP connections it accepted.
type h2Server struct {
	*httptest.Server
	seen     chan h2Seen
	returned chan struct{} // one per upgraded request whose handler returned
	conns    atomic.Int32
}

func newH2Server(t *testing.T, opts *UpgradeOptions, maxStreams uint32) *h2Server {
	t.Helper()
	require.True(t, xconnect.Enabled(), "the test binary imports xconnect")
	s := &h2Server{seen: make(chan h2Seen, 2048), returned: make(chan struct{}, 2048)}
	var wg sync.WaitGroup
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		c, err := Upgrade(w, r, opts)
		seen := h2Seen{proto: r.Proto, method: r.Method, pseudo: r.Header.Get(":protocol"), err: err}
		if err != nil {
			s.seen <- seen
			return
		}
		go func() {
			defer c.CloseNow()
			ctx := context.Background()
			for {
				typ, msg, err := c.Read(ctx)
				if err == nil {
					err = c.Write(ctx, typ, msg)
				}
				if err != nil {
					seen.end = err
					s.seen <- seen
					return
				}
			}
		}()
		<-Done(c)
		s.returned <- struct{}{}
	}))
	s.EnableHTTP2 = true
	if maxStreams > 0 {
		s.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: int(maxStreams)}
	}
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	startServer(t, s.Server, true, &wg)
	return s
}

func (s *h2Server) url(path string) string { return "wss://" + s.Listener.Addr().String() + path }

// h2Opts returns dial options for s with a pool of the test's own, closed
// at the end of the test.
func h2Opts(t *testing.T, s *httptest.Server, mode HTTP2Mode) *DialOptions {
	pool := &HTTP2Pool{}
	t.Cleanup(pool.Close)
	opts := directOpts()
	opts.TLSConfig = trusting(s)
	opts.HTTP2 = mode
	opts.HTTP2Pool = pool
	return opts
}

func echo(t *testing.T, ctx context.Context, c *protocol.Conn, typ protocol.MessageType, p []byte) {
	t.Helper()
	require.NoError(t, c.Write(ctx, typ, p))
	gt, got, err := c.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, typ, gt)
	require.True(t, bytes.Equal(p, got), "echo of %d bytes differs", len(p))
}

func TestHTTP2EchoAndClose(t *testing.T) {
	srv := newH2Server(t, &UpgradeOptions{Subprotocols: []string{"chat"}}, 0)
	ctx := testCtx(t)
	opts := h2Opts(t, srv.Server, HTTP2Require)
	opts.Subprotocols = []string{"superchat", "chat"}
	opts.Header = map[string][]string{"X-Tenant": {"blue"}}
	c, resp, err := Dial(ctx, srv.url("/echo?x=1"), opts)
	require.NoError(t, err)
	defer c.CloseNow()
	require.Equal(t, 2, resp.ProtoMajor, "the WebSocket is an HTTP/2 stream")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "chat", c.Subprotocol())
	require.Equal(t, "chat", resp.Header.Get("Sec-WebSocket-Protocol"))

	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: many DATA frames, flow control
	echo(t, ctx, c, protocol.MessageText, []byte("hello"))
	echo(t, ctx, c, protocol.MessageBinary, []byte{})
	echo(t, ctx, c, protocol.MessageBinary, big)
	require.NoError(t, c.Ping(ctx, []byte("p")))
	echo(t, ctx, c, protocol.MessageText, []byte("after ping"))

	require.NoError(t, c.Close(protocol.StatusNormalClosure, "bye"))
	seen := <-srv.seen
	require.NoError(t, seen.err)
	require.Equal(t, "HTTP/2.0", seen.proto)
	require.Equal(t, http.MethodConnect, seen.method)
	require.Equal(t, "websocket", seen.pseudo)
	require.Equal(t, protocol.StatusNormalClosure, protocol.CloseStatus(seen.end))
	var ce *protocol.CloseError
	require.ErrorAs(t, seen.end, &ce)
	require.Equal(t, "bye", ce.Reason)

	// The stream ended on both sides; the connection stays.
	select {
	case <-srv.returned:
	case <-time.After(5 * time.Second):
		t.Fatal("the server's handler has not returned 5 s after the close")
	}
	pool := opts.HTTP2Pool
	require.Eventually(t, func() bool {
		pool.mu.Lock()
		defer pool.mu.Unlock()
		for _, e := range pool.entries {
			for _, pc := range e.conns {
				st := pc.cc.State()
				return !st.Closed && st.StreamsActive == 0
			}
		}
		return false
	}, 5*time.Second, 5*time.Millisecond, "the client's stream ended, its connection did not")
}

// permessage-deflate is negotiated over HTTP/2 as over HTTP/1.1, with the
// server's default of no context takeover.
func TestHTTP2Compression(t *testing.T) {
	srv := newH2Server(t, &UpgradeOptions{Compression: &protocol.CompressionOptions{}}, 0)
	ctx := testCtx(t)
	opts := h2Opts(t, srv.Server, HTTP2Require)
	opts.Compression = &protocol.CompressionOptions{Threshold: -1}
	c, resp, err := Dial(ctx, srv.url("/"), opts)
	require.NoError(t, err)
	defer c.CloseNow()
	require.Equal(t, 2, resp.ProtoMajor)
	require.Equal(t, "permessage-deflate; server_no_context_takeover", resp.Header.Get("Sec-WebSocket-Extensions"))
	require.NotNil(t, c.Compression())
	require.True(t, c.Compression().ServerNoContextTakeover)
	for i := range 5 {
		echo(t, ctx, c, protocol.MessageText, []byte(strings.Repeat(fmt.Sprintf("message %d ", i), 1000)))
	}
	require.NoError(t, c.Close(protocol.StatusNormalClosure, ""))
	require.Equal(t, protocol.StatusNormalClosure, protocol.CloseStatus((<-srv.seen).end))
}

// Many WebSockets share one HTTP/2 connection; past the server's stream
// limit the pool opens a second one. Closing a WebSocket ends its stream
// only: the connection carries the next one.
func TestHTTP2ManyWebSocketsOneConnection(t *testing.T) {
	const n = 300
	srv := newH2Server(t, nil, n)
	ctx := testCtx(t)
	opts := h2Opts(t, srv.Server, HTTP2Require)
	conns := make([]*protocol.Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, resp, err := Dial(ctx, srv.url("/"), opts)
			if err == nil && resp.ProtoMajor != 2 {
				err = fmt.Errorf("dial %d: HTTP/%d", i, resp.ProtoMajor)
			}
			conns[i] = c
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, srv.conns.Load(), "one TCP connection for %d WebSockets", n)
	for i, c := range conns {
		echo(t, ctx, c, protocol.MessageText, fmt.Appendf(nil, "ws %d", i))
	}
	// Closing half of them leaves the others working on the same connection.
	for _, c := range conns[:n/2] {
		require.NoError(t, c.Close(protocol.StatusNormalClosure, ""))
	}
	for range n / 2 {
		end := (<-srv.seen).end
		require.Equal(t, protocol.StatusNormalClosure, protocol.CloseStatus(end), "%v", end)
	}
	for _, c := range conns[n/2:] {
		echo(t, ctx, c, protocol.MessageBinary, []byte("still here"))
	}
	c, _, err := Dial(ctx, srv.url("/"), opts)
	require.NoError(t, err)
	echo(t, ctx, c, protocol.MessageText, []byte("new one"))
	require.EqualValues(t, 1, srv.conns.Load(), "closed WebSockets leave the connection open")

	// One past the server's limit of n streams: a second connection.
	extra, _, err := Dial(ctx, srv.url("/"), opts)
	require.NoError(t, err)
	for i := range n/2 + 1 { // refill the closed half
		cc, _, err := Dial(ctx, srv.url("/"), opts)
		require.NoError(t, err, "dial %d", i)
		defer cc.CloseNow()
	}
	require.EqualValues(t, 2, srv.conns.Load(), "past %d streams a second connection", n)
	extra.CloseNow()
	c.CloseNow()
	for _, c := range conns[n/2:] {
		c.CloseNow()
	}
}

// A Read bounded by its context returns on time over a stream, and
// CloseNow ends a Read blocked in another goroutine.
func TestHTTP2ReadCancel(t *testing.T) {
	srv := newH2Server(t, nil, 0)
	ctx := testCtx(t)
	c, _, err := Dial(ctx, srv.url("/"), h2Opts(t, srv.Server, HTTP2Require))
	require.NoError(t, err)
	rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, _, err = c.Read(rctx)
	require.Error(t, err)
	require.ErrorIs(t, rctx.Err(), context.DeadlineExceeded)

	done := make(chan error, 1)
	go func() { _, _, err := c.Read(ctx); done <- err }()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, c.CloseNow())
	select {
	case err := <-done:
		require.Error(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Read still blocked 5 s after CloseNow")
	}
	select {
	case <-srv.seen:
	case <-time.After(5 * time.Second):
		t.Fatal("the server's session did not end 5 s after the client's CloseNow")
	}
}

// HTTP/2 requests that are not valid WebSocket requests get a clear 4xx.
func TestHTTP2UpgradeRefusals(t *testing.T) {
	srv := newH2Server(t, nil, 0)
	tr := &http2.Transport{TLSClientConfig: trusting(srv.Server)}
	defer tr.CloseIdleConnections()
	tests := []struct {
		name       string
		method     string
		header     http.Header
		wantStatus int
		wantBody   string
		wantHeader [2]string
	}{
		{name: "GET", method: http.MethodGet, header: http.Header{"Sec-Websocket-Version": {"13"}}, wantStatus: 405, wantBody: `extended CONNECT request (RFC 8441), not "GET"`, wantHeader: [2]string{"Allow", "CONNECT"}},
		{name: "other protocol", method: http.MethodConnect, header: http.Header{":protocol": {"webtransport"}, "Sec-Websocket-Version": {"13"}}, wantStatus: 400, wantBody: `unsupported :protocol "webtransport"`},
		{name: "version 8", method: http.MethodConnect, header: http.Header{":protocol": {"websocket"}, "Sec-Websocket-Version": {"8"}}, wantStatus: 400, wantBody: "only 13 is supported", wantHeader: [2]string{"Sec-Websocket-Version", "13"}},
		{name: "no version", method: http.MethodConnect, header: http.Header{":protocol": {"websocket"}}, wantStatus: 400, wantBody: "unsupported Sec-WebSocket-Version"},
		{name: "foreign origin", method: http.MethodConnect, header: http.Header{":protocol": {"websocket"}, "Sec-Websocket-Version": {"13"}, "Origin": {"https://evil.example"}}, wantStatus: 403, wantBody: "origin not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			var body io.Reader = pr
			if tt.method == http.MethodGet {
				body = nil
			}
			req, err := http.NewRequestWithContext(testCtx(t), tt.method, srv.URL+"/", body)
			require.NoError(t, err)
			req.Header = tt.header
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			got, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			require.Equal(t, tt.wantStatus, resp.StatusCode, string(got))
			require.Contains(t, string(got), tt.wantBody)
			require.True(t, strings.HasPrefix(string(got), "websocket: "), string(got))
			if tt.wantHeader[0] != "" {
				require.Equal(t, tt.wantHeader[1], resp.Header.Get(tt.wantHeader[0]))
			}
			seen := <-srv.seen
			require.Equal(t, tt.wantStatus, requireHandshakeError(t, seen.err).StatusCode)
		})
	}
}

// The fallbacks: a server without h2, an h2 server without extended
// CONNECT, and one that refuses the stream. HTTP2Prefer ends up on
// HTTP/1.1; HTTP2Require fails with an error that says why.
func TestHTTP2Fallback(t *testing.T) {
	echoHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && r.URL.Query().Get("refuse") != "" {
			http.Error(w, "no WebSockets over HTTP/2 here", http.StatusNotImplemented)
			return
		}
		c, err := Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		typ, msg, err := c.Read(ctx)
		if err == nil {
			_ = c.Write(ctx, typ, msg)
		}
		_, _, _ = c.Read(ctx)
	})
	servers := map[string]func(t *testing.T) *httptest.Server{
		"no h2": func(t *testing.T) *httptest.Server {
			s := httptest.NewUnstartedServer(echoHandler)
			startServer(t, s, true, nil)
			return s
		},
		"h2 without extended CONNECT": func(t *testing.T) *httptest.Server {
			s := httptest.NewUnstartedServer(echoHandler)
			s.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
			s.Config.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){"h2": serveH2WithoutXConnect}
			startServer(t, s, true, nil)
			return s
		},
		"h2 refusing the stream": func(t *testing.T) *httptest.Server {
			s := httptest.NewUnstartedServer(echoHandler)
			s.EnableHTTP2 = true
			startServer(t, s, true, nil)
			return s
		},
	}
	tests := []struct {
		server  string
		path    string
		wantErr error
		status  int
	}{
		{server: "no h2", path: "/", wantErr: ErrNoHTTP2},
		{server: "h2 without extended CONNECT", path: "/", wantErr: ErrNoExtendedConnect},
		{server: "h2 refusing the stream", path: "/?refuse=1", wantErr: ErrStreamRefused, status: http.StatusNotImplemented},
	}
	for _, tt := range tests {
		t.Run(tt.server, func(t *testing.T) {
			srv := servers[tt.server](t)
			u := "wss://" + srv.Listener.Addr().String() + tt.path
			ctx := testCtx(t)

			opts := h2Opts(t, srv, HTTP2Require)
			_, resp, err := Dial(ctx, u, opts)
			require.ErrorIs(t, err, tt.wantErr)
			he := requireHandshakeError(t, err)
			require.Contains(t, err.Error(), tt.wantErr.Error())
			require.Equal(t, tt.status, he.StatusCode)
			if tt.status != 0 {
				require.Equal(t, tt.status, resp.StatusCode)
				require.Contains(t, string(he.Body), "no WebSockets over HTTP/2 here")
			}

			for i := range 2 { // the second dial uses what the pool remembered
				opts.HTTP2 = HTTP2Prefer
				c, resp, err := Dial(ctx, u, opts)
				require.NoError(t, err, "dial %d", i)
				require.Equal(t, 1, resp.ProtoMajor, "fell back to HTTP/1.1")
				require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
				echo(t, ctx, c, protocol.MessageText, []byte("over HTTP/1.1"))
				c.CloseNow()
			}
		})
	}
}

// serveH2WithoutXConnect is an HTTP/2 server (TLSNextProto) whose SETTINGS
// do not enable extended CONNECT; it answers SETTINGS and PING frames,
// nothing else.
func serveH2WithoutXConnect(_ *http.Server, c *tls.Conn, _ http.Handler) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(safetyTimeout))
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil {
		return
	}
	fr := http2.NewFramer(c, c)
	if fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100}) != nil {
		return
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() && fr.WriteSettingsAck() != nil {
				return
			}
		case *http2.PingFrame:
			if !f.IsAck() && fr.WritePing(true, f.Data) != nil {
				return
			}
		}
	}
}

// HTTP2Require needs TLS; HTTP2Prefer dials ws:// over HTTP/1.1.
func TestHTTP2PlainWS(t *testing.T) {
	srv, _ := echoServer(t, nil, false)
	ctx := testCtx(t)
	opts := directOpts()
	opts.HTTP2 = HTTP2Require
	_, _, err := Dial(ctx, wsURL(srv), opts)
	require.ErrorContains(t, err, "HTTP2Require needs a wss:// URL")
	opts.HTTP2 = HTTP2Prefer
	c, resp, err := Dial(ctx, wsURL(srv), opts)
	require.NoError(t, err)
	require.Equal(t, 1, resp.ProtoMajor)
	c.CloseNow()
}

// Done is closed at once for HTTP/1.1, and for HTTP/2 when the Conn is.
func TestDone(t *testing.T) {
	got := make(chan bool, 2)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, nil)
		if err != nil {
			return
		}
		got <- isClosed(Done(c))
		go func() {
			_, _, _ = c.Read(context.Background())
			c.CloseNow()
		}()
		<-Done(c)
	})
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	startServer(t, srv, true, nil)
	ctx := testCtx(t)
	for _, mode := range []HTTP2Mode{HTTP2Off, HTTP2Require} {
		c, _, err := Dial(ctx, "wss://"+srv.Listener.Addr().String()+"/", h2Opts(t, srv, mode))
		require.NoError(t, err)
		require.Equal(t, mode == HTTP2Off, <-got, "Done closed at once (%v)", mode)
		require.NoError(t, c.Close(protocol.StatusNormalClosure, ""))
	}
}

// The Conn's read limit and keepalive work over a stream as over TCP.
func TestHTTP2LimitAndKeepalive(t *testing.T) {
	var pings atomic.Int32
	srv := newH2Server(t, &UpgradeOptions{Conn: protocol.Options{
		ReadLimit: 1024,
		OnPing:    func([]byte) { pings.Add(1) },
	}}, 0)
	ctx := testCtx(t)
	opts := h2Opts(t, srv.Server, HTTP2Require)
	opts.Conn = protocol.Options{PingInterval: 20 * time.Millisecond, PongTimeout: 2 * time.Second}
	c, _, err := Dial(ctx, srv.url("/"), opts)
	require.NoError(t, err)
	defer c.CloseNow()
	echo(t, ctx, c, protocol.MessageBinary, make([]byte, 1024))
	// A new ping goes out once the last one's pong was read.
	for want := int32(1); want <= 3; want++ {
		require.Eventually(t, func() bool { return pings.Load() >= want }, 5*time.Second, 5*time.Millisecond, "keepalive ping %d reaches the server", want)
		echo(t, ctx, c, protocol.MessageText, []byte("still open after the pings"))
	}

	require.NoError(t, c.Write(ctx, protocol.MessageBinary, make([]byte, 1025)))
	_, _, err = c.Read(ctx)
	require.Equal(t, protocol.StatusMessageTooBig, protocol.CloseStatus(err), "%v", err)
	require.Equal(t, protocol.StatusMessageTooBig, protocol.CloseStatus((<-srv.seen).end))
}

// A pool does not keep entries for servers (or per-dial TLS configs) whose
// connections are gone.
func TestHTTP2PoolForgetsDeadEntries(t *testing.T) {
	srv := newH2Server(t, nil, 0)
	ctx := testCtx(t)
	pool := &HTTP2Pool{IdleTimeout: 20 * time.Millisecond}
	defer pool.Close()
	for i := range 5 {
		opts := directOpts()
		opts.TLSConfig = trusting(srv.Server) // a new pointer each time: a new key
		opts.HTTP2, opts.HTTP2Pool = HTTP2Require, pool
		c, _, err := Dial(ctx, srv.url("/"), opts)
		require.NoError(t, err, "dial %d", i)
		require.NoError(t, c.Close(protocol.StatusNormalClosure, ""))
		<-srv.seen
		require.Eventually(t, func() bool {
			pool.mu.Lock()
			defer pool.mu.Unlock()
			for _, pc := range pool.entries[poolKey{addr: srv.Listener.Addr().String(), serverName: "127.0.0.1", tls: opts.TLSConfig}].conns {
				if !pc.cc.State().Closed {
					return false
				}
			}
			return true
		}, 5*time.Second, 5*time.Millisecond, "the idle connection closes itself")
	}
	pool.mu.Lock()
	n := len(pool.entries)
	pool.mu.Unlock()
	require.Equal(t, 1, n, "each new key sweeps the dead ones: only the last remains")
}

// An HTTP/2 dial goes through an HTTP CONNECT proxy like an HTTP/1.1 one:
// the tunnel carries the TLS connection and every stream on it.
func TestHTTP2ThroughProxy(t *testing.T) {
	srv := newH2Server(t, nil, 0)
	addr := srv.Listener.Addr().String()
	p := newConnectProxy(t, false, "", to(addr))
	ctx := testCtx(t)
	opts := h2Opts(t, srv.Server, HTTP2Require)
	opts.Proxy = fixedProxy(t, p.srv.URL)
	for i := range 3 {
		c, resp, err := Dial(ctx, srv.url("/"), opts)
		require.NoError(t, err, "dial %d", i)
		require.Equal(t, 2, resp.ProtoMajor)
		echo(t, ctx, c, protocol.MessageText, []byte("via the proxy"))
		require.NoError(t, c.Close(protocol.StatusNormalClosure, ""))
	}
	targets, _ := p.seen()
	require.Equal(t, []string{addr}, targets, "one tunnel for the three WebSockets")
}

// A server cannot make our client buffer more than the stream window
// (1 MiB, plus the reader's 16 KiB) ahead of its reads: a 3 MiB message
// to a client that does not read blocks the server's Write.
func TestHTTP2ClientStreamWindow(t *testing.T) {
	wrote := make(chan error, 1)
	var wg sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		c, err := Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		wrote <- c.Write(ctx, protocol.MessageBinary, make([]byte, 3<<20))
	}))
	srv.EnableHTTP2 = true
	startServer(t, srv, true, &wg)
	c, _, err := Dial(testCtx(t), "wss://"+srv.Listener.Addr().String()+"/", h2Opts(t, srv, HTTP2Require))
	require.NoError(t, err)
	defer c.CloseNow()
	select {
	case err := <-wrote:
		require.Error(t, err, "3 MiB went out to a client that reads nothing")
	case <-time.After(10 * time.Second):
		t.Fatal("the server's Write neither finished nor failed")
	}
}

// The dial's context bounds the handshake only: canceling it (or the
// DialTimeout's own context ending as Dial returns) leaves the stream open.
func TestHTTP2ContextEndsWithDial(t *testing.T) {
	srv := newH2Server(t, nil, 0)
	opts := h2Opts(t, srv.Server, HTTP2Require)
	opts.DialTimeout = 5 * time.Second
	dctx, cancel := context.WithCancel(context.Background())
	c, _, err := Dial(dctx, srv.url("/"), opts)
	require.NoError(t, err)
	defer c.CloseNow()
	cancel()
	time.Sleep(20 * time.Millisecond)
	ctx := testCtx(t)
	echo(t, ctx, c, protocol.MessageText, []byte("after the dial's context ended"))
	echo(t, ctx, c, protocol.MessageBinary, make([]byte, 256<<10))
	require.NoError(t, c.Close(protocol.StatusNormalClosure, ""))
}

// A server that never answers the extended CONNECT: the dial's context
// ends the wait.
func TestHTTP2DialCanceled(t *testing.T) {
	var wg sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		<-r.Context().Done() // never answers
	}))
	srv.EnableHTTP2 = true
	startServer(t, srv, true, &wg)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, err := Dial(ctx, "wss://"+srv.Listener.Addr().String()+"/", h2Opts(t, srv, HTTP2Require))
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.DeadlineExceeded)
		requireHandshakeError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Dial still waiting 5 s after its context ended")
	}
}
