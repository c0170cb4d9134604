package testserver

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// TestWithOurClient runs the echo over ws:// and wss:// with handshake.Dial.
func TestWithOurClient(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := "ws"
		if useTLS {
			name = "wss"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), safetyTimeout)
			defer cancel()
			s := newServer(t, &Options{TLS: useTLS})
			require.Equal(t, useTLS, s.TLSConfig() != nil)
			c, resp, err := handshake.Dial(ctx, s.URL()+"/subprotocol", &handshake.DialOptions{
				TLSConfig:    s.TLSConfig(),
				Subprotocols: []string{"superchat"},
			})
			require.NoError(t, err)
			defer c.CloseNow()
			require.Equal(t, 101, resp.StatusCode)
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
