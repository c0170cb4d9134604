package protocol_test

import (
	"bytes"
	"compress/flate"
	"context"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// deflatedFragments compresses parts as the fragments of one
// permessage-deflate message: one compressed stream, flushed at the end of
// every part so that each fragment can be inflated as it arrives, without
// the final 0x00 0x00 0xff 0xff (RFC 7692, 7.2.1).
func deflatedFragments(t *testing.T, parts ...string) [][]byte {
	t.Helper()
	var b bytes.Buffer
	fw, err := flate.NewWriter(&b, flate.BestSpeed)
	require.NoError(t, err)
	out := make([][]byte, len(parts))
	for i, p := range parts {
		_, err = fw.Write([]byte(p))
		require.NoError(t, err)
		require.NoError(t, fw.Flush())
		out[i] = bytes.Clone(b.Bytes())
		b.Reset()
	}
	last, ok := bytes.CutSuffix(out[len(out)-1], []byte{0, 0, 0xff, 0xff})
	require.True(t, ok, "a sync flush ends with an empty stored block")
	out[len(out)-1] = last
	return out
}

// compressingServer returns a server Conn with permessage-deflate and the
// raw client end of its TCP connection.
func compressingServer(t *testing.T) (*protocol.Conn, net.Conn) {
	t.Helper()
	cl, sv := loopbackConns(t, nil)
	raw := cl.NetConn() // the client Conn is never used: frames are written by hand
	c := protocol.NewConn(sv.NetConn(), nil, &protocol.Options{
		Role:        protocol.RoleServer,
		Compression: &protocol.CompressionOptions{},
	})
	t.Cleanup(func() { _ = c.CloseNow() })
	return c, raw
}

// clientFrame is a masked frame as a client sends it.
func clientFrame(fin bool, rsv byte, op framing.Opcode, payload []byte) []byte {
	h := framing.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: true, Mask: [4]byte{9, 8, 7, 6}}
	return framing.AppendFrame(nil, h, payload)
}

// readMethods reads one message with each of the Conn's reading methods.
var readMethods = map[string]func(c *protocol.Conn) ([]byte, error){
	"Read": func(c *protocol.Conn) ([]byte, error) {
		_, p, err := c.Read(context.Background())
		return p, err
	},
	"ReadAppend": func(c *protocol.Conn) ([]byte, error) {
		_, p, err := c.ReadAppend(context.Background(), make([]byte, 0, 64))
		return p, err
	},
	"Reader": func(c *protocol.Conn) ([]byte, error) {
		_, r, err := c.Reader(context.Background())
		if err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	},
}

// Compressed text is validated as it is inflated: bytes that can no longer
// become UTF-8 fail the connection with 1007 at once, while the rest of the
// message has not even been sent, whichever method reads it.
func TestCompressedTextInvalidUTF8FailsFast(t *testing.T) {
	cases := []struct {
		name  string
		first string // the inflated content of the first fragment
	}{
		{"invalid byte", "valid start, then \xff and more text"},
		{"bad continuation", "caf\xc3\x28 and more"},
		{"surrogate", "\xed\xa0\x80 is U+D800"},
		{"overlong", "\xc0\xaf is an overlong slash"},
	}
	for method, read := range readMethods {
		for _, tc := range cases {
			t.Run(method+"/"+tc.name, func(t *testing.T) {
				c, raw := compressingServer(t)
				// The first fragment only: the peer then waits, and so
				// would a reader that checked UTF-8 at the message's end.
				first := deflatedFragments(t, tc.first, "the rest")[0]
				_, err := raw.Write(clientFrame(false, framing.Rsv1, framing.OpText, first))
				require.NoError(t, err)
				var rerr error
				within(t, method+" of a message invalid in its first fragment", func() { _, rerr = read(c) })
				require.ErrorIs(t, rerr, protocol.ErrInvalidUTF8)
				require.Equal(t, protocol.StatusInvalidFramePayloadData, protocol.CloseStatus(rerr))
			})
		}
	}
}

// The validation spans fragments and ends with the message: a character
// cut between two fragments is fine, one left unfinished at the end fails
// with 1007, and binary messages are not validated.
func TestCompressedTextUTF8AcrossFragments(t *testing.T) {
	cases := []struct {
		name   string
		op     framing.Opcode
		frames [][]byte // payloads of the frames
		want   string   // the message, or "" for a 1007 failure
	}{
		// "caf" and the first byte of "é", then its second byte.
		{"character across fragments", framing.OpText, deflatedFragments(t, "caf\xc3", "\xa9!"), "café!"},
		{"unfinished at the end", framing.OpText, deflatedFragments(t, "ok", "caf\xc3"), ""},
		{"binary is not validated", framing.OpBinary, deflatedFragments(t, "\xff", "\xfe"), "\xff\xfe"},
	}
	for method, read := range readMethods {
		for _, tc := range cases {
			t.Run(method+"/"+tc.name, func(t *testing.T) {
				c, raw := compressingServer(t)
				var wire []byte
				for i, p := range tc.frames {
					op, rsv := framing.OpContinuation, byte(0)
					if i == 0 {
						op, rsv = tc.op, framing.Rsv1
					}
					wire = append(wire, clientFrame(i == len(tc.frames)-1, rsv, op, p)...)
				}
				_, err := raw.Write(wire)
				require.NoError(t, err)
				var got []byte
				within(t, method, func() { got, err = read(c) })
				if tc.want == "" {
					require.ErrorIs(t, err, protocol.ErrInvalidUTF8)
					require.Equal(t, protocol.StatusInvalidFramePayloadData, protocol.CloseStatus(err))
					return
				}
				require.NoError(t, err)
				require.Equal(t, tc.want, string(got))
			})
		}
	}
}
