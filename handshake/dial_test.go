package handshake

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// directOpts returns DialOptions that never use a proxy, whatever the
// environment says.
func directOpts() *DialOptions {
	return &DialOptions{Proxy: func(*url.URL) (*url.URL, error) { return nil, nil }}
}

// testCtx returns a context that keeps a broken test from hanging.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), safetyTimeout)
	t.Cleanup(cancel)
	return ctx
}

// requireHandshakeError asserts err is a *HandshakeError and returns it.
func requireHandshakeError(t *testing.T, err error) *HandshakeError {
	t.Helper()
	var he *HandshakeError
	require.ErrorAs(t, err, &he)
	return he
}

func TestDialResponseValidation(t *testing.T) {
	const (
		h101   = "HTTP/1.1 101 Switching Protocols\r\n"
		up     = "Upgrade: websocket\r\n"
		conn   = "Connection: Upgrade\r\n"
		accept = "Sec-WebSocket-Accept: {accept}\r\n"
	)
	big := strings.Repeat("x", 10<<10)
	tests := []struct {
		name         string
		resp         string
		subprotocols []string
		wantErr      string // exact Error() when wantExact, else a substring; "" for success
		wantExact    bool
		wantStatus   int
		wantSub      string
		check        func(t *testing.T, he *HandshakeError, resp *http.Response)
	}{
		{name: "valid", resp: good101},
		{name: "token lists and case", resp: h101 + "Upgrade: WebSocket\r\nConnection: keep-alive, UPGRADE\r\n" + accept + "\r\n"},
		{name: "Connection over two lines", resp: h101 + up + "Connection: keep-alive\r\nConnection: upgrade\r\n" + accept + "\r\n"},
		{name: "subprotocol chosen", resp: h101 + up + conn + accept + "Sec-WebSocket-Protocol: b\r\n\r\n", subprotocols: []string{"a", "b"}, wantSub: "b"},
		{
			name: "403 with body", resp: "HTTP/1.1 403 Forbidden\r\nContent-Length: 23\r\n\r\norigin denied by policy",
			wantErr: "websocket: handshake: server answered 403 Forbidden: origin denied by policy", wantExact: true, wantStatus: 403,
			check: func(t *testing.T, he *HandshakeError, resp *http.Response) {
				require.Equal(t, "origin denied by policy", string(he.Body))
				require.NotNil(t, resp)
				b, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				require.Equal(t, "origin denied by policy", string(b))
			},
		},
		{
			name: "302 with Location", resp: "HTTP/1.1 302 Found\r\nLocation: wss://other.example/x\r\nContent-Length: 0\r\n\r\n",
			wantErr: "websocket: handshake: server answered 302 Found: redirect to wss://other.example/x not followed", wantExact: true, wantStatus: 302,
			check: func(t *testing.T, he *HandshakeError, resp *http.Response) {
				require.Equal(t, "wss://other.example/x", he.Location)
				require.Equal(t, "wss://other.example/x", resp.Header.Get("Location"))
			},
		},
		{name: "301 without Location", resp: "HTTP/1.1 301 Moved Permanently\r\nContent-Length: 0\r\n\r\n", wantErr: "server answered 301 Moved Permanently: redirect not followed", wantStatus: 301},
		{name: "close-delimited body", resp: "HTTP/1.1 200 OK\r\n\r\nhello\n\tworld\r\n", wantErr: "server answered 200 OK: hello world", wantExact: false, wantStatus: 200},
		{
			name: "long body is cut", resp: "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 10240\r\n\r\n" + big,
			wantErr: "server answered 500 Internal Server Error: xxxx", wantStatus: 500,
			check: func(t *testing.T, he *HandshakeError, _ *http.Response) {
				require.Len(t, he.Body, maxBodyExcerpt)
				require.True(t, strings.HasSuffix(he.Error(), "x..."), he.Error())
				require.Less(t, len(he.Error()), 300)
			},
		},
		{name: "chunked body", resp: "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nno ws\r\n0\r\n\r\n", wantErr: "server answered 404 Not Found: no ws", wantStatus: 404},
		{name: "control characters in status", resp: "HTTP/1.1 403 For\x01bidden\r\nContent-Length: 0\r\n\r\n", wantErr: "server answered 403 For?bidden", wantStatus: 403},
		{name: "100 Continue", resp: "HTTP/1.1 100 Continue\r\n\r\n", wantErr: "server answered 100 Continue", wantStatus: 100},
		{name: "missing Upgrade", resp: h101 + conn + accept + "\r\n", wantErr: "websocket: handshake: missing Upgrade header", wantExact: true, wantStatus: 101},
		{name: "wrong Upgrade", resp: h101 + "Upgrade: h2c\r\n" + conn + accept + "\r\n", wantErr: `Upgrade header is "h2c", want "websocket"`, wantStatus: 101},
		{name: "missing Connection", resp: h101 + up + accept + "\r\n", wantErr: "websocket: handshake: missing Connection header", wantExact: true, wantStatus: 101},
		{name: "Connection without upgrade", resp: h101 + up + "Connection: keep-alive, upgraded\r\n" + accept + "\r\n", wantErr: `Connection header "keep-alive, upgraded" lacks the "upgrade" token`, wantStatus: 101},
		{name: "missing Accept", resp: h101 + up + conn + "\r\n", wantErr: "missing Sec-WebSocket-Accept header", wantStatus: 101},
		{name: "wrong Accept", resp: h101 + up + conn + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", wantErr: "websocket: handshake: Sec-WebSocket-Accept mismatch", wantExact: true, wantStatus: 101},
		{name: "two Accepts", resp: h101 + up + conn + accept + accept + "\r\n", wantErr: "Sec-WebSocket-Accept mismatch", wantStatus: 101},
		{name: "unrequested subprotocol", resp: h101 + up + conn + accept + "Sec-WebSocket-Protocol: x\r\n\r\n", wantErr: `websocket: handshake: unrequested subprotocol "x"`, wantExact: true, wantStatus: 101},
		{name: "other subprotocol", resp: h101 + up + conn + accept + "Sec-WebSocket-Protocol: c\r\n\r\n", subprotocols: []string{"a", "b"}, wantErr: `unrequested subprotocol "c"`, wantStatus: 101},
		{name: "two subprotocols", resp: h101 + up + conn + accept + "Sec-WebSocket-Protocol: a, b\r\n\r\n", subprotocols: []string{"a", "b"}, wantErr: "more than one subprotocol", wantStatus: 101},
		{name: "unrequested extension", resp: h101 + up + conn + accept + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n", wantErr: `websocket: handshake: unrequested extension "permessage-deflate"`, wantExact: true, wantStatus: 101},
		{name: "malformed extensions", resp: h101 + up + conn + accept + "Sec-WebSocket-Extensions: ;\r\n\r\n", wantErr: "malformed Sec-WebSocket-Extensions", wantStatus: 101},
		{name: "not HTTP", resp: "SSH-2.0-OpenSSH_9.6\r\n", wantErr: "reading response: malformed HTTP"},
		{name: "closed at once", resp: "", wantErr: "connection closed before the response was complete"},
		{name: "truncated head", resp: h101 + up, wantErr: "connection closed before the response was complete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := cannedServer(t, tt.resp)
			opts := directOpts()
			opts.Subprotocols = tt.subprotocols
			hc, resp, err := dial(testCtx(t), "ws://"+srv.addr+"/", opts)
			if tt.wantErr == "" {
				require.NoError(t, err)
				defer hc.conn.Close()
				require.Equal(t, tt.wantSub, hc.subprotocol)
				require.Equal(t, 101, resp.StatusCode)
				return
			}
			require.Nil(t, hc)
			he := requireHandshakeError(t, err)
			if tt.wantExact {
				require.Equal(t, tt.wantErr, err.Error())
			} else {
				require.ErrorContains(t, err, tt.wantErr)
			}
			require.Equal(t, tt.wantStatus, he.StatusCode)
			if tt.wantStatus != 0 {
				require.NotNil(t, resp)
				require.Equal(t, tt.wantStatus, resp.StatusCode)
			}
			if tt.check != nil {
				tt.check(t, he, resp)
			}
		})
	}
}

// TestDialBodyReadIsBounded: a server that promises a body and stalls must
// not hold Dial beyond bodyReadTimeout; the part received is reported.
func TestDialBodyReadIsBounded(t *testing.T) {
	srv := newFakeServer(t, func(c net.Conn, _ *http.Request, _ *bufio.Reader) {
		c.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\npartial"))
		io.Copy(io.Discard, c) // never completes the body, never closes
	})
	ctx := testCtx(t)
	_, _, err := dial(ctx, "ws://"+srv.addr+"/", directOpts())
	require.NoError(t, ctx.Err(), "the body read was not bounded: it lasted until the test's safety deadline")
	he := requireHandshakeError(t, err)
	require.Equal(t, 403, he.StatusCode)
	require.Equal(t, "partial", string(he.Body))
	require.NoError(t, he.Err)
}

func TestDialRequest(t *testing.T) {
	srv := cannedServer(t, good101)
	opts := directOpts()
	opts.Subprotocols = []string{"chat.v2", "chat"}
	opts.Header = http.Header{
		"X-Trace":    {"abc", "def"},
		"User-Agent": {"wslua-test"},
		"Origin":     {"http://example.com"},
	}
	hc, resp, err := dial(testCtx(t), "ws://"+srv.addr+"/path/x?q=1&r=%2F", opts)
	require.NoError(t, err)
	defer hc.conn.Close()
	require.Equal(t, 101, resp.StatusCode)
	require.Equal(t, "GET", resp.Request.Method)
	require.Equal(t, "ws://"+srv.addr+"/path/x?q=1&r=%2F", resp.Request.URL.String())

	req := srv.request(t)
	require.Equal(t, "GET", req.Method)
	require.Equal(t, "HTTP/1.1", req.Proto)
	require.Equal(t, "/path/x?q=1&r=%2F", req.RequestURI)
	require.Equal(t, srv.addr, req.Host)
	require.Equal(t, []string{"websocket"}, req.Header.Values("Upgrade"))
	require.Equal(t, []string{"Upgrade"}, req.Header.Values("Connection"))
	require.Equal(t, []string{"13"}, req.Header.Values("Sec-WebSocket-Version"))
	require.True(t, validKey(req.Header.Get("Sec-WebSocket-Key")))
	require.Equal(t, []string{"chat.v2, chat"}, req.Header.Values("Sec-WebSocket-Protocol"))
	require.Empty(t, req.Header.Values("Sec-WebSocket-Extensions"))
	require.Empty(t, req.Header.Values("Authorization"))
	require.Equal(t, []string{"abc", "def"}, req.Header.Values("X-Trace"))
	require.Equal(t, "wslua-test", req.Header.Get("User-Agent"))
	require.Equal(t, "http://example.com", req.Header.Get("Origin"))
	require.Equal(t, req.Header, resp.Request.Header, "resp.Request.Header holds the header fields sent")
}

func TestDialHostOverride(t *testing.T) {
	srv := cannedServer(t, good101)
	opts := directOpts()
	opts.Header = http.Header{"Host": {"virtual.example:8443"}}
	hc, _, err := dial(testCtx(t), "ws://"+srv.addr+"/", opts)
	require.NoError(t, err)
	hc.conn.Close()
	require.Equal(t, "virtual.example:8443", srv.request(t).Host)

	opts.Header = http.Header{"host": {"lower.example"}}
	hc, _, err = dial(testCtx(t), "ws://"+srv.addr+"/", opts)
	require.NoError(t, err)
	hc.conn.Close()
	require.Equal(t, "lower.example", srv.request(t).Host)

	opts.Header = http.Header{"Host": {"a", "b"}}
	_, _, err = dial(testCtx(t), "ws://"+srv.addr+"/", opts)
	require.ErrorContains(t, err, "more than one Host header")
}

func TestDialRefusesBadHeaders(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"CRLF in value", http.Header{"X-A": {"v\r\nX-Evil: 1"}}, `invalid value for header "X-A"`},
		{"LF in value", http.Header{"X-A": {"v\nX-Evil: 1"}}, `invalid value for header "X-A"`},
		{"CR in value", http.Header{"X-A": {"v\rX"}}, `invalid value for header "X-A"`},
		{"NUL in value", http.Header{"X-A": {"v\x00"}}, `invalid value for header "X-A"`},
		{"CRLF in name", http.Header{"X-A\r\nX-Evil": {"v"}}, `invalid header name "X-A\r\nX-Evil"`},
		{"NUL in name", http.Header{"X\x00": {"v"}}, "invalid header name"},
		{"space in name", http.Header{"X A": {"v"}}, "invalid header name"},
		{"colon in name", http.Header{"X:A": {"v"}}, "invalid header name"},
		{"empty name", http.Header{"": {"v"}}, "invalid header name"},
		{"CRLF in Host", http.Header{"Host": {"h\r\nX: y"}}, `invalid value for header "Host"`},
		{"Upgrade", http.Header{"Upgrade": {"websocket"}}, `header "Upgrade" may not be overridden`},
		{"Connection", http.Header{"Connection": {"close"}}, `header "Connection" may not be overridden`},
		{"Key", http.Header{"Sec-WebSocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}, `header "Sec-Websocket-Key" may not be overridden`},
		{"Version", http.Header{"Sec-Websocket-Version": {"8"}}, `header "Sec-Websocket-Version" may not be overridden`},
		{"Extensions", http.Header{"Sec-WebSocket-Extensions": {"permessage-deflate"}}, `header "Sec-Websocket-Extensions" may not be overridden`},
		{"Protocol", http.Header{"Sec-WebSocket-Protocol": {"chat"}}, "use DialOptions.Subprotocols"},
		{"non-canonical key", http.Header{"sec-websocket-protocol": {"chat"}}, "use DialOptions.Subprotocols"},
		{"Content-Length", http.Header{"Content-Length": {"5"}}, "may not be overridden"},
		{"Transfer-Encoding", http.Header{"Transfer-Encoding": {"chunked"}}, "may not be overridden"},
	}
	srv := cannedServer(t, good101)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := directOpts()
			opts.Header = tt.header
			_, _, err := dial(testCtx(t), "ws://"+srv.addr+"/", opts)
			require.ErrorContains(t, err, tt.want)
			require.Equal(t, "dial", requireHandshakeError(t, err).Op)
		})
	}
	require.Empty(t, srv.reqs, "a refused dial must not reach the server")
}

func TestDialRefusesBadSubprotocols(t *testing.T) {
	tests := []struct {
		protos []string
		want   string
	}{
		{[]string{""}, `invalid subprotocol ""`},
		{[]string{"a b"}, `invalid subprotocol "a b"`},
		{[]string{"a,b"}, `invalid subprotocol "a,b"`},
		{[]string{"chat\r\nX: 1"}, `invalid subprotocol "chat\r\nX: 1"`},
		{[]string{"ch\u00e4t"}, "invalid subprotocol"},
		{[]string{"a", "a"}, `subprotocol "a" offered twice`},
	}
	for _, tt := range tests {
		opts := directOpts()
		opts.Subprotocols = tt.protos
		_, _, err := dial(testCtx(t), "ws://127.0.0.1:1/", opts)
		require.ErrorContains(t, err, tt.want, "%q", tt.protos)
	}
}

func TestDialURLCredentials(t *testing.T) {
	const user, pass = "alice", "s3cr3t-Pa55"
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))

	t.Run("sent as Basic authorization", func(t *testing.T) {
		srv := cannedServer(t, good101)
		hc, resp, err := dial(testCtx(t), "ws://"+user+":"+pass+"@"+srv.addr+"/", directOpts())
		require.NoError(t, err)
		hc.conn.Close()
		require.Equal(t, want, srv.request(t).Header.Get("Authorization"))
		require.Nil(t, resp.Request.URL.User)
	})
	t.Run("percent-encoded", func(t *testing.T) {
		srv := cannedServer(t, good101)
		hc, _, err := dial(testCtx(t), "ws://al%40ice:p%3Ass@"+srv.addr+"/", directOpts())
		require.NoError(t, err)
		hc.conn.Close()
		require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("al@ice:p:ss")), srv.request(t).Header.Get("Authorization"))
	})

	t.Run("refused together with an Authorization header", func(t *testing.T) {
		for _, key := range []string{"Authorization", "authorization"} {
			opts := directOpts()
			opts.Header = http.Header{key: {"Bearer t"}}
			_, _, err := dial(testCtx(t), "ws://"+user+":"+pass+"@127.0.0.1:1/", opts)
			require.ErrorContains(t, err, "both URL credentials and an Authorization header given")
		}
	})

	// None of these errors may show the credentials.
	refused := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}()
	deny := cannedServer(t, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\n\r\nwho are you?")
	redirect := cannedServer(t, "HTTP/1.1 307 Temporary Redirect\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n")
	badAccept := cannedServer(t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n")
	cases := []struct {
		name, url string
		opts      func(*DialOptions)
	}{
		{"401", "ws://" + user + ":" + pass + "@" + deny.addr + "/", nil},
		{"redirect", "ws://" + user + ":" + pass + "@" + redirect.addr + "/", nil},
		{"bad accept", "ws://" + user + ":" + pass + "@" + badAccept.addr + "/", nil},
		{"connection refused", "ws://" + user + ":" + pass + "@" + refused + "/", nil},
		{"bad scheme", "ftp://" + user + ":" + pass + "@" + deny.addr + "/", nil},
		{"bad port", "ws://" + user + ":" + pass + "@127.0.0.1:99999/", nil},
		{"unparsable", "ws://" + user + ":" + pass + "@127.0.0.1:80 /", nil},
		{"bad header", "ws://" + user + ":" + pass + "@" + deny.addr + "/", func(o *DialOptions) { o.Header = http.Header{"X": {"\n"}} }},
		{"also Authorization", "ws://" + user + ":" + pass + "@" + deny.addr + "/", func(o *DialOptions) { o.Header = http.Header{"Authorization": {"Bearer t"}} }},
		{"also authorization", "ws://" + user + ":" + pass + "@" + deny.addr + "/", func(o *DialOptions) { o.Header = http.Header{"authorization": {"Bearer t"}} }},
		{"TLS to a plain server", "wss://" + user + ":" + pass + "@" + deny.addr + "/", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := directOpts()
			if c.opts != nil {
				c.opts(opts)
			}
			_, _, err := dial(testCtx(t), c.url, opts)
			require.Error(t, err)
			requireHandshakeError(t, err)
			require.NotContains(t, err.Error(), pass)
			require.NotContains(t, err.Error(), user)
			require.NotContains(t, err.Error(), base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
		})
	}
}

func TestDialBadURLs(t *testing.T) {
	tests := []struct {
		url, want string
	}{
		{"ftp://127.0.0.1/", `websocket: dial: unsupported scheme "ftp" (want ws or wss) in URL "ftp://127.0.0.1/"`},
		{"ws:///chat", `websocket: dial: missing host in URL "ws:///chat"`},
		{"127.0.0.1:80", "websocket: dial: invalid URL: first path segment in URL cannot contain colon"},
		{"localhost:80", `unsupported scheme "localhost"`},
		{"", "missing scheme"},
		{"ws://127.0.0.1/chat#room", `websocket: dial: fragment identifier (#...) not allowed in URL "ws://127.0.0.1/chat#room"`},
		{"ws://127.0.0.1/#", "fragment identifier"},
	}
	for _, tt := range tests {
		_, _, err := Dial(testCtx(t), tt.url, directOpts())
		require.ErrorContains(t, err, tt.want, tt.url)
	}
	var nilCtx context.Context // a nil context must be an error, not a panic
	_, _, err := Dial(nilCtx, "ws://127.0.0.1:1/", nil)
	require.ErrorContains(t, err, "nil context")
}

// TestDialHeadTooLarge: a response head over 64 KiB fails with a clear error
// and without allocating anything like its size.
func TestDialHeadTooLarge(t *testing.T) {
	payload := []byte("HTTP/1.1 101 Switching Protocols\r\nX-Big: " + strings.Repeat("a", 1<<20) + "\r\n\r\n")
	many := []byte("HTTP/1.1 101 Switching Protocols\r\n" + strings.Repeat("X-Many: a\r\n", 100000) + "\r\n")
	for _, p := range [][]byte{payload, many} {
		srv := newFakeServer(t, func(c net.Conn, _ *http.Request, _ *bufio.Reader) {
			c.Write(p)
		})
		ctx := testCtx(t)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, _, err := dial(ctx, "ws://"+srv.addr+"/", directOpts())
		runtime.ReadMemStats(&after)
		require.ErrorContains(t, err, "response head exceeds 65536 bytes")
		require.ErrorIs(t, err, errHeadTooLarge)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(512<<10), "allocated too much for a bounded head")
	}
}

// hangingServer accepts and reads requests but never answers.
func hangingServer(t *testing.T) *fakeServer {
	return newFakeServer(t, func(c net.Conn, _ *http.Request, _ *bufio.Reader) {
		io.Copy(io.Discard, c)
	})
}

func TestDialTimeouts(t *testing.T) {
	t.Run("DialTimeout", func(t *testing.T) {
		srv := hangingServer(t)
		opts := directOpts()
		opts.DialTimeout = 100 * 1e6
		_, _, err := dial(testCtx(t), "ws://"+srv.addr+"/", opts)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, "handshake", requireHandshakeError(t, err).Op)
		srv.request(t)
	})
	t.Run("context deadline", func(t *testing.T) {
		srv := hangingServer(t)
		ctx, cancel := context.WithTimeout(testCtx(t), 100*1e6)
		defer cancel()
		_, _, err := dial(ctx, "ws://"+srv.addr+"/", directOpts())
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("context cancelled mid-handshake", func(t *testing.T) {
		srv := hangingServer(t)
		ctx, cancel := context.WithCancel(testCtx(t))
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, _, err := dial(ctx, "ws://"+srv.addr+"/", directOpts())
			done <- err
		}()
		srv.request(t) // the request was sent: now in the response wait
		cancel()
		err := <-done
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorContains(t, err, "context canceled")
	})
	t.Run("TCP connect honours the context", func(t *testing.T) {
		opts := directOpts()
		opts.DialTimeout = 50 * 1e6
		var gotAddr string
		opts.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			gotAddr = addr
			<-ctx.Done()
			return nil, errors.New("dial aborted by test")
		}
		_, _, err := dial(testCtx(t), "ws://example.test:81/", opts)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, "dial", requireHandshakeError(t, err).Op)
		require.Equal(t, "example.test:81", gotAddr)
	})
	t.Run("already cancelled", func(t *testing.T) {
		srv := hangingServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err := dial(ctx, "ws://"+srv.addr+"/", directOpts())
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestDialKeepsBytesAfter101(t *testing.T) {
	// A text frame "hi" and a ping, in the same write as the 101.
	frames := []byte{0x81, 0x02, 'h', 'i', 0x89, 0x00}
	srv := newFakeServer(t, func(c net.Conn, req *http.Request, _ *bufio.Reader) {
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			AcceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
		c.Write(append([]byte(resp), frames...))
		io.Copy(io.Discard, c)
	})
	for _, size := range []int{0, 16, 64 << 10} {
		opts := directOpts()
		opts.Conn.ReadBufferSize = size
		hc, _, err := dial(testCtx(t), "ws://"+srv.addr+"/", opts)
		require.NoError(t, err)
		got := make([]byte, len(frames))
		_, err = io.ReadFull(hc.br, got)
		require.NoError(t, err)
		require.Equal(t, frames, got)
		hc.conn.Close()
	}
}

func TestDialNetDialContext(t *testing.T) {
	srv := cannedServer(t, good101)
	opts := directOpts()
	var dialed []string
	opts.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = append(dialed, network+" "+addr)
		var d net.Dialer
		return d.DialContext(ctx, network, srv.addr)
	}
	hc, _, err := dial(testCtx(t), "ws://backend.test:8080/", opts)
	require.NoError(t, err)
	hc.conn.Close()
	require.Equal(t, []string{"tcp backend.test:8080"}, dialed)
	require.Equal(t, "backend.test:8080", srv.request(t).Host)
}
