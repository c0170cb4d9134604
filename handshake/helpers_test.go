package handshake

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// safetyTimeout keeps a broken test from hanging; nothing asserts on it.
const safetyTimeout = 20 * time.Second

// connTracker remembers open connections so a cleanup can close them and
// wait for the goroutines serving them.
type connTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func (tr *connTracker) add(c net.Conn) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.conns == nil {
		tr.conns = make(map[net.Conn]struct{})
	}
	tr.conns[c] = struct{}{}
}

func (tr *connTracker) closeAll() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for c := range tr.conns {
		c.Close()
	}
}

// serveTCP accepts connections on a fresh 127.0.0.1 listener and runs handle
// for each in its own goroutine, closing the connection afterwards. The
// cleanup closes the listener and every connection and waits for all
// goroutines.
func serveTCP(t *testing.T, handle func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	tr := &connTracker{}
	tr.wg.Add(1)
	go func() {
		defer tr.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(safetyTimeout))
			tr.add(c)
			tr.wg.Add(1)
			go func() {
				defer tr.wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		tr.closeAll()
		tr.wg.Wait()
	})
	return ln.Addr().String()
}

// fakeServer is a raw TCP server that reads one HTTP request per connection
// and answers with whatever respond writes.
type fakeServer struct {
	addr string
	reqs chan *http.Request
}

// newFakeServer starts a fakeServer. respond gets the connection, the parsed
// request and the reader positioned after it.
func newFakeServer(t *testing.T, respond func(c net.Conn, req *http.Request, br *bufio.Reader)) *fakeServer {
	t.Helper()
	s := &fakeServer{reqs: make(chan *http.Request, 16)}
	s.addr = serveTCP(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		select {
		case s.reqs <- req:
		default:
		}
		respond(c, req, br)
	})
	return s
}

// request returns the request the server received.
func (s *fakeServer) request(t *testing.T) *http.Request {
	t.Helper()
	select {
	case r := <-s.reqs:
		return r
	case <-time.After(safetyTimeout):
		t.Fatal("the server received no request")
		return nil
	}
}

// cannedServer answers every request with resp, in which "{accept}" is
// replaced by the correct Sec-WebSocket-Accept for the request's key.
func cannedServer(t *testing.T, resp string) *fakeServer {
	return newFakeServer(t, func(c net.Conn, req *http.Request, _ *bufio.Reader) {
		out := strings.ReplaceAll(resp, "{accept}", AcceptKey(req.Header.Get("Sec-WebSocket-Key")))
		c.Write([]byte(out))
		// Signal the end of the response (for close-delimited bodies and
		// truncated heads), then linger until the client closes.
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
	})
}

// good101 is a valid answer for cannedServer.
const good101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"

// raw101Handler is an http.Handler that completes the handshake by hand,
// without package protocol, then writes after (if any) and waits for the
// client to close. It records the requests it sees.
type raw101Handler struct {
	after []byte
	reqs  chan *http.Request
}

func newRaw101Handler() *raw101Handler { return &raw101Handler{reqs: make(chan *http.Request, 16)} }

func (h *raw101Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case h.reqs <- r:
	default:
	}
	nc, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(safetyTimeout))
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
	nc.Write(append([]byte(resp), h.after...))
	io.Copy(io.Discard, nc)
}

// trackConns records a server's connections so that they can be closed at
// cleanup: httptest forgets hijacked connections.
func trackConns(srv *httptest.Server) *connTracker {
	tr := &connTracker{}
	inner := srv.Config.ConnState
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			tr.add(c)
		}
		if inner != nil {
			inner(c, s)
		}
	}
	return tr
}

// startServer starts srv (with TLS if useTLS) and registers a cleanup that
// closes it and every connection it accepted, then waits for wg.
func startServer(t *testing.T, srv *httptest.Server, useTLS bool, wg *sync.WaitGroup) {
	tr := trackConns(srv)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS failures are expected
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(func() {
		srv.Close()
		tr.closeAll()
		if wg != nil {
			wg.Wait()
		}
	})
}

// newRaw101Server serves h over HTTP or HTTPS on 127.0.0.1.
func newRaw101Server(t *testing.T, h *raw101Handler, useTLS bool) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	startServer(t, srv, useTLS, nil)
	return srv
}

// certPool returns a pool trusting srv's certificate.
func certPool(srv *httptest.Server) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return pool
}

// trusting returns a TLS config that trusts srv.
func trusting(srv *httptest.Server) *tls.Config {
	return &tls.Config{RootCAs: certPool(srv)}
}

// pipe copies between a and b until either side ends, then closes both.
func pipe(a, b net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	cp := func(dst, src net.Conn) {
		defer wg.Done()
		io.Copy(dst, src)
		a.Close()
		b.Close()
	}
	go cp(a, b)
	go cp(b, a)
	wg.Wait()
}

// connectProxy is a tiny HTTP CONNECT proxy. It dials resolve(target) and
// records the targets and Proxy-Authorization headers it sees.
type connectProxy struct {
	srv     *httptest.Server
	auth    string // required Proxy-Authorization value, if not empty
	resolve func(target string) string
	mu      sync.Mutex
	targets []string
	auths   []string
	snis    []string // TLS server names clients asked for
}

func newConnectProxy(t *testing.T, useTLS bool, auth string, resolve func(string) string) *connectProxy {
	p := &connectProxy{auth: auth, resolve: resolve}
	var wg sync.WaitGroup
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.targets = append(p.targets, r.Host)
		p.auths = append(p.auths, r.Header.Get("Proxy-Authorization"))
		p.mu.Unlock()
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		if p.auth != "" && r.Header.Get("Proxy-Authorization") != p.auth {
			w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
			http.Error(w, "bad proxy credentials", http.StatusProxyAuthRequired)
			return
		}
		backend, err := net.Dial("tcp", p.resolve(r.Host))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			backend.Close()
			return
		}
		nc.SetDeadline(time.Now().Add(safetyTimeout))
		if n := brw.Reader.Buffered(); n > 0 {
			b, _ := brw.Reader.Peek(n)
			backend.Write(b)
		}
		wg.Add(1)
		defer wg.Done()
		pipe(nc, backend)
	}))
	p.srv.TLS = &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		p.mu.Lock()
		p.snis = append(p.snis, hello.ServerName)
		p.mu.Unlock()
		return nil, nil
	}}
	startServer(t, p.srv, useTLS, &wg)
	return p
}

func (p *connectProxy) seen() (targets, auths []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...), append([]string(nil), p.auths...)
}

// socksProxy is a tiny SOCKS5 proxy (RFC 1928, with RFC 1929 username and
// password when user is set). It connects every request to backend and
// records the address type and address requested.
type socksProxy struct {
	addr       string
	user, pass string
	backend    string
	mu         sync.Mutex
	atyps      []byte
	targets    []string
}

func newSocksProxy(t *testing.T, user, pass, backend string) *socksProxy {
	p := &socksProxy{user: user, pass: pass, backend: backend}
	p.addr = serveTCP(t, p.handle)
	return p
}

func (p *socksProxy) handle(c net.Conn) {
	if err := p.negotiate(c); err != nil {
		return
	}
	backend, err := net.Dial("tcp", p.backend)
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	backend.SetDeadline(time.Now().Add(safetyTimeout))
	if _, err := c.Write([]byte{5, 0, 0, 1, 127, 0, 0, 1, 0, 0}); err != nil {
		backend.Close()
		return
	}
	pipe(c, backend)
}

func (p *socksProxy) negotiate(c net.Conn) error {
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return err
	}
	if hdr[0] != 5 {
		return errors.New("not SOCKS5")
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return err
	}
	want := byte(0)
	if p.user != "" {
		want = 2
	}
	if !strings.ContainsRune(string(methods), rune(want)) {
		c.Write([]byte{5, 0xFF})
		return errors.New("no acceptable method")
	}
	if _, err := c.Write([]byte{5, want}); err != nil {
		return err
	}
	if want == 2 {
		var b [2]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			return err
		}
		user := make([]byte, b[1])
		if _, err := io.ReadFull(c, user); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, b[:1]); err != nil {
			return err
		}
		pass := make([]byte, b[0])
		if _, err := io.ReadFull(c, pass); err != nil {
			return err
		}
		if string(user) != p.user || string(pass) != p.pass {
			c.Write([]byte{1, 1})
			return errors.New("bad credentials")
		}
		if _, err := c.Write([]byte{1, 0}); err != nil {
			return err
		}
	}
	var req [4]byte
	if _, err := io.ReadFull(c, req[:]); err != nil {
		return err
	}
	var host string
	switch req[3] {
	case 1, 4:
		ip := make(net.IP, 4)
		if req[3] == 4 {
			ip = make(net.IP, 16)
		}
		if _, err := io.ReadFull(c, ip); err != nil {
			return err
		}
		host = ip.String()
	case 3:
		var n [1]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return err
		}
		name := make([]byte, n[0])
		if _, err := io.ReadFull(c, name); err != nil {
			return err
		}
		host = string(name)
	default:
		return errors.New("bad address type")
	}
	var port [2]byte
	if _, err := io.ReadFull(c, port[:]); err != nil {
		return err
	}
	p.mu.Lock()
	p.atyps = append(p.atyps, req[3])
	p.targets = append(p.targets, net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:])))))
	p.mu.Unlock()
	return nil
}

func (p *socksProxy) seen() (atyps []byte, targets []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.atyps...), append([]string(nil), p.targets...)
}
