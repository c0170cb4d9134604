package handshake

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fixedProxy returns a Proxy function that always answers raw.
func fixedProxy(t *testing.T, raw string) func(*url.URL) (*url.URL, error) {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return func(*url.URL) (*url.URL, error) { return u, nil }
}

// to returns a resolver that sends every CONNECT target to addr.
func to(addr string) func(string) string { return func(string) string { return addr } }

// dialAndRead dials, checks that the bytes the backend sends after the 101
// arrive, and closes.
func dialAndRead(t *testing.T, url string, opts *DialOptions, want []byte) error {
	t.Helper()
	hc, _, err := dial(testCtx(t), url, opts)
	if err != nil {
		return err
	}
	defer hc.conn.Close()
	got := make([]byte, len(want))
	_, err = io.ReadFull(hc.br, got)
	require.NoError(t, err)
	require.Equal(t, want, got)
	return nil
}

func TestDialHTTPConnectProxy(t *testing.T) {
	frame := []byte{0x81, 0x02, 'o', 'k'}
	h := newRaw101Handler()
	h.after = frame
	plain := newRaw101Server(t, h, false)
	secure := newRaw101Server(t, h, true)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("proxyuser:proxy-pa55"))

	tests := []struct {
		name       string
		proxyTLS   bool
		backend    string
		url        string // %s is replaced by the backend address
		proxyCreds string
		serverName string // TLSConfig.ServerName, meant for the WebSocket server only
		wantErr    string
		wantStatus int
	}{
		{name: "ws through http proxy", url: "ws://%s/chat", proxyCreds: "proxyuser:proxy-pa55@"},
		{name: "wss through http proxy", url: "wss://%s/chat", proxyCreds: "proxyuser:proxy-pa55@"},
		{name: "ws through https proxy", proxyTLS: true, url: "ws://%s/chat", proxyCreds: "proxyuser:proxy-pa55@"},
		{name: "wss through https proxy", proxyTLS: true, url: "wss://%s/chat", proxyCreds: "proxyuser:proxy-pa55@"},
		{name: "ServerName is not used for the proxy", proxyTLS: true, url: "wss://%s/chat", proxyCreds: "proxyuser:proxy-pa55@", serverName: "example.com"},
		{name: "wrong proxy credentials", url: "ws://%s/chat", proxyCreds: "proxyuser:wrong-pa55@", wantErr: "answered 407 Proxy Authentication Required", wantStatus: 407},
		{name: "no proxy credentials", url: "ws://%s/chat", wantErr: "answered 407", wantStatus: 407},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backend := plain
			if strings.HasPrefix(tt.url, "wss") {
				backend = secure
			}
			baddr := backend.Listener.Addr().String()
			p := newConnectProxy(t, tt.proxyTLS, auth, to(baddr))
			pURL := strings.Replace(p.srv.URL, "://", "://"+tt.proxyCreds, 1)

			opts := &DialOptions{Proxy: fixedProxy(t, pURL), TLSConfig: trusting(secure)}
			opts.TLSConfig.ServerName = tt.serverName
			if tt.proxyTLS {
				// The same config serves the proxy and the server: trust both.
				opts.TLSConfig.RootCAs.AddCert(p.srv.Certificate())
			}
			err := dialAndRead(t, strings.Replace(tt.url, "%s", baddr, 1), opts, frame)
			targets, auths := p.seen()
			require.Equal(t, []string{baddr}, targets, "CONNECT target")
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				he := requireHandshakeError(t, err)
				require.Equal(t, "proxy", he.Op)
				require.Equal(t, tt.wantStatus, he.StatusCode)
				require.NotContains(t, err.Error(), "pa55")
				return
			}
			require.NoError(t, err)
			require.Equal(t, []string{auth}, auths)
			if tt.proxyTLS {
				// The proxy is an IP address: no SNI, whatever the
				// ServerName meant for the WebSocket server.
				p.mu.Lock()
				require.Equal(t, []string{""}, p.snis)
				p.mu.Unlock()
			}
			r := <-h.reqs
			require.Equal(t, "/chat", r.RequestURI)
			require.Equal(t, baddr, r.Host)
			require.Empty(t, r.Header.Get("Proxy-Authorization"), "proxy credentials must not reach the server")
		})
	}
}

func TestDialSOCKS5Proxy(t *testing.T) {
	frame := []byte{0x82, 0x01, 0x7f}
	h := newRaw101Handler()
	h.after = frame
	backend := newRaw101Server(t, h, false)
	baddr := backend.Listener.Addr().String()
	_, bport, _ := net.SplitHostPort(baddr)

	tests := []struct {
		name       string
		user, pass string // required by the proxy
		proxyURL   string // %s: the proxy address
		url        string
		wantAtyp   byte
		wantTarget string
		wantErr    string
	}{
		{name: "socks5h passes the name", user: "sock", pass: "s0ck-pw", proxyURL: "socks5h://sock:s0ck-pw@%s", url: "ws://backend.test:" + bport + "/", wantAtyp: 3, wantTarget: "backend.test:" + bport},
		{name: "socks5 with an IP", user: "sock", pass: "s0ck-pw", proxyURL: "socks5://sock:s0ck-pw@%s", url: "ws://" + baddr + "/", wantAtyp: 1, wantTarget: baddr},
		{name: "socks5 resolves locally", proxyURL: "socks5://%s", url: "ws://localhost:" + bport + "/"},
		{name: "no credentials needed", proxyURL: "socks5h://%s", url: "ws://backend.test:" + bport + "/", wantAtyp: 3, wantTarget: "backend.test:" + bport},
		{name: "wrong credentials", user: "sock", pass: "s0ck-pw", proxyURL: "socks5h://sock:bad-pw@%s", url: "ws://backend.test:" + bport + "/", wantErr: "connecting through SOCKS5 proxy"},
		{name: "missing credentials", user: "sock", pass: "s0ck-pw", proxyURL: "socks5h://%s", url: "ws://backend.test:" + bport + "/", wantErr: "connecting through SOCKS5 proxy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newSocksProxy(t, tt.user, tt.pass, baddr)
			opts := &DialOptions{Proxy: fixedProxy(t, strings.Replace(tt.proxyURL, "%s", p.addr, 1))}
			err := dialAndRead(t, tt.url, opts, frame)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Equal(t, "proxy", requireHandshakeError(t, err).Op)
				require.NotContains(t, err.Error(), "pw")
				return
			}
			require.NoError(t, err)
			atyps, targets := p.seen()
			require.Len(t, atyps, 1)
			if tt.wantAtyp == 0 { // resolved locally: an address, not a name
				require.NotEqual(t, byte(3), atyps[0])
				return
			}
			require.Equal(t, tt.wantAtyp, atyps[0])
			require.Equal(t, []string{tt.wantTarget}, targets)
		})
	}
}

func TestDialProxyErrors(t *testing.T) {
	refused := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		return ln.Addr().String()
	}()
	tests := []struct {
		name, proxy, want string
	}{
		{"unsupported scheme", "ftp://u:secret-pw@127.0.0.1:21", `unsupported proxy scheme "ftp" in "ftp://127.0.0.1:21"`},
		{"missing host", "http://", "missing host in proxy URL"},
		{"unreachable http proxy", "http://u:secret-pw@" + refused, "connecting to proxy \"http://" + refused + "\""},
		{"unreachable socks proxy", "socks5h://u:secret-pw@" + refused, "connecting through SOCKS5 proxy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := dial(testCtx(t), "ws://backend.test/", &DialOptions{Proxy: fixedProxy(t, tt.proxy)})
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error(), "secret-pw")
		})
	}
	_, _, err := dial(testCtx(t), "ws://backend.test/", &DialOptions{Proxy: func(*url.URL) (*url.URL, error) { return nil, io.ErrUnexpectedEOF }})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// TestDialProxyFromEnvironment: with Proxy nil, HTTP_PROXY, HTTPS_PROXY and
// NO_PROXY decide, read at each Dial.
func TestDialProxyFromEnvironment(t *testing.T) {
	frame := []byte{0x81, 0x00}
	h := newRaw101Handler()
	h.after = frame
	backend := newRaw101Server(t, h, false)
	baddr := backend.Listener.Addr().String()
	_, bport, _ := net.SplitHostPort(baddr)
	p := newConnectProxy(t, false, "", to(baddr))

	// backend.test is not a real name: direct dials reach the backend
	// through this hook, proxied ones through the proxy's resolver.
	var direct []string
	netDial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(addr, "backend.test:") {
			direct = append(direct, addr)
			addr = baddr
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	for _, name := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "REQUEST_METHOD"} {
		t.Setenv(name, "")
	}
	target := "ws://backend.test:" + bport + "/"

	tests := []struct {
		name       string
		env        map[string]string
		url        string
		wantProxy  bool
		wantDirect bool
	}{
		{name: "HTTP_PROXY for ws", env: map[string]string{"HTTP_PROXY": p.srv.URL}, url: target, wantProxy: true},
		{name: "lower-case http_proxy", env: map[string]string{"http_proxy": p.srv.URL}, url: target, wantProxy: true},
		{name: "HTTPS_PROXY is not for ws", env: map[string]string{"HTTPS_PROXY": p.srv.URL}, url: target, wantDirect: true},
		{name: "NO_PROXY exact host", env: map[string]string{"HTTP_PROXY": p.srv.URL, "NO_PROXY": "backend.test"}, url: target, wantDirect: true},
		{name: "NO_PROXY domain suffix", env: map[string]string{"HTTP_PROXY": p.srv.URL, "NO_PROXY": "other.example,.test"}, url: target, wantDirect: true},
		{name: "NO_PROXY other host", env: map[string]string{"HTTP_PROXY": p.srv.URL, "NO_PROXY": "other.example"}, url: target, wantProxy: true},
		{name: "NO_PROXY wildcard", env: map[string]string{"HTTP_PROXY": p.srv.URL, "NO_PROXY": "*"}, url: target, wantDirect: true},
		{name: "loopback is never proxied", env: map[string]string{"HTTP_PROXY": p.srv.URL}, url: "ws://" + baddr + "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			before, _ := p.seen()
			direct = nil
			err := dialAndRead(t, tt.url, &DialOptions{NetDialContext: netDial}, frame)
			require.NoError(t, err)
			after, _ := p.seen()
			if tt.wantProxy {
				require.Len(t, after, len(before)+1, "the proxy must be used")
				require.Equal(t, "backend.test:"+bport, after[len(after)-1])
			} else {
				require.Len(t, after, len(before), "the proxy must not be used")
			}
			if tt.wantDirect {
				require.Equal(t, []string{"backend.test:" + bport}, direct)
			} else {
				require.Empty(t, direct)
			}
		})
	}
}

// ProxyForRequest takes net/http's proxy functions (http.ProxyURL,
// http.ProxyFromEnvironment) and sees the request the dial would make.
func TestDialProxyForRequest(t *testing.T) {
	frame := []byte{0x81, 0x00}
	h := newRaw101Handler()
	h.after = frame
	backend := newRaw101Server(t, h, false)
	baddr := backend.Listener.Addr().String()
	p := newConnectProxy(t, false, "", to(baddr))
	pu, err := url.Parse(p.srv.URL)
	require.NoError(t, err)

	var seen *http.Request
	opts := &DialOptions{
		Header: http.Header{"X-Tenant": {"blue"}},
		ProxyForRequest: func(r *http.Request) (*url.URL, error) {
			seen = r
			return http.ProxyURL(pu)(r)
		},
	}
	require.NoError(t, dialAndRead(t, "ws://"+baddr+"/chat?x=1", opts, frame))
	targets, _ := p.seen()
	require.Contains(t, targets, baddr, "the proxy must be used")
	require.NotNil(t, seen)
	require.Equal(t, http.MethodGet, seen.Method)
	require.Equal(t, "http://"+baddr+"/chat?x=1", seen.URL.String())
	require.Equal(t, baddr, seen.Host)
	require.Equal(t, "blue", seen.Header.Get("X-Tenant"))

	// net/http's environment function fits the field's type.
	env := &DialOptions{ProxyForRequest: http.ProxyFromEnvironment, NetDialContext: (&net.Dialer{}).DialContext}
	require.NoError(t, dialAndRead(t, "ws://"+baddr+"/", env, frame), "loopback is never proxied")

	// An error from the function, and both fields set.
	_, _, err = dial(testCtx(t), "ws://"+baddr+"/", &DialOptions{ProxyForRequest: func(*http.Request) (*url.URL, error) { return nil, io.ErrUnexpectedEOF }})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	_, _, err = dial(testCtx(t), "ws://"+baddr+"/", &DialOptions{ProxyForRequest: http.ProxyURL(pu), Proxy: fixedProxy(t, p.srv.URL)})
	require.ErrorContains(t, err, "both DialOptions.Proxy and DialOptions.ProxyForRequest are set")
}
