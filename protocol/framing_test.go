package protocol

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// requireFailed checks that err reports a failure of the connection by this
// endpoint with code, that the raw peer received a close frame with that
// code, and that the TCP connection was closed.
func requireFailed(t *testing.T, c *Conn, p *rawPeer, err error, code StatusCode) *CloseError {
	t.Helper()
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, code, ce.Code, "%v", err)
	require.False(t, ce.Remote)
	require.Error(t, ce.Err)
	require.ErrorIs(t, err, ErrClosed)
	got := p.expectClose()
	require.GreaterOrEqual(t, len(got), 2)
	require.Equal(t, code, StatusCode(binary.BigEndian.Uint16(got)))
	require.True(t, validUTF8(got[2:]))
	p.expectEOF()
	// The same error again, and every other call fails with ErrClosed.
	_, _, err2 := c.Read(bg())
	require.Same(t, ce, err2.(*CloseError))
	require.ErrorIs(t, c.Write(bg(), MessageText, []byte("x")), ErrClosed)
	return ce
}

func readCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// RFC 6455, section 5.2: frame header rules. Every violation fails the
// connection with 1002 and an error matching framing.ErrProtocol.
func TestRFC5_2_FrameViolations(t *testing.T) {
	lengthTopBit := []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}
	tests := []struct {
		name string
		role Role // of the Conn under test
		raw  func(p *rawPeer) []byte
	}{
		{"reserved opcode 3", RoleServer, func(p *rawPeer) []byte { return p.frame(3, true, []byte("x")) }},
		{"reserved opcode 7", RoleServer, func(p *rawPeer) []byte { return p.frame(7, true, nil) }},
		{"reserved control opcode 0xB", RoleServer, func(p *rawPeer) []byte { return p.frame(0xB, true, nil) }},
		{"reserved control opcode 0xF", RoleClient, func(p *rawPeer) []byte { return p.frame(0xF, true, nil) }},
		{"rsv1", RoleServer, func(p *rawPeer) []byte { return rsv(p.frame(framing.OpText, true, []byte("x")), framing.Rsv1) }},
		{"rsv2", RoleServer, func(p *rawPeer) []byte { return rsv(p.frame(framing.OpBinary, true, nil), framing.Rsv2) }},
		{"rsv3 on ping", RoleClient, func(p *rawPeer) []byte { return rsv(p.frame(framing.OpPing, true, nil), framing.Rsv3) }},
		{"unmasked frame to server", RoleServer, func(p *rawPeer) []byte {
			return framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.OpText}, []byte("hi"))
		}},
		{"masked frame to client", RoleClient, func(p *rawPeer) []byte {
			return framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.OpText, Masked: true, Mask: [4]byte{9, 9, 9, 9}}, []byte("hi"))
		}},
		{"ping longer than 125", RoleServer, func(p *rawPeer) []byte { return p.frame(framing.OpPing, true, make([]byte, 126)) }},
		{"close longer than 125", RoleClient, func(p *rawPeer) []byte {
			return p.frame(framing.OpClose, true, closePayload(1000, string(make([]byte, 124))))
		}},
		{"fragmented ping", RoleServer, func(p *rawPeer) []byte { return p.frame(framing.OpPing, false, nil) }},
		{"fragmented pong", RoleClient, func(p *rawPeer) []byte { return p.frame(framing.OpPong, false, nil) }},
		{"64-bit length with top bit", RoleServer, func(p *rawPeer) []byte { return lengthTopBit }},
		{"violation after a good message", RoleServer, func(p *rawPeer) []byte {
			return append(p.frame(framing.OpText, true, []byte("ok")), p.frame(5, true, nil)...)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, p := withRaw(t, tc.role, nil)
			p.write(tc.raw(p))
			_, msg, err := c.Read(readCtx(t))
			if err == nil {
				require.Equal(t, "ok", string(msg))
				_, _, err = c.Read(readCtx(t))
			}
			require.ErrorIs(t, err, framing.ErrProtocol)
			requireFailed(t, c, p, err, StatusProtocolError)
		})
	}
}

func rsv(frame []byte, bits byte) []byte {
	frame[0] |= bits
	return frame
}

// The RSV hook: bits allowed for a negotiated extension pass Check.
func TestAllowedRsvHook(t *testing.T) {
	c, p := withRaw(t, RoleServer, nil)
	c.allowedRsv = framing.Rsv1
	p.write(rsv(p.frame(framing.OpBinary, true, []byte("z")), framing.Rsv1))
	_, msg, err := c.Read(readCtx(t))
	require.NoError(t, err)
	require.Equal(t, "z", string(msg))
}

// Frames of every length form, in both directions and both roles.
func TestRFC5_2_LengthForms(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 70000, maxPooledPayload - 14, maxPooledPayload + 1}
	for _, role := range []Role{RoleClient, RoleServer} {
		for _, n := range sizes {
			t.Run(role.String(), func(t *testing.T) {
				c, p := withRaw(t, role, &Options{ReadLimit: -1})
				payload := make([]byte, n)
				for i := range payload {
					payload[i] = byte(i * 7)
				}
				done := make(chan error, 1)
				go func() { done <- c.Write(bg(), MessageBinary, payload) }()
				h, got := p.mustNext()
				require.NoError(t, recv(t, "the call", done))
				require.True(t, h.Fin)
				require.Equal(t, framing.OpBinary, h.Opcode)
				require.Equal(t, payload, got)

				p.send(framing.OpBinary, true, payload)
				typ, msg, err := c.Read(readCtx(t))
				require.NoError(t, err)
				require.Equal(t, MessageBinary, typ)
				require.Equal(t, payload, msg)
			})
		}
	}
}

// Client frames carry fresh masking keys.
func TestMaskKeysVary(t *testing.T) {
	c, p := withRaw(t, RoleClient, nil)
	seen := map[[4]byte]bool{}
	go func() {
		for i := 0; i < 600; i++ {
			if c.Write(bg(), MessageText, []byte("k")) != nil {
				return
			}
		}
	}()
	for i := 0; i < 600; i++ {
		h, b := p.mustNext()
		require.Equal(t, "k", string(b))
		seen[h.Mask] = true
	}
	require.Greater(t, len(seen), 590, "masking keys must not repeat")
	keys := map[[4]byte]bool{}
	for i := 0; i < 1000; i++ {
		keys[newMaskKey()] = true
	}
	require.Greater(t, len(keys), 990)
}
