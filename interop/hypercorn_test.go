package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// hypercornEnd is one line of python/hypercorn_server.py's report.
type hypercornEnd struct {
	HTTPVersion string `json:"http_version"`
	Code        int    `json:"code"`
}

// startHypercorn runs python/hypercorn_server.py with a certificate of
// testCA, and returns its address, the CA pool and its reports.
func startHypercorn(t *testing.T) (string, *x509.CertPool, <-chan hypercornEnd) {
	t.Helper()
	if _, err := os.Stat(systemPython); err != nil {
		missingPeer(t, "%s is not installed: %v", systemPython, err)
	}
	out, err := exec.Command(systemPython, "-c", "import importlib.metadata as m, hypercorn; print(m.version('hypercorn'))").CombinedOutput()
	if err != nil {
		missingPeer(t, "python3-hypercorn is not importable by %s: %s", systemPython, strings.TrimSpace(string(out)))
	}
	t.Logf("hypercorn %s", strings.TrimSpace(string(out)))

	cert, caPEM := testCA(t)
	dir := t.TempDir()
	var chain bytes.Buffer
	for _, der := range cert.Certificate {
		pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	require.NoError(t, err)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, chain.Bytes(), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(caPEM))

	script, err := filepath.Abs(filepath.Join("python", "hypercorn_server.py"))
	require.NoError(t, err)
	cmd := exec.Command(systemPython, "-u", script, certFile, keyFile)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	ends := make(chan hypercornEnd, 256)
	portc := make(chan string, 1)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			if first {
				portc <- sc.Text()
				first = false
				continue
			}
			var e hypercornEnd
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				ends <- e
			}
		}
		close(portc)
	}()
	t.Cleanup(func() {
		stdin.Close() // the script stops when its stdin closes
		done := make(chan error, 1)
		go func() { <-readDone; done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("hypercorn did not stop within 10 s of its stdin closing")
		}
		if t.Failed() {
			t.Logf("hypercorn's stderr:\n%s", tail(stderr.String(), 4000))
		}
	})
	select {
	case port, ok := <-portc:
		if !ok {
			t.Fatalf("hypercorn server exited early: %s", stderr.String())
		}
		_, err := strconv.Atoi(port)
		require.NoError(t, err, "first line %q", port)
		return "127.0.0.1:" + port, pool, ends
	case <-time.After(20 * time.Second):
		t.Fatalf("hypercorn server did not print its port within 20 s: %s", stderr.String())
	}
	return "", nil, nil
}

// Our client opens WebSockets over HTTP/2 to Hypercorn (Python), a
// third-party RFC 8441 server: echo, subprotocol, close codes both ways,
// many WebSockets on one TCP connection.
func TestHypercornHTTP2(t *testing.T) {
	addr, roots, ends := startHypercorn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var dials atomic.Int32
	pool := &handshake.HTTP2Pool{}
	defer pool.Close()
	opts := &handshake.DialOptions{
		TLSConfig:    &tls.Config{RootCAs: roots, ServerName: "localhost"},
		HTTP2:        handshake.HTTP2Require,
		HTTP2Pool:    pool,
		Subprotocols: []string{"chat"},
		Proxy:        func(*url.URL) (*url.URL, error) { return nil, nil },
		NetDialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, a)
		},
		Conn: protocol.Options{ReadLimit: 32 << 20},
	}
	url := "wss://" + addr + "/ws"

	c, resp, err := handshake.Dial(ctx, url, opts)
	require.NoError(t, err)
	defer c.CloseNow()
	require.Equal(t, 2, resp.ProtoMajor)
	require.Equal(t, "2", resp.Header.Get("X-Http-Version"), "hypercorn saw an HTTP/2 WebSocket")
	require.Equal(t, "chat", c.Subprotocol())
	for _, m := range []struct {
		typ protocol.MessageType
		p   []byte
	}{
		{protocol.MessageText, []byte("hello hypercorn")},
		{protocol.MessageText, []byte{}},
		{protocol.MessageBinary, []byte{0, 1, 2, 255}},
		{protocol.MessageBinary, bytes.Repeat([]byte{7, 8, 9}, 1<<20)},
	} {
		require.NoError(t, c.Write(ctx, m.typ, m.p))
		typ, got, err := c.Read(ctx)
		require.NoError(t, err)
		require.Equal(t, m.typ, typ)
		require.True(t, bytes.Equal(m.p, got), "echo of %d bytes", len(m.p))
	}
	// Many WebSockets on the one connection.
	const n = 20
	conns := make([]*protocol.Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := handshake.Dial(ctx, url, opts)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
			msg := fmt.Appendf(nil, "ws %d", i)
			if err := c.Write(ctx, protocol.MessageText, msg); err != nil {
				errs <- err
				return
			}
			if _, got, err := c.Read(ctx); err != nil || !bytes.Equal(got, msg) {
				errs <- fmt.Errorf("ws %d: echo %q, %v", i, got, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, dials.Load(), "%d WebSockets over one TCP connection", n+1)

	// We close: hypercorn answers the close frame (Close returns nil). It
	// reports the close to its app as 1006 or 1000 depending on timing
	// (ws_stream.py). And hypercorn 0.13.2 then fails the whole HTTP/2
	// connection when our END_STREAM (or the close reply we owe it after
	// its own close) arrives on a stream it already forgot (KeyError in
	// hypercorn/protocol/h2.py, _handle_events): the other WebSockets on
	// the connection die with it. So one clean close per connection is all
	// this can show; the next dial then needs a new connection, which the
	// pool opens.
	require.NoError(t, conns[0].Close(protocol.StatusNormalClosure, ""))
	requireEnd(t, ends, hypercornEnd{HTTPVersion: "2", Code: anyCode})
	c.CloseNow()
	for _, c := range conns[1:] {
		c.CloseNow()
	}

	// The server closes: we see its code.
	c3, _, err := handshake.Dial(ctx, url, opts)
	require.NoError(t, err)
	defer c3.CloseNow()
	require.NoError(t, c3.Write(ctx, protocol.MessageText, []byte("close-me")))
	_, _, err = c3.Read(ctx)
	require.Equal(t, protocol.StatusCode(4003), protocol.CloseStatus(err), "%v", err)
	var ce *protocol.CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "hypercorn-bye", ce.Reason)

	c2, resp2, err := handshake.Dial(ctx, url, opts)
	require.NoError(t, err, "a dial after hypercorn dropped the connection")
	defer c2.CloseNow()
	require.Equal(t, 2, resp2.ProtoMajor)
	require.NoError(t, c2.Write(ctx, protocol.MessageText, []byte("again")))
	_, got, err := c2.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, "again", string(got))
	require.NoError(t, c2.Close(protocol.StatusNormalClosure, ""))
	requireEnd(t, ends, hypercornEnd{HTTPVersion: "2", Code: anyCode})
}

// anyCode in a wanted hypercornEnd accepts any close code.
const anyCode = -1

// requireEnd waits for the server's report of a WebSocket's end.
func requireEnd(t *testing.T, ends <-chan hypercornEnd, want hypercornEnd) {
	t.Helper()
	select {
	case got := <-ends:
		if want.Code == anyCode {
			got.Code = anyCode
		}
		require.Equal(t, want, got)
	case <-time.After(10 * time.Second):
		t.Fatalf("hypercorn did not report the end of a WebSocket within 10 s (want %+v)", want)
	}
}
