package handshake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/websocket"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// echoResult is what an echo server's handler saw.
type echoResult struct {
	upgradeErr  error
	subprotocol string
	closeErr    error // the error that ended the read loop
}

// echoServer upgrades every request with opts and echoes each message back
// until the connection ends. Its handlers' results arrive on the channel.
func echoServer(t *testing.T, opts *UpgradeOptions, useTLS bool) (*httptest.Server, chan echoResult) {
	results := make(chan echoResult, 16)
	var wg sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		c, err := Upgrade(w, r, opts)
		if err != nil {
			results <- echoResult{upgradeErr: err}
			return
		}
		defer c.CloseNow()
		res := echoResult{subprotocol: c.Subprotocol()}
		ctx := context.Background()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				res.closeErr = err
				break
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				res.closeErr = err
				break
			}
		}
		results <- res
	}))
	startServer(t, srv, useTLS, &wg)
	return srv, results
}

func wsURL(srv *httptest.Server) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestLoopback(t *testing.T) {
	tests := []struct {
		name       string
		tls        bool
		server     []string
		client     []string
		wantSub    string
		respHeader http.Header
	}{
		{name: "plain"},
		{name: "TLS", tls: true},
		{name: "subprotocol by server preference", server: []string{"v3", "v2", "v1"}, client: []string{"v1", "v2"}, wantSub: "v2"},
		{name: "no common subprotocol", server: []string{"v3"}, client: []string{"v1", "v2"}},
		{name: "response header", respHeader: http.Header{"Set-Cookie": {"session=abc"}, "X-Server": {"wslua"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, results := echoServer(t, &UpgradeOptions{Subprotocols: tt.server, ResponseHeader: tt.respHeader}, tt.tls)
			opts := &DialOptions{Subprotocols: tt.client}
			if tt.tls {
				opts.TLSConfig = trusting(srv)
			}
			ctx := testCtx(t)
			c, resp, err := Dial(ctx, wsURL(srv)+"/echo?x=1", opts)
			require.NoError(t, err)
			defer c.CloseNow()
			require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			require.Equal(t, tt.wantSub, c.Subprotocol())
			require.Equal(t, tt.wantSub, resp.Header.Get("Sec-WebSocket-Protocol"))
			for k, v := range tt.respHeader {
				require.Equal(t, v, resp.Header.Values(k))
			}

			msgs := []struct {
				typ protocol.MessageType
				p   []byte
			}{
				{protocol.MessageText, []byte("hello, wörld")},
				{protocol.MessageBinary, []byte{0, 1, 2, 0xff}},
				{protocol.MessageText, []byte{}},
				{protocol.MessageBinary, bytes.Repeat([]byte{7}, 70000)},
			}
			for _, m := range msgs {
				require.NoError(t, c.Write(ctx, m.typ, m.p))
				typ, got, err := c.Read(ctx)
				require.NoError(t, err)
				require.Equal(t, m.typ, typ)
				require.Equal(t, m.p, got)
			}
			require.NoError(t, c.Close(protocol.StatusNormalClosure, "bye"))

			res := <-results
			require.NoError(t, res.upgradeErr)
			require.Equal(t, tt.wantSub, res.subprotocol)
			var ce *protocol.CloseError
			require.ErrorAs(t, res.closeErr, &ce)
			require.Equal(t, protocol.StatusNormalClosure, ce.Code)
			require.Equal(t, "bye", ce.Reason)
			require.True(t, ce.Remote)
		})
	}
}

// TestLoopbackFirstFrameWithThe101: the server's first frame travels in the
// same TCP write as its 101 and must reach Read.
func TestLoopbackFirstFrameWithThe101(t *testing.T) {
	h := newRaw101Handler()
	h.after = framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.Opcode(protocol.MessageText)}, []byte("early bird"))
	srv := newRaw101Server(t, h, false)
	for _, size := range []int{0, 16} {
		c, _, err := Dial(testCtx(t), wsURL(srv), &DialOptions{Conn: protocol.Options{ReadBufferSize: size}})
		require.NoError(t, err)
		typ, msg, err := c.Read(testCtx(t))
		require.NoError(t, err)
		require.Equal(t, protocol.MessageText, typ)
		require.Equal(t, "early bird", string(msg))
		c.CloseNow()
	}
}

// TestUpgradeKeepsEarlyClientBytes: a client frame sent in the same write as
// the request must not be lost by Upgrade.
func TestUpgradeKeepsEarlyClientBytes(t *testing.T) {
	srv, results := echoServer(t, nil, false)
	addr := srv.Listener.Addr().String()
	frame := framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.Opcode(protocol.MessageBinary), Masked: true, Mask: [4]byte{1, 2, 3, 4}}, []byte("eager"))
	req := validRawRequest(addr).String()

	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(safetyTimeout))
	_, err = nc.Write(append([]byte(req), frame...))
	require.NoError(t, err)

	// Read the 101 head, then the echo of the frame.
	var got []byte
	buf := make([]byte, 4096)
	wantEcho := framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.Opcode(protocol.MessageBinary)}, []byte("eager"))
	for !bytes.Contains(got, wantEcho) {
		n, err := nc.Read(buf)
		require.NoError(t, err, "received so far: %q", got)
		got = append(got, buf[:n]...)
	}
	head, rest, ok := bytes.Cut(got, []byte("\r\n\r\n"))
	require.True(t, ok)
	require.True(t, bytes.HasPrefix(head, []byte("HTTP/1.1 101 Switching Protocols\r\n")), "%q", head)
	require.Contains(t, string(head), "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
	require.Equal(t, wantEcho, rest)
	nc.Close()
	res := <-results
	require.NoError(t, res.upgradeErr)
	require.Equal(t, protocol.StatusAbnormalClosure, protocol.CloseStatus(res.closeErr))
}

// TestUpgradeOriginAccepted: the default origin check lets a same-host
// browser through.
func TestUpgradeOriginAccepted(t *testing.T) {
	srv, results := echoServer(t, nil, false)
	c, _, err := Dial(testCtx(t), wsURL(srv), &DialOptions{Header: http.Header{"Origin": {srv.URL}}})
	require.NoError(t, err)
	c.Close(protocol.StatusGoingAway, "")
	require.NoError(t, (<-results).upgradeErr)

	_, resp, err := Dial(testCtx(t), wsURL(srv), &DialOptions{Header: http.Header{"Origin": {"https://evil.example"}}})
	require.ErrorContains(t, err, "server answered 403 Forbidden: websocket: origin not allowed")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, http.StatusForbidden, requireHandshakeError(t, (<-results).upgradeErr).StatusCode)
}

// xnetMsg is a message as golang.org/x/net/websocket's codec sees it.
type xnetMsg struct {
	typ  byte
	data []byte
}

var xnetCodec = websocket.Codec{
	Marshal: func(v any) ([]byte, byte, error) {
		m := v.(xnetMsg)
		return m.data, m.typ, nil
	},
	Unmarshal: func(data []byte, typ byte, v any) error {
		*v.(*xnetMsg) = xnetMsg{typ: typ, data: data}
		return nil
	},
}

// TestDialAgainstXNetWebsocket: our client against an independent server
// implementation, golang.org/x/net/websocket.
func TestDialAgainstXNetWebsocket(t *testing.T) {
	var wg sync.WaitGroup
	seen := make(chan *http.Request, 1)
	srv := httptest.NewUnstartedServer(websocket.Server{
		Handshake: func(cfg *websocket.Config, r *http.Request) error {
			seen <- r
			for _, p := range cfg.Protocol {
				if p == "chat" {
					cfg.Protocol = []string{"chat"}
					return nil
				}
			}
			cfg.Protocol = nil
			return nil
		},
		Handler: func(ws *websocket.Conn) {
			wg.Add(1)
			defer wg.Done()
			for {
				var m xnetMsg
				if err := xnetCodec.Receive(ws, &m); err != nil {
					return
				}
				if err := xnetCodec.Send(ws, m); err != nil {
					return
				}
			}
		},
	})
	startServer(t, srv, false, &wg)

	ctx := testCtx(t)
	c, resp, err := Dial(ctx, wsURL(srv)+"/x", &DialOptions{Subprotocols: []string{"superchat", "chat"}})
	require.NoError(t, err)
	defer c.CloseNow()
	require.Equal(t, "chat", c.Subprotocol())
	require.Equal(t, "chat", resp.Header.Get("Sec-WebSocket-Protocol"))
	r := <-seen
	require.Equal(t, "/x", r.URL.Path)

	for _, m := range []struct {
		typ protocol.MessageType
		p   []byte
	}{
		{protocol.MessageText, []byte("hello from wslua")},
		{protocol.MessageBinary, []byte{9, 8, 7}},
		{protocol.MessageBinary, bytes.Repeat([]byte("ab"), 40000)},
	} {
		require.NoError(t, c.Write(ctx, m.typ, m.p))
		typ, got, err := c.Read(ctx)
		require.NoError(t, err)
		require.Equal(t, m.typ, typ)
		require.Equal(t, m.p, got)
	}
	err = c.Close(protocol.StatusNormalClosure, "")
	if err != nil && !errors.Is(err, io.EOF) {
		// x/net/websocket answers the close frame; anything else is
		// acceptable only as the transport ending after it.
		require.Equal(t, protocol.StatusNormalClosure, protocol.CloseStatus(err), "%v", err)
	}
}
