package conformance

// Family 7: the closing handshake (RFC 6455, sections 5.5.1, 7 and 7.4).

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// validCloseCodes may appear in a close frame: RFC 6455, section 7.4.1 and
// the IANA registry (1012-1014), and the ranges 3000-3999 and 4000-4999
// (section 7.4.2).
var validCloseCodes = []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}

// invalidCloseCodes must not appear in a close frame: unassigned,
// reserved (1004), or only for local use (1005, 1006, 1015).
var invalidCloseCodes = []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}

func TestServerClose(t *testing.T) {
	var cases []srvCase
	for _, code := range validCloseCodes {
		cases = append(cases,
			srvCase{name: fmt.Sprintf("code %d echoed", code),
				steps: []step{send(closeF(closeBody(uint16(code), ""))), wantClose(code)}},
			srvCase{name: fmt.Sprintf("code %d with reason echoed", code),
				steps: []step{send(closeF(closeBody(uint16(code), "bye"))), wantClose(code)}},
		)
	}
	for _, code := range invalidCloseCodes {
		cases = append(cases, srvCase{name: fmt.Sprintf("invalid code %d", code),
			steps: []step{send(closeF(closeBody(uint16(code), ""))), wantClose(1002)}})
	}
	cases = append(cases,
		srvCase{name: "empty close answered", steps: []step{send(closeF(nil)), wantClose(0, 1000)}},
		srvCase{name: "1-byte payload", steps: []step{send(closeF([]byte{0x03})), wantClose(1002)}},
		srvCase{name: "reason of 123 bytes", steps: []step{send(closeF(closeBody(1000, textOf(123)))), wantClose(1000)}},
		srvCase{name: "reason of 124 bytes (payload 126)", steps: []step{send(closeF(closeBody(1000, textOf(124)))), wantClose(1002)}},
		srvCase{name: "UTF-8 reason", steps: []step{send(closeF(closeBody(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"))), wantClose(1000)}},
		srvCase{name: "close in 1-byte writes", steps: []step{sendChunked(1, closeF(closeBody(1001, "bye"))), wantClose(1001)}},
		// After the peer's close frame, nothing is answered or echoed
		// (section 5.5.1: no data frames after a close; section 1.4).
		srvCase{name: "close after close", steps: []step{
			send(closeF(closeBody(1000, "")), closeF(closeBody(1001, ""))), wantClose(1000)}},
		srvCase{name: "data after close ignored", steps: []step{
			send(closeF(closeBody(1000, "")), txt("ignored")), wantClose(1000)}},
		srvCase{name: "ping after close not answered", steps: []step{
			send(closeF(closeBody(1000, "")), ping("ignored")), wantClose(1000)}},
		srvCase{name: "close after a message", steps: []step{
			send(txt("hello"), closeF(closeBody(1000, ""))), wantText("hello"), wantClose(1000)}},
		srvCase{name: "close inside a fragmented message", steps: []step{
			send(first(framing.OpText, "a"), closeF(closeBody(1000, ""))), wantClose(1000)}},
		// The server may already have streamed part of the echo; it must
		// not send the rest after its close frame (expectClose requires
		// the end of the stream right after it).
		srvCase{name: "close inside a long fragmented message", steps: []step{
			send(first(framing.OpBinary, string(binOf(100*kib))), closeF(closeBody(1000, ""))), wantClose(1000)}},
	)
	for _, tc := range invalidUTF8[:8] {
		cases = append(cases, srvCase{name: "invalid UTF-8 reason: " + tc.name,
			steps: []step{send(closeF(closeBody(1000, tc.b))), wantClose(1007)}})
	}
	runServerCases(t, cases)
}

func TestClientClose(t *testing.T) {
	var cases []cliCase
	for _, code := range validCloseCodes {
		sc := protocol.StatusCode(code)
		cases = append(cases, cliCase{name: fmt.Sprintf("server closes with %d", code),
			target: fmt.Sprintf("/close?code=%d&reason=bye", code), code: sc, remote: true, sent: sc})
	}
	for _, code := range invalidCloseCodes {
		cases = append(cases, cliCase{name: fmt.Sprintf("server closes with invalid %d", code),
			target: "/close?code=" + strconv.Itoa(code),
			code:   protocol.StatusProtocolError, sent: protocol.StatusProtocolError, cause: framing.ErrProtocol})
	}
	cases = append(cases,
		cliCase{name: "empty close", target: "/close", code: protocol.StatusNoStatusRcvd, remote: true, sent: protocol.StatusNoStatusRcvd},
		cliCase{name: "1-byte payload", target: "/close?hex=03",
			code: protocol.StatusProtocolError, sent: protocol.StatusProtocolError, cause: framing.ErrProtocol},
		cliCase{name: "reason of 123 bytes", target: "/close?code=1000&reason=" + textOf(123),
			code: protocol.StatusNormalClosure, remote: true, sent: protocol.StatusNormalClosure},
		cliCase{name: "close inside a fragmented message", target: rawHex(first(framing.OpText, "a"), closeF(closeBody(1001, ""))),
			code: protocol.StatusGoingAway, remote: true, sent: protocol.StatusGoingAway},
		cliCase{name: "data after close ignored", target: rawHex(closeF(closeBody(1001, "")), txt("ignored")),
			code: protocol.StatusGoingAway, remote: true, sent: protocol.StatusGoingAway},
		cliCase{name: "connection dropped without close", target: "/drop?after=payload", code: protocol.StatusAbnormalClosure},
		cliCase{name: "TCP half-close without close", target: "/halfclose", code: protocol.StatusAbnormalClosure},
	)
	for _, tc := range invalidUTF8[:8] {
		cases = append(cases, cliCase{name: "invalid UTF-8 reason: " + tc.name,
			target: "/close?hex=03e8" + hex.EncodeToString([]byte(tc.b)),
			code:   protocol.StatusInvalidFramePayloadData, sent: protocol.StatusInvalidFramePayloadData, cause: protocol.ErrInvalidUTF8})
	}
	runClientCases(t, cases)
}

// TestClientInitiatedClose: our client starts the closing handshake.
func TestClientInitiatedClose(t *testing.T) {
	ctx := testCtx(t)
	srv, events := newEventServer(t)

	c := dialOur(t, ctx, srv.URL()+"/echo", protocol.Options{})
	require.NoError(t, c.Close(protocol.StatusGoingAway, "see you"))
	ev := nextEvent(t, events)
	require.Equal(t, protocol.StatusGoingAway, ev.Code)
	require.Equal(t, "see you", ev.Reason)
	_, _, err := c.Read(ctx)
	var ce *protocol.CloseError
	require.ErrorAs(t, err, &ce)
	require.True(t, ce.Received, "the server answered: %v", err)
	require.False(t, ce.Remote, "we started the close")
	require.Equal(t, protocol.StatusGoingAway, ce.Code)
	require.ErrorIs(t, c.Write(ctx, protocol.MessageText, []byte("late")), protocol.ErrClosed)
	require.NoError(t, c.Close(protocol.StatusNormalClosure, ""), "harmless after a completed handshake")

	// Codes that may not be sent, and over-long reasons, are refused and
	// nothing is sent (section 7.4.1: 1005, 1006 and 1015 are never sent).
	c = dialOur(t, ctx, srv.URL()+"/echo", protocol.Options{})
	for _, code := range invalidCloseCodes {
		require.ErrorIs(t, c.Close(protocol.StatusCode(code), ""), protocol.ErrInvalidCloseCode, "code %d", code)
	}
	require.Error(t, c.Close(protocol.StatusNormalClosure, textOf(124)))
	require.ErrorIs(t, c.Close(protocol.StatusNormalClosure, "\xff"), protocol.ErrInvalidUTF8)
	require.NoError(t, c.Write(ctx, protocol.MessageText, []byte("still open")))
	_, p, err := c.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, "still open", string(p))
	require.NoError(t, c.Close(protocol.StatusNormalClosure, textOf(123)))
	ev = nextEvent(t, events)
	require.Equal(t, protocol.StatusNormalClosure, ev.Code)
	require.Equal(t, textOf(123), ev.Reason)

	// A server that never answers: Close still returns (after the close
	// timeout) and Read reports that the peer did not answer.
	c = dialOur(t, ctx, srv.URL()+"/noclose", protocol.Options{CloseTimeout: 200 * time.Millisecond})
	require.NoError(t, c.Close(protocol.StatusNormalClosure, ""))
	_, _, err = c.Read(ctx)
	require.ErrorAs(t, err, &ce)
	require.False(t, ce.Remote)
	require.Equal(t, protocol.StatusNormalClosure, ce.Code)
	require.Equal(t, protocol.StatusNormalClosure, nextEvent(t, events).Code, "the server saw the close frame")
}

// TestClientCloseFrames checks, byte by byte on a raw server, the close
// frame our client sends in reaction to what the server sends.
func TestClientCloseFrames(t *testing.T) {
	masked := framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, []byte("x"))
	tests := []struct {
		name string
		send []byte
		want []byte // the client's close frame payload
		opts protocol.Options
	}{
		{"server closes 1001 with reason", frameBytes(closeF(closeBody(1001, "bye"))), closeBody(1001, ""), protocol.Options{}},
		{"server closes 4999", frameBytes(closeF(closeBody(4999, ""))), closeBody(4999, ""), protocol.Options{}},
		{"empty close answered empty", frameBytes(closeF(nil)), []byte{}, protocol.Options{}},
		{"invalid code", frameBytes(closeF(closeBody(1005, ""))), nil, protocol.Options{}},
		{"masked frame", masked, nil, protocol.Options{}},
		{"invalid UTF-8 text", frameBytes(txt("\xed\xa0\x80")), nil, protocol.Options{}},
		{"reserved opcode", frameBytes(wf{fin: true, op: 0xB}), nil, protocol.Options{}},
		{"RSV1", frameBytes(withRsv(framing.Rsv1, txt("x"))), nil, protocol.Options{}},
		{"over the read limit", frameBytes(bin(binOf(11))), nil, protocol.Options{ReadLimit: 10}},
	}
	codes := map[string]uint16{"invalid code": 1002, "masked frame": 1002, "invalid UTF-8 text": 1007,
		"reserved opcode": 1002, "RSV1": 1002, "over the read limit": 1009}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newRawListener(t)
			wait := runClient(t, l.URL("/"), tc.opts, func(ctx context.Context, c *protocol.Conn) error {
				_, _, err := c.Read(ctx)
				return err
			})
			s := l.accept("")
			s.mustWrite(tc.send)
			f := s.mustFrame()
			require.Equal(t, framing.OpClose, f.Opcode)
			require.True(t, f.Fin)
			want := tc.want
			if want == nil {
				code := codes[tc.name]
				require.GreaterOrEqual(t, len(f.Payload), 2)
				require.Equal(t, closeBody(code, "")[:2], f.Payload[:2], "close code")
				want = f.Payload // the reason is free text; it must be UTF-8
				require.True(t, utf8Complete(f.Payload[2:]), "reason %q", f.Payload[2:])
			}
			require.Equal(t, want, f.Payload)
			require.NoError(t, s.nc.Close()) // the server closes TCP first
			err := wait()
			require.Error(t, err)
			require.Equal(t, closeCodeOf(tc.want, codes[tc.name]), int(protocol.CloseStatus(err)), "%v", err)
		})
	}
}

// closeCodeOf is the code Read reports: the echoed code, 1005 for an empty
// close frame, or the code the client failed with.
func closeCodeOf(echo []byte, failed uint16) int {
	switch {
	case echo == nil:
		return int(failed)
	case len(echo) == 0:
		return 1005
	}
	return int(echo[0])<<8 | int(echo[1])
}

// frameBytes encodes unmasked frames, as a server sends them.
func frameBytes(frames ...wf) []byte {
	var b []byte
	for _, f := range frames {
		b = framing.AppendFrame(b, framing.Header{Fin: f.fin, Rsv: f.rsv, Opcode: f.op}, f.payload)
	}
	return b
}

// TestClientNoDataAfterClose: section 5.5.1, after sending a close frame an
// endpoint must not send data frames. The server closes while our client is
// in the middle of a fragmented message; the client answers the close frame,
// and a write attempted right after (while the client still waits for the
// server to close TCP) is refused and sends nothing.
func TestClientNoDataAfterClose(t *testing.T) {
	l := newRawListener(t)
	started := make(chan struct{})
	replied := make(chan struct{})
	wrote := make(chan error, 1)
	wait := runClient(t, l.URL("/"), protocol.Options{WriteBufferSize: 16}, func(ctx context.Context, c *protocol.Conn) error {
		w, err := c.Writer(ctx, protocol.MessageText)
		if err != nil {
			return err
		}
		if _, err := w.Write([]byte("first fragment, long enough to be sent")); err != nil {
			return err
		}
		close(started)
		go func() {
			<-replied
			_, err1 := w.Write([]byte("more data after the close"))
			wrote <- errors.Join(err1, w.Close())
		}()
		// Read handles the server's close frame and answers it.
		_, _, err = c.Read(ctx)
		return err
	})
	s := l.accept("")
	<-started
	f := s.mustFrame()
	require.Equal(t, framing.OpText, f.Opcode)
	require.False(t, f.Fin)
	s.mustWrite(frameBytes(closeF(closeBody(1001, "going"))))
	for {
		f = s.mustFrame()
		if f.Opcode == framing.OpClose {
			break
		}
		require.Equal(t, framing.OpContinuation, f.Opcode, "only the rest of the message may precede the close reply")
	}
	require.Equal(t, closeBody(1001, ""), f.Payload)
	close(replied)
	require.ErrorIs(t, <-wrote, protocol.ErrClosed)
	// Nothing follows the close frame: the server's FIN ends the client's
	// wait and the stream ends.
	require.NoError(t, s.nc.(*net.TCPConn).CloseWrite())
	_, err := s.br.ReadByte()
	require.Error(t, err, "no byte may follow the close frame")
	err = wait()
	require.Equal(t, protocol.StatusGoingAway, protocol.CloseStatus(err), "%v", err)
}
