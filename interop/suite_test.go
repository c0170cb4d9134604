package interop

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/protocol"
)

// runSuite runs every interop check of client cl against server tg:
// messages of every size and type, fragmentation both ways, ping/pong both
// ways, close codes both ways and subprotocol negotiation.
func runSuite(t *testing.T, cl clientImpl, tg *target) {
	t.Run("messages", func(t *testing.T) { testMessages(t, cl, tg) })
	t.Run("fragmented", func(t *testing.T) { testFragmented(t, cl, tg) })
	t.Run("ping", func(t *testing.T) { testPing(t, cl, tg) })
	t.Run("close", func(t *testing.T) { testClose(t, cl, tg) })
	t.Run("subprotocol", func(t *testing.T) { testSubprotocol(t, cl, tg) })
}

// dialT dials url and closes the connection at the end of the test.
func dialT(t *testing.T, cl clientImpl, url string, subprotocols []string) clientConn {
	t.Helper()
	c, err := cl.dial(testCtx(t), url, subprotocols)
	require.NoError(t, err, "dial %s", url)
	t.Cleanup(c.abort)
	return c
}

// readMessage reads one message and checks its type and payload.
func readMessage(t *testing.T, c clientConn, typ protocol.MessageType, want []byte, what string) {
	t.Helper()
	gotTyp, got, err := c.read(testCtx(t))
	require.NoError(t, err, what)
	require.Equal(t, typ, gotTyp, "%s: message type", what)
	requireSamePayload(t, want, got, what)
}

// closeNormally ends a session with the closing handshake (1000).
func closeNormally(t *testing.T, c clientConn) {
	t.Helper()
	reply, err := c.close(testCtx(t), 1000, "done")
	require.NoError(t, err, "closing handshake")
	require.Equal(t, 1000, reply, "code of the server's close frame")
}

func testMessages(t *testing.T, cl clientImpl, tg *target) {
	for _, typ := range messageTypes {
		for _, size := range messageSizes {
			t.Run(fmt.Sprintf("%s/%d", typ, size), func(t *testing.T) {
				c := dialT(t, cl, tg.echoURL(newSessionID()), nil)
				p := payload(typ, size, size)
				require.NoError(t, c.write(testCtx(t), typ, p))
				readMessage(t, c, typ, p, "echo")
				// A second message on the same connection, to check that
				// the framing of the first one left the stream in sync.
				p2 := payload(typ, 126, size+1)
				require.NoError(t, c.write(testCtx(t), typ, p2))
				readMessage(t, c, typ, p2, "second echo")
				closeNormally(t, c)
			})
		}
	}
}

// clientParts are the Write calls of a fragmented client message: uneven,
// starting with a 1-byte write and cutting multi-byte UTF-8 sequences.
func clientParts(p []byte) [][]byte {
	cuts := []int{1, 4096, 4097, 40000, 40001}
	var parts [][]byte
	prev := 0
	for _, c := range cuts {
		if c > len(p) {
			break
		}
		parts = append(parts, p[prev:c])
		prev = c
	}
	return append(parts, p[prev:])
}

func testFragmented(t *testing.T, cl clientImpl, tg *target) {
	const size, parts = 100_000, 5
	for _, typ := range messageTypes {
		t.Run("client-writer/"+typ.String(), func(t *testing.T) {
			c := dialT(t, cl, tg.echoURL(newSessionID()), nil)
			p := payload(typ, size, 7)
			require.NoError(t, c.writeParts(testCtx(t), typ, clientParts(p), nil))
			readMessage(t, c, typ, p, "echo of a fragmented message")
			frames, err := c.tap().out.lastMessageFrames()
			require.NoError(t, err)
			require.GreaterOrEqual(t, frames, 2, "the client's streaming writer should send several frames")
			t.Logf("%s sent the message in %d frames", cl.name(), frames)
			closeNormally(t, c)
		})
		t.Run("client-writer-empty/"+typ.String(), func(t *testing.T) {
			c := dialT(t, cl, tg.echoURL(newSessionID()), nil)
			require.NoError(t, c.writeParts(testCtx(t), typ, nil, nil))
			readMessage(t, c, typ, []byte{}, "echo of an empty message sent through the writer")
			require.NoError(t, c.writeParts(testCtx(t), typ, [][]byte{{}, {}, []byte("x"), {}}, nil))
			readMessage(t, c, typ, []byte("x"), "echo of a message written with empty writes")
			closeNormally(t, c)
		})
		t.Run("ping-between-fragments/"+typ.String(), func(t *testing.T) {
			c := dialT(t, cl, tg.echoURL(newSessionID()), nil)
			p := payload(typ, 30_000, 10)
			ping := func() error {
				_, err := c.ping(testCtx(t), []byte("between"))
				return err
			}
			require.NoError(t, c.writeParts(testCtx(t), typ, [][]byte{p[:10_000], p[10_000:]}, ping))
			readMessage(t, c, typ, p, "echo of a message with a ping between its fragments")
			require.GreaterOrEqual(t, c.tap().out.interleavedControls(), 1, "the ping should go out between two fragments")
			_, pongs := c.controls().get()
			require.Len(t, pongs, 1, "pongs received")
			closeNormally(t, c)
		})
		t.Run("server-writer/"+typ.String(), func(t *testing.T) {
			n := size
			if tg.kind == kindTestserver {
				n = 6000 // the message travels in the URL
			}
			p := payload(typ, n, 8)
			u, sendFirst := tg.fragmentedURL(p, typ == protocol.MessageBinary, parts)
			c := dialT(t, cl, u, nil)
			if sendFirst {
				require.NoError(t, c.write(testCtx(t), typ, p))
			}
			readMessage(t, c, typ, p, "message sent in fragments by the server")
			frames, err := c.tap().in.lastMessageFrames()
			require.NoError(t, err)
			require.GreaterOrEqual(t, frames, parts, "the server should send the message in %d fragments", parts)
			t.Logf("%s sent the message in %d frames", tg.name, frames)
			closeNormally(t, c)
		})
		if tg.kind == kindContract {
			t.Run("both/"+typ.String(), func(t *testing.T) {
				u, _ := tg.fragmentedURL(nil, false, parts)
				c := dialT(t, cl, u, nil)
				p := payload(typ, size, 9)
				require.NoError(t, c.writeParts(testCtx(t), typ, clientParts(p), nil))
				readMessage(t, c, typ, p, "fragmented echo of a fragmented message")
				in, err := c.tap().in.lastMessageFrames()
				require.NoError(t, err)
				out, err := c.tap().out.lastMessageFrames()
				require.NoError(t, err)
				require.GreaterOrEqual(t, out, 2)
				require.GreaterOrEqual(t, in, parts)
				closeNormally(t, c)
			})
		}
	}
}

func testPing(t *testing.T, cl clientImpl, tg *target) {
	full := make([]byte, 125)
	for i := range full {
		full[i] = byte(255 - i)
	}
	for _, p := range [][]byte{{}, []byte("hello"), full} {
		t.Run(fmt.Sprintf("client-to-server/%d", len(p)), func(t *testing.T) {
			c := dialT(t, cl, tg.echoURL(newSessionID()), nil)
			custom, err := c.ping(testCtx(t), p)
			require.NoError(t, err)
			// The pong comes before the echo of a message sent after the
			// ping, and is seen while reading that echo.
			require.NoError(t, c.write(testCtx(t), protocol.MessageText, []byte("after ping")))
			readMessage(t, c, protocol.MessageText, []byte("after ping"), "echo after the ping")
			_, pongs := c.controls().get()
			require.Len(t, pongs, 1, "pongs received")
			if custom {
				require.Equal(t, string(p), string(pongs[0]), "the pong echoes the ping payload")
			}
			closeNormally(t, c)
		})
	}
	t.Run("server-to-client", func(t *testing.T) {
		const data = "server-ping-ü"
		c := dialT(t, cl, tg.pingURL(data), nil)
		typ, msg, err := c.read(testCtx(t))
		require.NoError(t, err)
		require.Equal(t, protocol.MessageText, typ)
		pings, _ := c.controls().get()
		tg.checkPingResult(t, msg, data, pings)
		closeNormally(t, c)
	})
}

// closeCases are the close codes exchanged both ways, with their reasons.
var closeCases = []struct {
	code   int
	reason string
}{
	{1000, "normal closure"},
	{1001, "going away"},
	{3000, "registered code 3000"},
	{4999, "private code 4999 ✓"},
}

func testClose(t *testing.T, cl clientImpl, tg *target) {
	for _, cc := range closeCases {
		t.Run(fmt.Sprintf("client-initiated/%d", cc.code), func(t *testing.T) {
			id := newSessionID()
			c := dialT(t, cl, tg.echoURL(id), nil)
			reply, err := c.close(testCtx(t), cc.code, cc.reason)
			require.NoError(t, err, "closing handshake")
			require.Equal(t, cc.code, reply, "the server echoes the close code")
			rep := tg.closes.wait(t, id)
			require.Equal(t, cc.code, rep.Code, "code seen by the server")
			require.Equal(t, cc.reason, rep.Reason, "reason seen by the server")
		})
		t.Run(fmt.Sprintf("server-initiated/%d", cc.code), func(t *testing.T) {
			id := newSessionID()
			c := dialT(t, cl, tg.closeURL(cc.code, cc.reason, id), nil)
			_, _, err := c.read(testCtx(t))
			require.Error(t, err)
			code, reason, ok := cl.closeStatus(err)
			require.True(t, ok, "want a close frame from the server, got %v", err)
			require.Equal(t, cc.code, code, "code seen by the client")
			require.Equal(t, cc.reason, reason, "reason seen by the client")
			rep := tg.closes.wait(t, id)
			require.Equal(t, cc.code, rep.Code, "the client echoes the close code")
		})
	}
}

func testSubprotocol(t *testing.T, cl clientImpl, tg *target) {
	cases := []struct {
		name  string
		offer []string
		want  string
	}{
		{"none-offered", nil, ""},
		{"one", []string{"chat"}, "chat"},
		{"second-of-two", []string{"bogus", "superchat"}, "superchat"},
		{"no-overlap", []string{"nope"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialT(t, cl, tg.protoURL(), tc.offer)
			require.Equal(t, tc.want, c.subprotocol(), "subprotocol seen by the client")
			if tg.kind == kindContract {
				readMessage(t, c, protocol.MessageText, []byte("proto:"+tc.want), "subprotocol seen by the server")
			}
			require.NoError(t, c.write(testCtx(t), protocol.MessageText, []byte("hi")))
			readMessage(t, c, protocol.MessageText, []byte("hi"), "echo")
			closeNormally(t, c)
		})
	}
}
