package conformance

// Family 1: framing of text and binary messages (RFC 6455, section 5.2:
// the three payload length forms; section 5.3: masking).

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
	"github.com/wslua/wslua/testserver"
)

// frameLengths are the payload lengths around the boundaries of the 7-bit,
// 16-bit and 64-bit length forms.
var frameLengths = []int{0, 125, 126, 127, 128, 65535, 65536}

// textOf returns n bytes of ASCII text.
func textOf(n int) string { return strings.Repeat("*", n) }

// binOf returns n bytes covering every byte value.
func binOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func TestServerFraming(t *testing.T) {
	var cases []srvCase
	for _, n := range frameLengths {
		cases = append(cases,
			srvCase{name: fmt.Sprintf("text %d", n), steps: []step{send(txt(textOf(n))), wantText(textOf(n))}},
			srvCase{name: fmt.Sprintf("binary %d", n), steps: []step{send(bin(binOf(n))), wantBin(binOf(n))}},
		)
	}
	cases = append(cases,
		srvCase{name: "text 128 in 1-byte writes", steps: []step{sendChunked(1, txt(textOf(128))), wantText(textOf(128))}},
		srvCase{name: "binary 300 in 1-byte writes", steps: []step{sendChunked(1, bin(binOf(300))), wantBin(binOf(300))}},
		srvCase{name: "binary 65536 in 7-byte writes", steps: []step{sendChunked(7, bin(binOf(65536))), wantBin(binOf(65536))}},
		srvCase{name: "three messages in one write", steps: []step{
			send(txt("one"), bin([]byte{2}), txt("three")), wantText("one"), wantBin([]byte{2}), wantText("three")}},
		srvCase{name: "three messages in 1-byte writes", steps: []step{
			sendChunked(1, txt("one"), bin([]byte{2}), txt("")), wantText("one"), wantBin([]byte{2}), wantText("")}},
		// Section 5.1: a server must close the connection on an unmasked frame.
		srvCase{name: "unmasked text", steps: []step{send(unmasked(txt("no mask"))), wantClose(1002)}},
		srvCase{name: "unmasked after valid", steps: []step{send(txt("ok")), wantText("ok"), send(unmasked(bin(nil))), wantClose(1002)}},
		srvCase{name: "unmasked ping", steps: []step{send(unmasked(ping("x"))), wantClose(1002)}},
	)
	runServerCases(t, cases)
}

func TestClientFraming(t *testing.T) {
	var cases []cliCase
	for _, n := range frameLengths {
		cases = append(cases,
			cliCase{name: fmt.Sprintf("echo text %d", n), target: "/echo",
				write: []msg{textMsg(textOf(n))}, read: []msg{textMsg(textOf(n))}},
			cliCase{name: fmt.Sprintf("echo binary %d", n), target: "/echo",
				write: []msg{binMsg(string(binOf(n)))}, read: []msg{binMsg(string(binOf(n)))}},
		)
	}
	cases = append(cases,
		cliCase{name: "server messages", target: "/send?text=a&binary=%00%FF&text=",
			read: []msg{textMsg("a"), binMsg("\x00\xff"), textMsg("")}},
		// Section 5.1: a client must close the connection on a masked frame.
		cliCase{name: "masked frame from server", target: "/masked",
			code: protocol.StatusProtocolError, sent: protocol.StatusProtocolError, cause: framing.ErrProtocol},
	)
	runClientCases(t, cases)
}

// TestClientFrameEncoding checks our client's frames byte by byte: each is
// masked with a fresh key, uses the shortest length form, and sets FIN and
// the opcode; and our client reads frames delivered one byte per write.
func TestClientFrameEncoding(t *testing.T) {
	l := newRawListener(t)
	var got []msg
	wait := runClient(t, l.URL("/"), protocol.Options{}, func(ctx context.Context, c *protocol.Conn) error {
		for _, n := range frameLengths {
			if err := c.Write(ctx, protocol.MessageText, []byte(textOf(n))); err != nil {
				return err
			}
			typ, p, err := c.Read(ctx)
			if err != nil {
				return err
			}
			got = append(got, msg{typ, string(p)})
		}
		return nil
	})
	s := l.accept("")
	keys := map[[4]byte]bool{}
	for _, n := range frameLengths {
		hdr, err := s.br.Peek(2)
		require.NoError(t, err)
		require.Equal(t, byte(0x81), hdr[0], "FIN and text opcode, RSV clear")
		require.NotZero(t, hdr[1]&0x80, "client frames are masked")
		wantLen := byte(n)
		switch {
		case n > 65535:
			wantLen = 127
		case n > 125:
			wantLen = 126
		}
		require.Equal(t, wantLen, hdr[1]&0x7f, "shortest length form for %d bytes", n)
		f := s.mustFrame()
		require.Equal(t, textOf(n), string(f.Payload))
		require.False(t, keys[f.Mask], "masking key reused")
		keys[f.Mask] = true
		// The answer arrives in tiny TCP writes (one byte each for the
		// short forms).
		chunk := 1
		if n > 128 {
			chunk = 13
		}
		require.NoError(t, s.writeChunked(s.encode(true, 0, framing.OpText, f.Payload), chunk))
	}
	require.NoError(t, wait())
	require.Len(t, got, len(frameLengths))
	for i, n := range frameLengths {
		require.Equal(t, textMsg(textOf(n)), got[i])
	}
}

// TestServerFramePipelinedWithRequest: frames that arrive in the same TCP
// segment as the upgrade request are not lost.
func TestServerFramePipelinedWithRequest(t *testing.T) {
	srv := testserver.New(nil)
	t.Cleanup(srv.Close)
	early := framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.OpText, Masked: true, Mask: [4]byte{9, 8, 7, 6}}, []byte("early"))
	early = framing.AppendFrame(early, framing.Header{Fin: true, Opcode: framing.OpPing, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, []byte("p"))
	c := dialRawEarly(t, srv.URL(), "/echo", early)
	c.expectMessage(framing.OpText, []byte("early"))
	c.expectControl(framing.OpPong, []byte("p"))
	c.closeHandshake()
}
