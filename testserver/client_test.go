package testserver

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// TestWithOurClient runs the echo over ws://, wss:// and HTTP/2 (RFC 8441)
// with handshake.Dial.
func TestWithOurClient(t *testing.T) {
	for _, tt := range []struct {
		name       string
		opts       Options
		mode       handshake.HTTP2Mode
		wantStatus int
		wantMajor  int
	}{
		{name: "ws", wantStatus: 101, wantMajor: 1},
		{name: "wss", opts: Options{TLS: true}, wantStatus: 101, wantMajor: 1},
		{name: "h2", opts: Options{HTTP2: true}, mode: handshake.HTTP2Require, wantStatus: 200, wantMajor: 2},
		{name: "h2 server, HTTP/1.1 client", opts: Options{HTTP2: true}, wantStatus: 101, wantMajor: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), safetyTimeout)
			defer cancel()
			s := newServer(t, &tt.opts)
			require.Equal(t, tt.name != "ws", s.TLSConfig() != nil)
			pool := &handshake.HTTP2Pool{}
			defer pool.Close()
			c, resp, err := handshake.Dial(ctx, s.URL()+"/subprotocol", &handshake.DialOptions{
				TLSConfig:    s.TLSConfig(),
				Subprotocols: []string{"superchat"},
				HTTP2:        tt.mode,
				HTTP2Pool:    pool,
			})
			require.NoError(t, err)
			defer c.CloseNow()
			require.Equal(t, tt.wantStatus, resp.StatusCode)
			require.Equal(t, tt.wantMajor, resp.ProtoMajor)
			require.Equal(t, "superchat", c.Subprotocol())
			for _, m := range []struct {
				typ protocol.MessageType
				p   string
			}{{protocol.MessageText, "hello"}, {protocol.MessageBinary, "\x00\x01"}} {
				require.NoError(t, c.Write(ctx, m.typ, []byte(m.p)))
				typ, p, err := c.Read(ctx)
				require.NoError(t, err)
				require.Equal(t, m.typ, typ)
				require.Equal(t, m.p, string(p))
			}
			require.NoError(t, c.Close(protocol.StatusNormalClosure, "done"))
		})
	}
}
