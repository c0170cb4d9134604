package conformance

// Family 5: fragmentation (RFC 6455, section 5.4: a message in a first
// frame and continuation frames, FIN on the last; control frames may be
// injected between fragments; control frames themselves are never
// fragmented).

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// fragments splits s into n frames of message type op (the first frame op,
// then continuations, FIN on the last); pieces may be empty.
func fragments(op framing.Opcode, s string, n int) []wf {
	var fs []wf
	for i := range n {
		lo, hi := len(s)*i/n, len(s)*(i+1)/n
		f := cont(s[lo:hi], i == n-1)
		if i == 0 {
			f.op = op
		}
		fs = append(fs, f)
	}
	return fs
}

func TestServerFragmentation(t *testing.T) {
	const msgText = "Hello, fragmented κόσμε!"
	var cases []srvCase
	for _, n := range []int{1, 2, 3, 4, 10, len(msgText)} {
		fs := fragments(framing.OpText, msgText, n)
		bs := fragments(framing.OpBinary, string(binOf(100)), n)
		cases = append(cases,
			srvCase{name: fmt.Sprintf("text in %d fragments", n), steps: []step{send(fs...), wantText(msgText)}},
			srvCase{name: fmt.Sprintf("text in %d fragments, one write each", n), steps: []step{sendEach(fs...), wantText(msgText)}},
			srvCase{name: fmt.Sprintf("binary in %d fragments", n), steps: []step{send(bs...), wantBin(binOf(100))}},
		)
	}
	cases = append(cases,
		srvCase{name: "text in 3 fragments, 1-byte writes", steps: []step{
			sendChunked(1, fragments(framing.OpText, msgText, 3)...), wantText(msgText)}},
		// Control frames between fragments (section 5.4).
		srvCase{name: "ping between fragments answered before the message completes", steps: []step{
			send(first(framing.OpText, "frag1"), ping("between")), wantPong("between"),
			send(cont("frag2", true)), wantText("frag1frag2")}},
		srvCase{name: "two pings between three fragments", steps: []step{
			send(first(framing.OpText, "a"), ping("1")), wantPong("1"),
			send(cont("b", false), ping("2")), wantPong("2"),
			send(cont("c", true)), wantText("abc")}},
		srvCase{name: "ping between binary fragments", steps: []step{
			send(first(framing.OpBinary, "\x00"), ping("p"), cont("\x01", true)), wantPong("p"), wantBin([]byte{0, 1})}},
		srvCase{name: "pong between fragments ignored", steps: []step{
			send(first(framing.OpText, "a"), pong("p"), cont("b", true)), wantText("ab")}},
		srvCase{name: "close between fragments", steps: []step{
			send(first(framing.OpText, "a"), closeF(closeBody(1000, ""))), wantClose(1000)}},
		// Empty fragments.
		srvCase{name: "three empty fragments", steps: []step{
			send(first(framing.OpText, ""), cont("", false), cont("", true)), wantText("")}},
		srvCase{name: "empty first and last fragments", steps: []step{
			send(first(framing.OpText, ""), cont("abc", false), cont("", true)), wantText("abc")}},
		srvCase{name: "empty binary fragments", steps: []step{
			send(first(framing.OpBinary, ""), cont("", true)), wantBin([]byte{})}},
		// Continuation with nothing to continue.
		srvCase{name: "continuation first, FIN", steps: []step{send(cont("x", true)), wantClose(1002)}},
		srvCase{name: "continuation first, not FIN", steps: []step{send(cont("x", false)), wantClose(1002)}},
		srvCase{name: "continuation after a complete message", steps: []step{
			send(txt("ok"), cont("x", true)), wantText("ok"), wantClose(1002)}},
		srvCase{name: "continuation sequence, no first frame", steps: []step{
			send(cont("a", false), cont("b", false), cont("c", true)), wantClose(1002)}},
		// Fragmented control frames.
		srvCase{name: "fragmented ping", steps: []step{send(notFin(ping("a")), cont("b", true)), wantClose(1002)}},
		srvCase{name: "fragmented close", steps: []step{
			send(notFin(closeF(closeBody(1000, ""))), cont("", true)), wantClose(1002)}},
		srvCase{name: "fragmented ping inside a fragmented message", steps: []step{
			send(first(framing.OpText, "a"), notFin(ping("p")), cont("b", true)), wantClose(1002)}},
		// A new data message inside a fragmented one.
		srvCase{name: "text inside fragmented text", steps: []step{
			send(first(framing.OpText, "a"), txt("b")), wantClose(1002)}},
		srvCase{name: "text first frame inside fragmented text", steps: []step{
			send(first(framing.OpText, "a"), first(framing.OpText, "b"), cont("c", true)), wantClose(1002)}},
		srvCase{name: "binary inside fragmented text", steps: []step{
			send(first(framing.OpText, "a"), bin([]byte("b"))), wantClose(1002)}},
		srvCase{name: "text inside fragmented binary", steps: []step{
			send(first(framing.OpBinary, "a"), txt("b"), cont("c", true)), wantClose(1002)}},
	)
	runServerCases(t, cases)
}

// rawHex returns the /raw target writing the given unmasked frames.
func rawHex(frames ...wf) string {
	return "/raw?hex=" + hex.EncodeToString(frameBytes(frames...))
}

func TestClientFragmentation(t *testing.T) {
	const msgText = "Hello, fragmented κόσμε!"
	var cases []cliCase
	for _, n := range []int{1, 2, 3, 10, len(msgText), 40} {
		q := fmt.Sprintf("/fragmented?text=%s&parts=%d", url.QueryEscape(msgText), n)
		cases = append(cases,
			cliCase{name: fmt.Sprintf("text in %d fragments", n), target: q, read: []msg{textMsg(msgText)}},
			cliCase{name: fmt.Sprintf("text in %d fragments with pings", n), target: q + "&ping=1", read: []msg{textMsg(msgText)}},
			cliCase{name: fmt.Sprintf("binary in %d fragments", n), target: q + "&binary=1", read: []msg{binMsg(msgText)}},
		)
	}
	p1002 := cliCase{code: protocol.StatusProtocolError, sent: protocol.StatusProtocolError}
	with := func(c cliCase, name, target string) cliCase { c.name, c.target = name, target; return c }
	cases = append(cases,
		cliCase{name: "empty fragments", target: "/fragmented?text=&parts=3", read: []msg{textMsg("")}},
		cliCase{name: "empty and full fragments", target: rawHex(first(framing.OpText, ""), cont("abc", false), cont("", true)),
			read: []msg{textMsg("abc")}},
		cliCase{name: "pong between fragments", target: rawHex(first(framing.OpText, "a"), pong("p"), cont("b", true)),
			read: []msg{textMsg("ab")}},
		with(p1002, "continuation first", rawHex(cont("x", true))),
		cliCase{name: "continuation after a complete message", target: rawHex(txt("ok"), cont("x", true)),
			read: []msg{textMsg("ok")}, code: protocol.StatusProtocolError, sent: protocol.StatusProtocolError},
		with(p1002, "fragmented ping", rawHex(notFin(ping("a")), cont("b", true))),
		with(p1002, "fragmented close", rawHex(notFin(closeF(closeBody(1000, ""))), cont("", true))),
		with(p1002, "text inside fragmented text", rawHex(first(framing.OpText, "a"), txt("b"))),
		with(p1002, "binary inside fragmented text", rawHex(first(framing.OpText, "a"), bin([]byte("b")))),
		cliCase{name: "connection dropped after a fragment", target: "/drop?after=fragment",
			code: protocol.StatusAbnormalClosure},
	)
	runClientCases(t, cases)
}

// TestClientPingBetweenFragments proves that our client answers a ping that
// arrives inside a fragmented message before the message is complete: the
// raw server sends the last fragment only after it got the pong.
func TestClientPingBetweenFragments(t *testing.T) {
	l := newRawListener(t)
	var got msg
	wait := runClient(t, l.URL("/"), protocol.Options{}, func(ctx context.Context, c *protocol.Conn) error {
		typ, p, err := c.Read(ctx)
		got = msg{typ, string(p)}
		if err != nil {
			return err
		}
		return c.Close(protocol.StatusNormalClosure, "")
	})
	s := l.accept("")
	s.mustWrite(encodeAll(s, []wf{first(framing.OpText, "frag1"), ping("between")}))
	s.expectControl(framing.OpPong, []byte("between"))
	s.mustWrite(encodeAll(s, []wf{cont(strings.Repeat("2", 3), true)}))
	s.expectClose(1000)
	require.NoError(t, wait())
	require.Equal(t, textMsg("frag1222"), got)
}
