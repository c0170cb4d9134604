package lua

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/testserver"
)

// connectResult runs websocket.connect(url, opts) and returns its printed
// results.
func connectResult(t *testing.T, ws, url, opts string) string {
	t.Helper()
	return mustRunLua(t, ws, `
		local client, err = websocket.connect(`+url+`, `+opts+`)
		if client then
			print("connected", tostring(client))
			assert(client:close())
		else
			assert(client == nil and type(err) == "string")
			print("error", err)
		end
	`)
}

func TestConnectErrors(t *testing.T) {
	s := newServer(t, nil)
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		return addr
	}()
	tests := []struct {
		name string
		url  string
		opts string
		want string
	}{
		{"url not a string", `42`, "nil", "websocket: url must be a string, got number"},
		{"url nil", `nil`, "nil", "websocket: url must be a string, got nil"},
		{"unsupported scheme", `"ftp://127.0.0.1/"`, "nil", `unsupported scheme "ftp"`},
		{"missing host", `"ws:///path"`, "nil", "missing host"},
		{"garbage URL", `"::not a url"`, "nil", "invalid URL"},
		{"connection refused", `"ws://` + refused + `/"`, "nil", "connection refused"},
		{"not found", `WS .. "/no-such-path"`, "nil", "404"},
		{"bad option", `WS .. "/"`, `{dial_timeout = -5}`, "websocket: invalid option dial_timeout: duration must not be negative"},
		{"unknown option", `WS .. "/"`, `{timeout = 5}`, "websocket: invalid option timeout: unknown option"},
		{"options not a table", `WS .. "/"`, `"5s"`, "websocket: options must be a table, got string"},
		{"missing ca file", `WS .. "/"`, `{tls = {ca_file = "/no/such/ca.pem"}}`, "tls.ca_file: open /no/such/ca.pem"},
		{"proxy refused", `WS .. "/"`, `{proxy = "http://` + refused + `"}`, "proxy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := connectResult(t, s.URL(), tt.url, tt.opts)
			require.True(t, strings.HasPrefix(out, "error\t"), out)
			require.Contains(t, out, tt.want)
		})
	}
}

func TestConnectNeverShowsCredentials(t *testing.T) {
	s := newServer(t, nil)
	u := strings.Replace(s.URL(), "ws://", "ws://user:s3cret@", 1) + "/echo?token=t0ken"
	out := connectResult(t, s.URL(), `"`+u+`"`, "nil")
	require.Equal(t, "connected\twebsocket.client(ws://"+s.Addr()+"/echo, open)\n", out)
	// Errors do not show them either.
	out = connectResult(t, s.URL(), `"ws://user:s3cret@127.0.0.1:1/x"`, "nil")
	require.True(t, strings.HasPrefix(out, "error\t"), out)
	require.NotContains(t, out, "s3cret")
}

// silentListener accepts TCP connections and never writes to them (nor
// answers a TLS ClientHello); it returns the address.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// TestDialTimeout: a server that accepts TCP but never answers the opening
// handshake (ws://) or the TLS handshake (wss:// to a plain TCP port).
func TestDialTimeout(t *testing.T) {
	addr := silentListener(t)
	for _, scheme := range []string{"ws", "wss"} {
		for _, opt := range []string{`100`, `"100ms"`} {
			out := connectResult(t, "", `"`+scheme+`://`+addr+`/"`, `{dial_timeout = `+opt+`}`)
			require.True(t, strings.HasPrefix(out, "error\t"), out)
			require.Contains(t, out, "(dial_timeout 100ms exceeded)\n")
		}
	}
}

// TestDefaultDialTimeout: without dial_timeout, connect gives up after the
// default (shortened here; 45 s normally), whether the silent peer is
// reached with ws:// or wss://. Before, it waited forever.
func TestDefaultDialTimeout(t *testing.T) {
	addr := silentListener(t)
	saved := defaultDialTimeout
	defaultDialTimeout = 150 * time.Millisecond
	t.Cleanup(func() { defaultDialTimeout = saved })
	for _, scheme := range []string{"ws", "wss"} {
		out := connectResult(t, "", `"`+scheme+`://`+addr+`/"`, `nil`)
		require.True(t, strings.HasPrefix(out, "error\t"), out)
		require.Contains(t, out, "dial_timeout 150ms exceeded: the default")
	}
}

func TestConnectTLS(t *testing.T) {
	s := newServer(t, &testserver.Options{TLS: true})
	require.True(t, strings.HasPrefix(s.URL(), "wss://"))
	out := connectResult(t, s.URL(), `WS .. "/"`, "nil")
	require.True(t, strings.HasPrefix(out, "error\t"), out)
	require.Contains(t, out, "tls")
	require.Contains(t, out, "certificate")

	out = connectResult(t, s.URL(), `WS .. "/"`, `{tls = {insecure_skip_verify = true}}`)
	require.Equal(t, "connected\twebsocket.client("+s.URL()+"/, open)\n", out)
}

// TestConnectTLSFiles uses a server with our own certificate: ca_file makes
// the client trust it, server_name selects the name checked, and
// cert_file/key_file give the client certificate the server requires.
func TestConnectTLSFiles(t *testing.T) {
	dir := t.TempDir()
	caPEM, certPEM, keyPEM, cert := selfSigned(t, "wslua.test")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	ca, certFile, keyFile := write("ca.pem", caPEM), write("cert.pem", certPEM), write("key.pem", keyPEM)
	bad := write("bad.pem", []byte("not pem"))
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(caPEM))

	h := testserver.NewHandler(nil)
	hs := httptest.NewUnstartedServer(h)
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	hs.StartTLS()
	t.Cleanup(func() { h.Close(); hs.Close() })
	url := `"wss://` + hs.Listener.Addr().String() + `/"`

	tests := []struct {
		opts string
		want string
	}{
		{`{tls = {ca_file = "` + ca + `", server_name = "wslua.test", cert_file = "` + certFile + `", key_file = "` + keyFile + `"}}`, "connected"},
		{`{tls = {ca_file = "` + ca + `", cert_file = "` + certFile + `", key_file = "` + keyFile + `"}}`, "certificate"}, // name mismatch: 127.0.0.1
		{`{tls = {ca_file = "` + ca + `", server_name = "wslua.test"}}`, "error"},                                         // no client certificate
		{`{tls = {ca_file = "` + bad + `"}}`, "tls.ca_file: no PEM certificate found"},
		{`{tls = {ca_file = "` + ca + `", cert_file = "` + bad + `", key_file = "` + keyFile + `"}}`, "tls.cert_file/key_file"},
	}
	for _, tt := range tests {
		out := connectResult(t, "", url, tt.opts)
		require.Contains(t, out, tt.want, tt.opts)
		if tt.want != "connected" {
			require.True(t, strings.HasPrefix(out, "error\t"), out)
		}
	}
}

// selfSigned returns a self-signed certificate for name (usable as CA,
// server and client certificate) in PEM and as a tls.Certificate.
func selfSigned(t *testing.T, name string) (caPEM, certPEM, keyPEM []byte, cert tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		DNSNames:              []string{name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	return certPEM, certPEM, keyPEM, cert
}

func TestConnectSendsHeadersAndOrigin(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/headers", {
			headers = { ["User-Agent"] = "Lua WebSocket Client", ["X-Multi"] = {"a", "b"} },
			origin = "http://origin.test",
		}))
		local m = client:receive():receive()
		print(m.data)
		assert(client:close())
	`)
	var got map[string][]string
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.Equal(t, []string{"Lua WebSocket Client"}, got["User-Agent"])
	require.Equal(t, []string{"a", "b"}, got["X-Multi"])
	require.Equal(t, []string{"http://origin.test"}, got["Origin"])
}

func TestSubprotocol(t *testing.T) {
	s := newServer(t, nil)
	out := mustRunLua(t, s.URL(), `
		local a = assert(websocket.connect(WS .. "/subprotocol", {protocols = {"superchat", "chat"}}))
		local b = assert(websocket.connect(WS .. "/subprotocol", {protocols = {"superchat", "other"}}))
		local c = assert(websocket.connect(WS .. "/subprotocol", {protocols = {"other"}}))
		local d = assert(websocket.connect(WS .. "/"))
		print(a:protocol(), b:protocol(), c:protocol(), d:protocol())
		for _, x in ipairs({a, b, c, d}) do assert(x:close()) end
	`)
	require.Equal(t, "chat\tsuperchat\tnil\tnil\n", out)
}

// TestProxyOption goes through a minimal HTTP CONNECT proxy.
func TestProxyOption(t *testing.T) {
	s := newServer(t, nil)
	p := startConnectProxy(t)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/", {proxy = "http://`+p.addr+`"}))
		assert(client:send("via proxy"))
		print(client:receive():receive().data)
		assert(client:close())
		-- proxy = false: direct, whatever the environment says
		client = assert(websocket.connect(WS .. "/", {proxy = false}))
		assert(client:close())
	`)
	require.Equal(t, "via proxy\n", out)
	require.Equal(t, []string{s.Addr()}, p.targets())
}

type connectProxy struct {
	addr string
	mu   sync.Mutex
	seen []string
}

func (p *connectProxy) targets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string{}, p.seen...)
}

func startConnectProxy(t *testing.T) *connectProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &connectProxy{addr: l.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		open = append(open, c)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			track(c)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil || req.Method != http.MethodConnect {
					return
				}
				p.mu.Lock()
				p.seen = append(p.seen, req.Host)
				p.mu.Unlock()
				up, err := net.Dial("tcp", req.Host)
				if err != nil {
					io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
					return
				}
				track(up)
				defer up.Close()
				io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				done := make(chan struct{})
				go func() { io.Copy(up, br); up.Close(); close(done) }()
				io.Copy(c, up)
				c.Close()
				<-done
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return p
}
