package handshake

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rawRequest is an upgrade request written by hand, so that tests control
// every byte.
type rawRequest struct {
	method, target, proto string
	headers               [][2]string
	body                  string
}

func validRawRequest(host string) *rawRequest {
	return &rawRequest{
		method: "GET", target: "/", proto: "HTTP/1.1",
		headers: [][2]string{
			{"Host", host},
			{"Upgrade", "websocket"},
			{"Connection", "Upgrade"},
			{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
			{"Sec-WebSocket-Version", "13"},
		},
	}
}

// set replaces (or with an empty value removes) every header named name;
// add appends one.
func (r *rawRequest) set(name, value string) *rawRequest {
	var hs [][2]string
	for _, h := range r.headers {
		if !strings.EqualFold(h[0], name) {
			hs = append(hs, h)
		}
	}
	r.headers = hs
	if value != "" {
		r.headers = append(r.headers, [2]string{name, value})
	}
	return r
}

func (r *rawRequest) add(name, value string) *rawRequest {
	r.headers = append(r.headers, [2]string{name, value})
	return r
}

func (r *rawRequest) String() string {
	var b strings.Builder
	b.WriteString(r.method + " " + r.target + " " + r.proto + "\r\n")
	for _, h := range r.headers {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("\r\n" + r.body)
	return b.String()
}

// roundTrip sends req to addr and returns the response with its body read.
func roundTrip(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(safetyTimeout))
	_, err = c.Write([]byte(req))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	require.NoError(t, err)
	return resp, string(body)
}

// upgradeServer runs Upgrade with opts for every request and reports each
// result on the returned channel. Successful connections are closed at once.
func upgradeServer(t *testing.T, opts *UpgradeOptions) (*httptest.Server, chan error) {
	errs := make(chan error, 16)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, opts)
		if c != nil {
			c.CloseNow()
		}
		errs <- err
	}))
	startServer(t, srv, false, nil)
	return srv, errs
}

func TestUpgradeRefusals(t *testing.T) {
	host := "" // filled in once the server runs
	tests := []struct {
		name       string
		req        func() *rawRequest
		opts       *UpgradeOptions
		wantStatus int
		wantBody   string
		wantHeader [2]string
	}{
		{name: "POST", req: func() *rawRequest { r := validRawRequest(host); r.method = "POST"; return r.set("Content-Length", "0") }, wantStatus: 405, wantBody: `request method must be GET, not "POST"`, wantHeader: [2]string{"Allow", "GET"}},
		{name: "HTTP/1.0", req: func() *rawRequest { r := validRawRequest(host); r.proto = "HTTP/1.0"; return r }, wantStatus: 400, wantBody: `HTTP/1.1 required, not "HTTP/1.0"`},
		{name: "no Connection", req: func() *rawRequest { return validRawRequest(host).set("Connection", "") }, wantStatus: 400, wantBody: `the Connection header lacks the "upgrade" token`},
		{name: "Connection keep-alive", req: func() *rawRequest { return validRawRequest(host).set("Connection", "keep-alive") }, wantStatus: 400, wantBody: `lacks the "upgrade" token`},
		{name: "no Upgrade", req: func() *rawRequest { return validRawRequest(host).set("Upgrade", "") }, wantStatus: 400, wantBody: `the Upgrade header lacks "websocket"`},
		{name: "Upgrade h2c", req: func() *rawRequest { return validRawRequest(host).set("Upgrade", "h2c") }, wantStatus: 400, wantBody: `the Upgrade header lacks "websocket"`},
		{name: "no version", req: func() *rawRequest { return validRawRequest(host).set("Sec-WebSocket-Version", "") }, wantStatus: 426, wantBody: "only 13 is supported", wantHeader: [2]string{"Sec-WebSocket-Version", "13"}},
		{name: "version 8", req: func() *rawRequest { return validRawRequest(host).set("Sec-WebSocket-Version", "8") }, wantStatus: 426, wantBody: "unsupported Sec-WebSocket-Version", wantHeader: [2]string{"Sec-WebSocket-Version", "13"}},
		{name: "two versions", req: func() *rawRequest { return validRawRequest(host).add("Sec-WebSocket-Version", "8") }, wantStatus: 426, wantHeader: [2]string{"Sec-WebSocket-Version", "13"}},
		{name: "no key", req: func() *rawRequest { return validRawRequest(host).set("Sec-WebSocket-Key", "") }, wantStatus: 400, wantBody: "missing Sec-WebSocket-Key header"},
		{name: "two keys", req: func() *rawRequest { return validRawRequest(host).add("Sec-WebSocket-Key", "x3JJHMbDL1EzLkh9GBhXDw==") }, wantStatus: 400, wantBody: "more than one Sec-WebSocket-Key"},
		{name: "key not base64", req: func() *rawRequest { return validRawRequest(host).set("Sec-WebSocket-Key", "not base64 at all!!!!!!!") }, wantStatus: 400, wantBody: "Sec-WebSocket-Key is not the base64 encoding of 16 bytes"},
		{name: "key of 15 bytes", req: func() *rawRequest { return validRawRequest(host).set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j") }, wantStatus: 400, wantBody: "not the base64 encoding of 16 bytes"},
		{name: "body", req: func() *rawRequest { r := validRawRequest(host).set("Content-Length", "5"); r.body = "hello"; return r }, wantStatus: 400, wantBody: "must not have a body"},
		{name: "foreign origin", req: func() *rawRequest { return validRawRequest(host).set("Origin", "http://evil.example") }, wantStatus: 403, wantBody: "origin not allowed"},
		{name: "origin hook says no", req: func() *rawRequest { return validRawRequest(host) }, opts: &UpgradeOptions{CheckOrigin: func(*http.Request) bool { return false }}, wantStatus: 403, wantBody: "origin not allowed"},
		{name: "reserved response header", req: func() *rawRequest { return validRawRequest(host) }, opts: &UpgradeOptions{ResponseHeader: http.Header{"Sec-WebSocket-Accept": {"x"}}}, wantStatus: 500, wantBody: "websocket: internal server error"},
		{name: "injected response header", req: func() *rawRequest { return validRawRequest(host) }, opts: &UpgradeOptions{ResponseHeader: http.Header{"X-A": {"b\r\nX-Evil: 1"}}}, wantStatus: 500, wantBody: "websocket: internal server error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, errs := upgradeServer(t, tt.opts)
			host = srv.Listener.Addr().String()
			resp, body := roundTrip(t, host, tt.req().String())
			require.Equal(t, tt.wantStatus, resp.StatusCode, body)
			require.True(t, strings.HasPrefix(body, "websocket: "), body)
			require.Contains(t, body, tt.wantBody)
			require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
			if tt.wantHeader[0] != "" {
				require.Equal(t, tt.wantHeader[1], resp.Header.Get(tt.wantHeader[0]))
			}
			err := <-errs
			he := requireHandshakeError(t, err)
			require.Equal(t, "upgrade", he.Op)
			require.Equal(t, tt.wantStatus, he.StatusCode)
		})
	}
}

func TestUpgradeWithoutHijacker(t *testing.T) {
	req := httptest.NewRequest("GET", "http://example.com/", nil)
	for _, h := range validRawRequest("example.com").headers {
		req.Header.Set(h[0], h[1])
	}
	rec := httptest.NewRecorder()
	c, err := Upgrade(rec, req, nil)
	require.Nil(t, c)
	he := requireHandshakeError(t, err)
	require.Equal(t, http.StatusInternalServerError, he.StatusCode)
	require.ErrorIs(t, err, http.ErrNotSupported)
	require.Equal(t, 500, rec.Code)
	require.Contains(t, rec.Body.String(), "cannot take over the connection")
}

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		name    string
		host    string
		origins []string
		want    bool
	}{
		{"no Origin", "example.com", nil, true},
		{"same host", "example.com", []string{"https://example.com"}, true},
		{"same host and port", "example.com:8080", []string{"http://example.com:8080"}, true},
		{"case-insensitive", "Example.COM", []string{"https://example.com"}, true},
		{"other host", "example.com", []string{"https://evil.example"}, false},
		{"suffix is not enough", "example.com", []string{"https://example.com.evil.example"}, false},
		{"other port", "example.com:8080", []string{"http://example.com:9090"}, false},
		{"port missing", "example.com:8080", []string{"http://example.com"}, false},
		{"null origin", "example.com", []string{"null"}, false},
		{"garbage", "example.com", []string{"http://[::1"}, false},
		{"two origins", "example.com", []string{"https://example.com", "https://example.com"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://"+tt.host+"/", nil)
			r.Host = tt.host
			for _, o := range tt.origins {
				r.Header.Add("Origin", o)
			}
			require.Equal(t, tt.want, sameOrigin(r))
		})
	}
}

func TestChooseSubprotocol(t *testing.T) {
	tests := []struct {
		name   string
		client []string
		server []string
		want   string
	}{
		{"none offered", nil, []string{"a"}, ""},
		{"none supported", []string{"a"}, nil, ""},
		{"server preference wins", []string{"b, a"}, []string{"a", "b"}, "a"},
		{"over several lines", []string{"x", "y,  b"}, []string{"a", "b"}, "b"},
		{"no overlap", []string{"x, y"}, []string{"a", "b"}, ""},
		{"case-sensitive", []string{"Chat"}, []string{"chat"}, ""},
		{"non-token client entry ignored", []string{"a b, c"}, []string{"a b", "c"}, "c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, chooseSubprotocol(tt.client, tt.server))
		})
	}
}

// Headers the handler set on w.Header() before Upgrade go out with the 101
// answer, next to UpgradeOptions.ResponseHeader; reserved ones are refused
// with 500 rather than silently dropped.
func TestUpgradeSendsHandlerHeaders(t *testing.T) {
	tests := []struct {
		name       string
		set        http.Header // put on w.Header() by the handler
		opts       *UpgradeOptions
		wantStatus int
		want       http.Header
	}{
		{
			name:       "cookie and custom headers",
			set:        http.Header{"Set-Cookie": {"id=1", "theme=dark"}, "X-Request-Id": {"abc"}},
			opts:       &UpgradeOptions{ResponseHeader: http.Header{"X-From-Options": {"yes"}}},
			wantStatus: http.StatusSwitchingProtocols,
			want:       http.Header{"Set-Cookie": {"id=1", "theme=dark"}, "X-Request-Id": {"abc"}, "X-From-Options": {"yes"}},
		},
		{name: "reserved header", set: http.Header{"Sec-Websocket-Accept": {"forged"}}, wantStatus: http.StatusInternalServerError},
		{name: "CR LF in a value", set: http.Header{"X-A": {"b\r\nX-Evil: 1"}}, wantStatus: http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := make(chan error, 1)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.set {
					w.Header()[k] = v
				}
				c, err := Upgrade(w, r, tt.opts)
				if c != nil {
					c.CloseNow()
				}
				errs <- err
			}))
			startServer(t, srv, false, nil)
			addr := srv.Listener.Addr().String()
			resp, body := roundTrip(t, addr, validRawRequest(addr).String())
			require.Equal(t, tt.wantStatus, resp.StatusCode, body)
			err := <-errs
			if tt.wantStatus != http.StatusSwitchingProtocols {
				he := requireHandshakeError(t, err)
				require.Equal(t, "invalid header set on the ResponseWriter before Upgrade", he.Reason)
				require.Empty(t, resp.Header.Get("X-Evil"))
				return
			}
			require.NoError(t, err)
			for k, v := range tt.want {
				require.Equal(t, v, resp.Header.Values(k), k)
			}
		})
	}
}
