package conformance

// Family 2: pings and pongs (RFC 6455, sections 5.5.2 and 5.5.3).

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
	"github.com/wslua/wslua/testserver"
)

func TestServerPing(t *testing.T) {
	p125 := textOf(125)
	bin125 := string(binOf(125))
	var tenPings []wf
	var tenPongs []step
	for i := range 10 {
		tenPings = append(tenPings, ping(fmt.Sprintf("ping-%d", i)))
		tenPongs = append(tenPongs, wantPong(fmt.Sprintf("ping-%d", i)))
	}
	cases := []srvCase{
		{name: "ping empty", steps: []step{send(ping("")), wantPong("")}},
		{name: "ping 125", steps: []step{send(ping(p125)), wantPong(p125)}},
		{name: "ping 125 binary payload", steps: []step{send(ping(bin125)), wantPong(bin125)}},
		{name: "ping 125 in 1-byte writes", steps: []step{sendChunked(1, ping(p125)), wantPong(p125)}},
		{name: "ping 126", steps: []step{send(ping(textOf(126))), wantClose(1002)}},
		{name: "ping 65535", steps: []step{send(ping(textOf(65535))), wantClose(1002)}},
		{name: "unsolicited pong empty", steps: []step{send(pong(""), txt("after")), wantText("after")}},
		{name: "unsolicited pong 125", steps: []step{send(pong(p125), txt("after")), wantText("after")}},
		{name: "pong 126", steps: []step{send(pong(textOf(126))), wantClose(1002)}},
		{name: "unsolicited pong then ping", steps: []step{send(pong("unsolicited"), ping("p")), wantPong("p")}},
		{name: "ten pings in one write", steps: append([]step{send(tenPings...)}, tenPongs...)},
		{name: "ten pings in ten writes", steps: append([]step{sendEach(tenPings...)}, tenPongs...)},
		{name: "ten pings in 1-byte writes", steps: append([]step{sendChunked(1, tenPings...)}, tenPongs...)},
		{name: "ping then text", steps: []step{send(ping("p"), txt("t")), wantPong("p"), wantText("t")}},
		{name: "text then ping", steps: []step{send(txt("t"), ping("p")), wantText("t"), wantPong("p")}},
		{name: "fragmented ping", steps: []step{send(notFin(ping("p")), cont("q", true)), wantClose(1002)}},
		{name: "fragmented pong", steps: []step{send(notFin(pong("p")), cont("q", true)), wantClose(1002)}},
	}
	runServerCases(t, cases)
}

// pongReport is the JSON text the testserver's /ping script sends once the
// client has answered.
func pongReport(t *testing.T, payloads ...string) msg {
	rep := testserver.Report{Count: len(payloads), InOrder: true}
	for _, p := range payloads {
		rep.Pongs = append(rep.Pongs, hex.EncodeToString([]byte(p)))
	}
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	return textMsg(string(b))
}

func TestClientPing(t *testing.T) {
	p125 := textOf(125)
	bin125 := binOf(125)
	var ten []string
	for i := range 10 {
		ten = append(ten, fmt.Sprintf("p%d", i))
	}
	cases := []cliCase{
		{name: "ping empty", target: "/ping", read: []msg{pongReport(t, "")}},
		{name: "ping 125", target: "/ping?data=" + p125, read: []msg{pongReport(t, p125)}},
		{name: "ping 125 binary payload", target: "/ping?hex=" + hex.EncodeToString(bin125), read: []msg{pongReport(t, string(bin125))}},
		{name: "ten pings answered in order", target: "/ping?data=p&count=10", read: []msg{pongReport(t, ten...)}},
		{name: "ping 126", target: "/oversize?n=126&op=9",
			code: protocol.StatusProtocolError, sent: protocol.StatusProtocolError, cause: framing.ErrProtocol},
		{name: "ping 126 with payload", target: "/oversize?n=126&op=9&payload=1",
			code: protocol.StatusProtocolError, sent: protocol.StatusProtocolError, cause: framing.ErrProtocol},
		{name: "pong 126", target: "/oversize?n=126&op=10",
			code: protocol.StatusProtocolError, sent: protocol.StatusProtocolError, cause: framing.ErrProtocol},
		{name: "unsolicited pong ignored", target: "/pong", write: []msg{textMsg("x")}, read: []msg{textMsg("x")}},
		{name: "unsolicited pong 125 ignored", target: "/pong?data=" + p125, write: []msg{textMsg("x")}, read: []msg{textMsg("x")}},
		{name: "fragmented ping", target: "/raw?hex=0901" + hex.EncodeToString([]byte("p")) + "8001" + hex.EncodeToString([]byte("q")),
			code: protocol.StatusProtocolError, sent: protocol.StatusProtocolError, cause: framing.ErrProtocol},
	}
	runClientCases(t, cases)
}

// TestClientPingCallbacks checks that OnPing and OnPong see the payloads of
// the server's pings and unsolicited pongs, in wire order.
func TestClientPingCallbacks(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	opts := protocol.Options{
		OnPing: func(p []byte) { mu.Lock(); seen = append(seen, "ping:"+string(p)); mu.Unlock() },
		OnPong: func(p []byte) { mu.Lock(); seen = append(seen, "pong:"+string(p)); mu.Unlock() },
	}
	srv, _ := newEventServer(t)
	ctx := testCtx(t)
	c := dialOur(t, ctx, srv.URL()+"/pingflood?n=25&every=10", opts)
	for _, want := range []string{"data-9", "data-19", "data-24"} {
		typ, p, err := c.Read(ctx)
		require.NoError(t, err)
		require.Equal(t, protocol.MessageText, typ)
		require.Equal(t, want, string(p))
	}
	_, p, err := c.Read(ctx)
	require.NoError(t, err)
	require.JSONEq(t, `{"count":25,"inorder":true}`, string(p))
	mu.Lock()
	require.Len(t, seen, 25)
	for i, s := range seen {
		require.Equal(t, fmt.Sprintf("ping:%d", i), s)
	}
	seen = nil
	mu.Unlock()

	c2 := dialOur(t, ctx, srv.URL()+"/pong?data="+strings.Repeat("u", 3), opts)
	require.NoError(t, c2.Write(ctx, protocol.MessageText, []byte("x")))
	_, _, err = c2.Read(ctx)
	require.NoError(t, err)
	mu.Lock()
	require.Equal(t, []string{"pong:uuu"}, seen)
	mu.Unlock()
	require.NoError(t, c.Close(protocol.StatusNormalClosure, ""))
	require.NoError(t, c2.Close(protocol.StatusNormalClosure, ""))
}
