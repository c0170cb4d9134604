package conformance

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rawListener is a hand-written WebSocket server for client tests: the test
// goroutine accepts each connection and answers the opening handshake by
// hand, then drives the server end of a rawConn.
type rawListener struct {
	t    *testing.T
	ln   net.Listener
	mu   sync.Mutex
	keys map[string]bool // Sec-WebSocket-Key values seen
}

// newRawListener listens on 127.0.0.1; the cleanup closes it.
func newRawListener(t *testing.T) *rawListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	return &rawListener{t: t, ln: ln, keys: make(map[string]bool)}
}

// URL returns the listener's ws:// URL for path.
func (l *rawListener) URL(path string) string { return "ws://" + l.ln.Addr().String() + path }

// accept accepts one connection, checks the client's opening handshake
// against RFC 6455, section 4.1 and answers it with 101 (offering the
// subprotocol sub if not empty). Each key must be fresh.
func (l *rawListener) accept(sub string) *rawConn {
	t := l.t
	t.Helper()
	require.NoError(t, l.ln.(*net.TCPListener).SetDeadline(time.Now().Add(safetyTimeout)))
	nc, err := l.ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(safetyTimeout)))
	br := bufio.NewReader(nc)
	req, err := http.ReadRequest(br)
	require.NoError(t, err)
	require.Equal(t, http.MethodGet, req.Method)
	require.Equal(t, "HTTP/1.1", req.Proto)
	require.NotEmpty(t, req.Host)
	require.True(t, headerHasToken(req.Header, "Upgrade", "websocket"), "Upgrade: %q", req.Header.Values("Upgrade"))
	require.True(t, headerHasToken(req.Header, "Connection", "upgrade"), "Connection: %q", req.Header.Values("Connection"))
	require.Equal(t, []string{"13"}, req.Header.Values("Sec-WebSocket-Version"))
	keys := req.Header.Values("Sec-WebSocket-Key")
	require.Len(t, keys, 1)
	raw, err := base64.StdEncoding.DecodeString(keys[0])
	require.NoError(t, err)
	require.Len(t, raw, 16, "the nonce is 16 bytes")
	l.mu.Lock()
	require.False(t, l.keys[keys[0]], "the nonce must be fresh for each connection")
	l.keys[keys[0]] = true
	l.mu.Unlock()
	var b strings.Builder
	b.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Accept: %s\r\n", acceptFor(keys[0]))
	if sub != "" {
		fmt.Fprintf(&b, "Sec-WebSocket-Protocol: %s\r\n", sub)
	}
	b.WriteString("\r\n")
	_, err = nc.Write([]byte(b.String()))
	require.NoError(t, err)
	return &rawConn{t: t, nc: nc, br: br, client: false}
}

// headerHasToken reports whether the comma-separated header name holds
// token, ASCII case-insensitively.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, e := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(e), token) {
				return true
			}
		}
	}
	return false
}

// bufioReader wraps r in a bufio.Reader.
func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }
