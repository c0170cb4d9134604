package conformance

// Family 9: large messages, in one frame and in many (RFC 6455, section
// 5.2: 64-bit lengths; section 5.4: fragmentation), and the read limit
// (section 7.4.1, 1009).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
	"github.com/wslua/wslua/testserver"
)

const (
	kib = 1 << 10
	mib = 1 << 20
)

// chunkSizes are the frame (or write) sizes a large message is cut into,
// as in the Autobahn 9.x series.
var chunkSizes = []int{64, 256, 1 * kib, 4 * kib, 16 * kib, 64 * kib, 256 * kib, 1 * mib, 4 * mib}

// chunkedSize is the size of the message cut into chunkSizes: 16 MiB, or
// 4 MiB under the race detector, which would otherwise take minutes (the
// 16 MiB single-frame cases run in both modes).
func chunkedSize() int {
	if raceEnabled {
		return 4 * mib
	}
	return 16 * mib
}

// largeTimeout bounds one large-message case; nothing asserts on it.
const largeTimeout = 120 * time.Second

// Shared payloads, built once: the largest of each kind, sliced as needed.
var (
	bigBinary = sync.OnceValue(func() []byte { return binOf(16 * mib) })
	bigText   = sync.OnceValue(func() []byte { return largeText(max(chunkedSize(), 1*mib)) })
)

// payloadOf returns n bytes of the shared payload for op.
func payloadOf(op framing.Opcode, n int) []byte {
	if op == framing.OpText {
		return textPrefix(bigText(), n)
	}
	return bigBinary()[:n]
}

// textPrefix cuts text to n bytes or fewer on a character boundary.
func textPrefix(text []byte, n int) []byte {
	for n > 0 && n < len(text) && text[n]&0xC0 == 0x80 {
		n--
	}
	return text[:n]
}

// largeText returns n bytes of valid UTF-8 mixing 1- to 4-byte characters
// (a frame boundary may cut a character).
func largeText(n int) []byte {
	const unit = "a\xc2\x80b\xe0\xa0\x80c\xf0\x90\x80\x80d-" // 15 bytes
	b := bytes.Repeat([]byte(unit), n/len(unit))
	return append(b, bytes.Repeat([]byte("."), n-len(b))...)
}

// largeEcho sends a message of type op and n bytes cut into frames of size
// chunk (0: one frame) from a writer goroutine, while it reads the echo.
func largeEcho(op framing.Opcode, n, chunk int) step {
	return func(t *testing.T, c *rawConn) {
		t.Helper()
		payload := payloadOf(op, n)
		require.NoError(t, c.nc.SetDeadline(time.Now().Add(largeTimeout)))
		if chunk == 0 {
			chunk = max(1, len(payload))
		}
		frames := make([]byte, 0, len(payload)+(len(payload)/chunk+1)*framing.MaxHeaderSize)
		for off := 0; ; off += chunk {
			end := min(off+chunk, len(payload))
			fop := framing.OpContinuation
			if off == 0 {
				fop = op
			}
			h := framing.Header{Fin: end == len(payload), Opcode: fop, Masked: true, Mask: c.nextKey()}
			frames = framing.AppendFrame(frames, h, payload[off:end])
			if end == len(payload) {
				break
			}
		}
		werr := make(chan error, 1)
		go func() { werr <- c.write(frames) }()
		gotOp, got, _, ctrl, err := c.message()
		require.NoError(t, <-werr)
		require.NoError(t, err, "control frames: %s", ctrlString(ctrl))
		require.Equal(t, op, gotOp)
		require.True(t, bytes.Equal(payload, got), "echo of %d bytes differs (got %d)", len(payload), len(got))
	}
}

func TestServerLargeMessages(t *testing.T) {
	cases := []srvCase{
		{name: "text 1 MiB in one frame", steps: []step{largeEcho(framing.OpText, 1*mib, 0)}},
		{name: "binary 4 MiB in one frame", steps: []step{largeEcho(framing.OpBinary, 4*mib, 0)}},
		{name: "binary 16 MiB in one frame", steps: []step{largeEcho(framing.OpBinary, 16*mib, 0)}},
	}
	for _, chunk := range chunkSizes {
		op := framing.OpBinary
		if chunk == 4*kib {
			op = framing.OpText
		}
		cases = append(cases, srvCase{name: fmt.Sprintf("%v %d MiB in frames of %d bytes", op, chunkedSize()/mib, chunk),
			steps: []step{largeEcho(op, chunkedSize(), chunk)}})
	}
	runServerCases(t, cases)
}

// TestServerReadLimit: a message over the read limit fails the connection
// with 1009, whether the limit is passed by one frame or by the sum of
// fragments, and before the excess payload is sent (the header suffices).
func TestServerReadLimit(t *testing.T) {
	const limit = 1000
	target := fmt.Sprintf("/echo?limit=%d", limit)
	cases := []srvCase{
		{name: "exactly the limit", target: target, steps: []step{send(bin(binOf(limit))), wantBin(binOf(limit))}},
		{name: "one frame over the limit", target: target, steps: []step{send(bin(binOf(limit + 1))), wantClose(1009)}},
		{name: "fragments over the limit", target: target, steps: []step{
			send(first(framing.OpBinary, string(binOf(600))), cont(string(binOf(401)), true)), wantClose(1009)}},
		{name: "header alone over the limit", target: target, steps: []step{partialFrame(framing.OpBinary, textOf(limit+1), 0), wantClose(1009)}},
	}
	runServerCases(t, cases)
}

func TestClientLargeMessages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), largeTimeout)
	defer cancel()
	srv, _ := newEventServer(t)
	c := dialOur(t, ctx, srv.URL()+"/echo", protocol.Options{})
	for _, tc := range []struct {
		typ protocol.MessageType
		n   int
	}{{protocol.MessageText, 1 * mib}, {protocol.MessageBinary, 4 * mib}, {protocol.MessageBinary, 16 * mib}} {
		t.Run(fmt.Sprintf("%v %d MiB with Write", tc.typ, tc.n/mib), func(t *testing.T) {
			payload := payloadOf(framing.Opcode(tc.typ), tc.n)
			werr := make(chan error, 1)
			go func() { werr <- c.Write(ctx, tc.typ, payload) }()
			gotTyp, got, err := c.Read(ctx)
			require.NoError(t, <-werr)
			require.NoError(t, err)
			require.Equal(t, tc.typ, gotTyp)
			require.True(t, bytes.Equal(payload, got), "echo differs")
		})
	}
	for _, chunk := range chunkSizes {
		typ := protocol.MessageBinary
		if chunk == 4*kib {
			typ = protocol.MessageText
		}
		t.Run(fmt.Sprintf("%v %d MiB through Writer in writes of %d bytes", typ, chunkedSize()/mib, chunk), func(t *testing.T) {
			payload := payloadOf(framing.Opcode(typ), chunkedSize())
			werr := make(chan error, 1)
			go func() {
				w, err := c.Writer(ctx, typ)
				if err != nil {
					werr <- err
					return
				}
				for off := 0; off < len(payload); off += chunk {
					if _, err := w.Write(payload[off:min(off+chunk, len(payload))]); err != nil {
						werr <- err
						return
					}
				}
				werr <- w.Close()
			}()
			gotTyp, r, err := c.Reader(ctx)
			require.NoError(t, err)
			require.Equal(t, typ, gotTyp)
			got, err := io.ReadAll(r)
			require.NoError(t, err)
			require.NoError(t, <-werr)
			require.True(t, bytes.Equal(payload, got), "echo differs")
		})
	}
	require.NoError(t, c.Close(protocol.StatusNormalClosure, ""))
}

func TestClientReadLimit(t *testing.T) {
	cases := []cliCase{
		{name: "exactly the limit", target: "/send?binary=" + textOf(1000), opts: protocol.Options{ReadLimit: 1000},
			read: []msg{binMsg(textOf(1000))}},
		{name: "over the limit", target: "/send?binary=" + textOf(1001), opts: protocol.Options{ReadLimit: 1000},
			code: protocol.StatusMessageTooBig, sent: protocol.StatusMessageTooBig, cause: protocol.ErrMessageTooBig},
		{name: "fragments over the limit", target: "/fragmented?text=" + textOf(1001) + "&parts=3", opts: protocol.Options{ReadLimit: 1000},
			code: protocol.StatusMessageTooBig, sent: protocol.StatusMessageTooBig, cause: protocol.ErrMessageTooBig},
		{name: "header announcing 2^63-1 bytes", target: "/oversize?huge=1",
			code: protocol.StatusMessageTooBig, sent: protocol.StatusMessageTooBig, cause: protocol.ErrMessageTooBig},
		{name: "header announcing 64 MiB over the default limit", target: "/oversize?n=67108864",
			code: protocol.StatusMessageTooBig, sent: protocol.StatusMessageTooBig, cause: protocol.ErrMessageTooBig},
		{name: "header with the length's top bit set", target: "/oversize?n=9223372036854775808",
			code: protocol.StatusProtocolError, sent: protocol.StatusProtocolError, cause: framing.ErrProtocol},
	}
	runClientCases(t, cases)
}

// BenchmarkLargeMessages measures the echo round trip of large messages
// between our client and our server.
func BenchmarkLargeMessages(b *testing.B) {
	srv := testserver.New(nil)
	defer srv.Close()
	ctx := context.Background()
	c, _, err := handshake.Dial(ctx, srv.URL()+"/echo", &handshake.DialOptions{Conn: protocol.Options{ReadLimit: 64 * mib}})
	require.NoError(b, err)
	defer c.CloseNow()
	for _, n := range []int{64 * kib, 1 * mib, 16 * mib} {
		for _, typ := range []protocol.MessageType{protocol.MessageBinary, protocol.MessageText} {
			payload := payloadOf(framing.Opcode(typ), n)
			b.Run(fmt.Sprintf("%v/%dKiB", typ, n/kib), func(b *testing.B) {
				b.SetBytes(int64(2 * len(payload)))
				b.ReportAllocs()
				buf := make([]byte, 0, n)
				for b.Loop() {
					werr := make(chan error, 1)
					go func() { werr <- c.Write(ctx, typ, payload) }()
					_, got, err := c.ReadAppend(ctx, buf[:0])
					if err != nil || len(got) != len(payload) {
						b.Fatalf("read %d bytes: %v", len(got), err)
					}
					if err := <-werr; err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
