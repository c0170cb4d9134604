package testserver

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// unhex decodes a hex string written with spaces for readability.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

// TestScriptWireBytes checks the exact bytes each script sends first.
func TestScriptWireBytes(t *testing.T) {
	tests := []struct {
		name   string
		target string
		want   string // hex of the first bytes the server sends
		eof    bool   // the server then closes the TCP connection
	}{
		{"pong", "/pong?data=x", "8a 01 78", false},
		{"pong default", "/pong", "8a 0b" + hex.EncodeToString([]byte("unsolicited")), false},
		{"masked", "/masked", "81 86 37fa213d" + maskedHex("masked", [4]byte{0x37, 0xfa, 0x21, 0x3d}), false},
		{"badutf8", "/badutf8", "81 14 cebae1bdb9cf83cebcceb5eda080 656469746564", false},
		{"badutf8 frag", "/badutf8?frag=1", "01 0d cebae1bdb9cf83cebcceb5f490", false},
		{"badutf8 hex", "/badutf8?hex=c0af", "81 02 c0af", false},
		{"oversize ping", "/oversize?n=126&op=9", "89 7e 007e", false},
		{"oversize default", "/oversize", "82 7f 0000000000100000", false},
		{"oversize huge", "/oversize?huge=1", "82 7f 7fffffffffffffff", false},
		{"oversize top bit", "/oversize?n=9223372036854775808", "82 7f 8000000000000000", false},
		{"oversize payload", "/oversize?n=3&op=1&payload=1", "81 03 787878", false},
		{"rsv default", "/rsv", "c1 03 727376", false},
		{"rsv2 rsv3 ping", "/rsv?bit=2&bit=3&op=9", "b9 03 727376", false},
		{"opcode", "/opcode", "83 06 6f70636f6465", false},
		{"opcode after", "/opcode?op=11&after=1", "81 05 68656c6c6f 8b 06 6f70636f6465", false},
		{"fragmented", "/fragmented?text=abcdef&parts=3",
			"01 02 6162 00 02 6364 80 02 6566", false},
		{"fragmented ping binary", "/fragmented?text=abcd&parts=2&ping=1&binary=1",
			"02 02 6162 89 09 667261672d70696e67 80 02 6364", false},
		{"fragmented empty parts", "/fragmented?text=ab&parts=3", "01 00 00 01 61 80 01 62", false},
		{"raw", "/raw?hex=8100", "81 00", false},
		{"close code reason", "/close?code=1001&reason=bye", "88 05 03e9 627965", false},
		{"close empty", "/close", "88 00", false},
		{"close hex", "/close?hex=03", "88 01 03", false},
		{"close invalid code", "/close?code=1005", "88 02 03ed", false},
		{"drop header", "/drop?after=header", "81 7e 01", true},
		{"drop default", "/drop", "81 7e 01", true},
		{"drop payload", "/drop?after=payload", "81 0a 68656c6c6f", true},
		{"drop fragment", "/drop?after=fragment", "01 0e" + hex.EncodeToString([]byte("first fragment")), true},
	}
	s := newServer(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := upgrade(t, s, tc.target)
			want := unhex(t, tc.want)
			require.Equal(t, want, c.readN(len(want)))
			if tc.eof {
				c.expectEOF()
			}
		})
	}
}

func maskedHex(s string, key [4]byte) string {
	b := []byte(s)
	framing.Mask(key, 0, b)
	return hex.EncodeToString(b)
}

func TestEcho(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	tests := []struct {
		name   string
		target string
		op     framing.Opcode
		frames [][]byte // fragments sent
	}{
		{"empty text", "/", framing.OpText, [][]byte{{}}},
		{"text", "/echo", framing.OpText, [][]byte{[]byte("Hello, κόσμε")}},
		{"binary", "/", framing.OpBinary, [][]byte{{0, 1, 2, 0xff}}},
		{"fragmented", "/echo", framing.OpText, [][]byte{[]byte("ab"), {}, []byte("cd")}},
		{"1 MiB binary", "/echo", framing.OpBinary, [][]byte{big}},
		{"1 MiB text in 2 frames", "/echo", framing.OpText, [][]byte{big[:1000], big[1000:]}},
		{"subprotocol path", "/subprotocol", framing.OpText, [][]byte{[]byte("x")}},
	}
	s := newServer(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := upgrade(t, s, tc.target)
			done := make(chan struct{})
			go func() { // the echo streams back while we still write
				defer close(done)
				for i, f := range tc.frames {
					op := framing.OpContinuation
					if i == 0 {
						op = tc.op
					}
					c.send(i == len(tc.frames)-1, op, f)
				}
			}()
			op, p := c.message()
			<-done
			require.Equal(t, tc.op, op)
			require.Equal(t, string(bytes.Join(tc.frames, nil)), string(p))
			c.sendClose(1000, "")
			h, cp := c.frame()
			require.Equal(t, framing.OpClose, h.Opcode)
			require.Equal(t, unhex(t, "03e8"), cp)
			c.expectEOF()
		})
	}
}

func TestEchoLimit(t *testing.T) {
	s := newServer(t, nil)
	c := upgrade(t, s, "/echo?limit=10")
	c.send(true, framing.OpBinary, make([]byte, 10))
	_, p := c.message()
	require.Len(t, p, 10)
	c.send(true, framing.OpBinary, make([]byte, 11))
	h, cp := c.frame()
	require.Equal(t, framing.OpClose, h.Opcode)
	require.Equal(t, unhex(t, "03f1"), cp[:2], "1009 message too big")
}

func TestPingReport(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		pings   []string // payloads the server sends
		answer  []string // pong payloads the client returns
		inorder bool
	}{
		{"one", "/ping?data=hi", []string{"hi"}, []string{"hi"}, true},
		{"empty", "/ping", []string{""}, []string{""}, true},
		{"three", "/ping?data=p&count=3", []string{"p0", "p1", "p2"}, []string{"p0", "p1", "p2"}, true},
		{"reordered", "/ping?data=p&count=2", []string{"p0", "p1"}, []string{"p1", "p0"}, false},
		{"binary", "/ping?hex=00ff", []string{"\x00\xff"}, []string{"\x00\xff"}, true},
		{"125 bytes", "/ping?data=" + strings.Repeat("z", 125), []string{strings.Repeat("z", 125)}, []string{strings.Repeat("z", 125)}, true},
	}
	s := newServer(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := upgrade(t, s, tc.target)
			for _, want := range tc.pings {
				h, p := c.frame()
				require.Equal(t, framing.OpPing, h.Opcode)
				require.Equal(t, want, string(p))
			}
			// A ping from the client while the server waits is answered.
			c.send(true, framing.OpPing, []byte("client"))
			h, p := c.frame()
			require.Equal(t, framing.OpPong, h.Opcode)
			require.Equal(t, "client", string(p))
			// Data frames meanwhile are ignored.
			c.send(true, framing.OpText, []byte("ignored"))
			for _, a := range tc.answer {
				c.send(true, framing.OpPong, []byte(a))
			}
			op, msg := c.message()
			require.Equal(t, framing.OpText, op)
			var rep Report
			require.NoError(t, json.Unmarshal(msg, &rep))
			require.Equal(t, len(tc.answer), rep.Count)
			require.Equal(t, tc.inorder, rep.InOrder)
			require.Len(t, rep.Pongs, len(tc.answer))
			for i, a := range tc.answer {
				require.Equal(t, hex.EncodeToString([]byte(a)), rep.Pongs[i])
			}
			// Then it echoes.
			c.send(true, framing.OpText, []byte("after"))
			_, msg = c.message()
			require.Equal(t, "after", string(msg))
		})
	}
}

func TestPingFlood(t *testing.T) {
	s := newServer(t, nil)
	c := upgrade(t, s, "/pingflood?n=95&every=10")
	pings, datas := 0, 0
	for pings < 95 || datas < 10 {
		h, p := c.frame()
		switch h.Opcode {
		case framing.OpPing:
			require.Equal(t, strconv.Itoa(pings), string(p))
			pings++
			c.send(true, framing.OpPong, p)
		case framing.OpText:
			last := pings - 1
			require.Equal(t, "data-"+strconv.Itoa(last), string(p))
			require.True(t, pings%10 == 0 || pings == 95)
			datas++
		default:
			t.Fatalf("unexpected %v frame", h.Opcode)
		}
	}
	_, msg := c.message()
	var rep Report
	require.NoError(t, json.Unmarshal(msg, &rep))
	require.Equal(t, Report{Count: 95, InOrder: true}, rep)
}

func TestSendAndHeaders(t *testing.T) {
	s := newServer(t, nil)
	c := upgrade(t, s, "/send?text=a%20b&binary=%00%01&text=")
	for _, want := range []struct {
		op framing.Opcode
		p  string
	}{{framing.OpText, "a b"}, {framing.OpBinary, "\x00\x01"}, {framing.OpText, ""}} {
		op, p := c.message()
		require.Equal(t, want.op, op)
		require.Equal(t, want.p, string(p))
	}

	c = upgrade(t, s, "/headers", "X-Test", "one", "Origin", "http://elsewhere.example")
	op, p := c.message()
	require.Equal(t, framing.OpText, op)
	var hdr http.Header
	require.NoError(t, json.Unmarshal(p, &hdr))
	require.Equal(t, "one", hdr.Get("X-Test"))
	require.Equal(t, testKey, hdr.Get("Sec-WebSocket-Key"))
	require.Equal(t, s.Addr(), hdr.Get("Host"))
}

func TestSubprotocol(t *testing.T) {
	s := newServer(t, nil)
	c := upgrade(t, s, "/subprotocol", "Sec-WebSocket-Protocol", "superchat, chat")
	require.Equal(t, "chat", c.resp.Header.Get("Sec-WebSocket-Protocol"), "server preference wins")
	c = upgrade(t, s, "/subprotocol", "Sec-WebSocket-Protocol", "other, superchat")
	require.Equal(t, "superchat", c.resp.Header.Get("Sec-WebSocket-Protocol"))
	c = upgrade(t, s, "/echo", "Sec-WebSocket-Protocol", "chat")
	require.Empty(t, c.resp.Header.Values("Sec-WebSocket-Protocol"), "only /subprotocol negotiates")
}

func TestRefusedRequests(t *testing.T) {
	tests := []struct {
		target string
		status int
	}{
		{"/nope", http.StatusNotFound},
		{"/ping?count=0", http.StatusBadRequest},
		{"/ping?count=1001", http.StatusBadRequest},
		{"/ping?data=" + strings.Repeat("x", 126), http.StatusBadRequest},
		{"/ping?data=" + strings.Repeat("x", 124) + "&count=11", http.StatusBadRequest},
		{"/ping?hex=zz", http.StatusBadRequest},
		{"/pong?data=" + strings.Repeat("x", 126), http.StatusBadRequest},
		{"/rsv?bit=4", http.StatusBadRequest},
		{"/opcode?op=16", http.StatusBadRequest},
		{"/oversize?n=-1", http.StatusBadRequest},
		{"/oversize?n=67108865&payload=1", http.StatusBadRequest},
		{"/close?reason=x", http.StatusBadRequest},
		{"/close?code=65536", http.StatusBadRequest},
		{"/close?code=1000&reason=" + strings.Repeat("r", 124), http.StatusBadRequest},
		{"/drop?after=never", http.StatusBadRequest},
		{"/fragmented?parts=0", http.StatusBadRequest},
		{"/pingflood?n=10001", http.StatusBadRequest},
		{"/send?other=1", http.StatusBadRequest},
		{"/send?text=%zz", http.StatusBadRequest},
		{"/echo?limit=0", http.StatusBadRequest},
	}
	s := newServer(t, nil)
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			c := dialRaw(t, s, tc.target)
			require.Equal(t, tc.status, c.resp.StatusCode)
		})
	}
	// A plain HTTP request to a script path is refused by the handshake.
	resp, err := http.Get(s.HTTPURL() + "/echo")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	http.DefaultClient.CloseIdleConnections()
}

func TestCloseScript(t *testing.T) {
	opts, events := closeEvents()
	s := newServer(t, opts)
	c := upgrade(t, s, "/close?code=4000&reason="+url.QueryEscape("good bye"))
	h, p := c.frame()
	require.Equal(t, framing.OpClose, h.Opcode)
	require.Equal(t, append(unhex(t, "0fa0"), "good bye"...), p)
	c.send(true, framing.OpText, []byte("ignored data"))
	c.sendClose(4000, "ok")
	c.expectEOF()
	ev := nextEvent(t, events)
	require.Equal(t, "/close", ev.Path)
	require.EqualValues(t, 4000, ev.Code)
	require.Equal(t, "ok", ev.Reason)
	require.NoError(t, ev.Err)
}

func TestNoClose(t *testing.T) {
	opts, events := closeEvents()
	s := newServer(t, opts)
	c := upgrade(t, s, "/noclose")
	c.send(false, framing.OpText, []byte("he"))
	c.send(true, framing.OpContinuation, []byte("llo"))
	h, p := c.frame()
	require.Equal(t, framing.Header{Opcode: framing.OpText, Length: 2}, h, "frames echoed one for one")
	require.Equal(t, "he", string(p))
	h, p = c.frame()
	require.Equal(t, framing.Header{Fin: true, Opcode: framing.OpContinuation, Length: 3}, h)
	require.Equal(t, "llo", string(p))
	c.sendClose(1000, "")
	c.send(true, framing.OpPing, []byte("still there?"))
	h, p = c.frame() // the pong, not a close frame
	require.Equal(t, framing.OpPong, h.Opcode)
	require.Equal(t, "still there?", string(p))
	require.NoError(t, c.nc.Close())
	ev := nextEvent(t, events)
	require.EqualValues(t, 1000, ev.Code, "the close frame was seen, not answered")
}

func TestStallAndHalfClose(t *testing.T) {
	opts, events := closeEvents()
	s := newServer(t, opts)

	c := upgrade(t, s, "/stall")
	c.send(true, framing.OpPing, []byte("x"))
	c.expectSilence()

	d := upgrade(t, s, "/stall?drain=1")
	d.send(true, framing.OpText, []byte("x"))
	d.expectSilence()
	require.NoError(t, d.nc.Close())
	ev := nextEvent(t, events)
	require.Equal(t, "/stall", ev.Path)
	require.Equal(t, "drain=1", ev.Query)

	e := upgrade(t, s, "/stall")
	require.NoError(t, e.nc.Close()) // noticed without any byte sent
	ev = nextEvent(t, events)
	require.Equal(t, "/stall", ev.Path)
	require.Equal(t, "", ev.Query)

	hc := upgrade(t, s, "/halfclose")
	hc.expectEOF()
	hc.sendClose(1000, "") // the server still reads
	require.NoError(t, hc.nc.Close())
	ev = nextEvent(t, events)
	require.Equal(t, "/halfclose", ev.Path)
	require.NoError(t, ev.Err)

	require.Equal(t, 1, s.Handler().ActiveConns(), "only the first /stall is left")
	s.Close()
	c.expectEOF()
	require.Equal(t, 0, s.Handler().ActiveConns())
}

// TestCloseEndsEverySession opens one connection on every long-lived script
// and checks that Server.Close ends them all and returns.
func TestCloseEndsEverySession(t *testing.T) {
	opts, events := closeEvents()
	s := New(opts)
	targets := []string{"/", "/echo", "/stall", "/stall?drain=1", "/noclose", "/halfclose",
		"/masked", "/subprotocol", "/close", "/ping?count=2", "/pingflood?n=10"}
	var clients []*rawClient
	for _, target := range targets {
		clients = append(clients, upgrade(t, s, target))
	}
	s.Close()
	s.Close() // idempotent
	for range targets {
		ev := nextEvent(t, events)
		t.Logf("%s?%s ended: %v", ev.Path, ev.Query, ev.Err)
	}
	for _, c := range clients {
		_, err := io.Copy(io.Discard, c.br)
		require.NoError(t, err, "the server closed the connection")
	}
	_, err := net.Dial("tcp", s.Addr())
	require.Error(t, err, "the listener is closed")
}
