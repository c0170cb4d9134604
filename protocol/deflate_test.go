package protocol

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

func TestCompressionOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    CompressionOptions
		ok   bool
	}{
		{"zero", CompressionOptions{}, true},
		{"all set", CompressionOptions{Level: 9, Threshold: -1, ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 15}, true},
		{"huffman only", CompressionOptions{Level: flate.HuffmanOnly}, true},
		{"level 10", CompressionOptions{Level: 10}, false},
		{"level -3", CompressionOptions{Level: -3}, false},
		{"server bits 7", CompressionOptions{ServerMaxWindowBits: 7}, false},
		{"server bits 16", CompressionOptions{ServerMaxWindowBits: 16}, false},
		{"client bits -1", CompressionOptions{ClientMaxWindowBits: -1}, false},
		{"threshold 1 MiB", CompressionOptions{Threshold: 1 << 20}, true},
		{"threshold above 1 MiB", CompressionOptions{Threshold: 1<<20 + 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
	require.Panics(t, func() {
		a, _ := netPair(t, "pipe")
		NewConn(a, nil, &Options{Role: RoleClient, Compression: &CompressionOptions{Level: 42}})
	})
}

func TestConnCompressionReportsAgreement(t *testing.T) {
	agreed := &CompressionOptions{ServerNoContextTakeover: true, ClientMaxWindowBits: 10}
	cl, sv := connPair(t, "pipe", &Options{Compression: agreed}, nil)
	got := cl.Compression()
	require.Equal(t, agreed, got)
	got.Level = 5 // a copy: the Conn is not affected
	require.Zero(t, cl.Compression().Level)
	require.Nil(t, sv.Compression())
}

// deflatePair returns a client and a server Conn over transport sharing
// the agreement a.
func deflatePair(t testing.TB, transport string, a CompressionOptions, copts, sopts Options) (*Conn, *Conn) {
	ca, sa := a, a
	copts.Compression, sopts.Compression = &ca, &sa
	return connPair(t, transport, &copts, &sopts)
}

type testMessage struct {
	typ MessageType
	p   []byte
}

// testMessages returns messages of the sizes that matter: empty, below
// and above the threshold, repeated (context takeover), incompressible,
// beyond a 32 KiB window, beyond the 4 KiB frames of a Writer.
func testMessages() []testMessage {
	text := testText(1, 40000)
	return []testMessage{
		{MessageText, []byte{}},
		{MessageText, []byte("short")},
		{MessageText, text[:200]},
		{MessageText, text[:200]}, // the same again: context takeover
		{MessageBinary, testRandom(2, 3000)},
		{MessageText, text},
		{MessageBinary, bytes.Repeat([]byte{0}, 50000)},
		{MessageText, []byte("héllo wörld, ünïcödé → ✓ " + string(text[:1000]))},
	}
}

// Large messages: a compressed output beyond the largest pooled buffer
// (1 MiB) goes out in several frames even from Write.
func TestCompressionLargeMessages(t *testing.T) {
	msgs := []testMessage{
		{MessageText, testText(12, 1<<20)},
		{MessageBinary, testRandom(13, 1<<20+5000)},
		{MessageBinary, bytes.Repeat([]byte("z"), 2<<20)},
	}
	for _, a := range []CompressionOptions{{}, {ServerNoContextTakeover: true, ClientNoContextTakeover: true}} {
		t.Run(a.String(), func(t *testing.T) {
			cl, sv := deflatePair(t, "tcp", a, Options{ReadLimit: -1}, Options{ReadLimit: -1})
			ctx := readCtx(t)
			for i, m := range msgs {
				sendRecv(t, ctx, cl, sv, m, i%2 == 1)
				sendRecv(t, ctx, sv, cl, m, i%2 == 0)
			}
		})
	}
	// The frames of a Write whose output exceeds 1 MiB.
	c, p := withRaw(t, RoleServer, &Options{Compression: &CompressionOptions{}})
	msg := testRandom(14, 1<<20+5000)
	errc := make(chan error, 1)
	go func() { errc <- c.Write(bg(), MessageBinary, msg) }()
	_, compressed, payload, frames := p.readMessage()
	require.NoError(t, recv(t, "the result", errc))
	require.True(t, compressed)
	require.Equal(t, 2, frames)
	out, err := refInflate(nil, payload)
	require.NoError(t, err)
	require.Equal(t, msg, out)
}

// The agreements the round-trip tests run through: every combination of
// context takeover and a sample of window sizes, and a few levels.
func testAgreements() []CompressionOptions {
	var out []CompressionOptions
	bits := []int{0, 8, 9, 12, 15}
	for _, snct := range []bool{false, true} {
		for _, cnct := range []bool{false, true} {
			for _, sb := range bits {
				for _, cb := range bits {
					out = append(out, CompressionOptions{
						ServerNoContextTakeover: snct, ClientNoContextTakeover: cnct,
						ServerMaxWindowBits: sb, ClientMaxWindowBits: cb, Threshold: -1,
					})
				}
			}
		}
	}
	for _, level := range []int{flate.HuffmanOnly, flate.DefaultCompression, 2, 9} {
		out = append(out, CompressionOptions{Level: level}, CompressionOptions{Level: level, ServerMaxWindowBits: 10, ClientNoContextTakeover: true})
	}
	return out
}

// Messages go both ways between two Conns with every agreement, through
// Write/Read, Writer/Reader and ReadAppend.
func TestCompressionRoundTrip(t *testing.T) {
	msgs := testMessages()
	for _, a := range testAgreements() {
		t.Run(a.String(), func(t *testing.T) {
			cl, sv := deflatePair(t, "tcp", a, Options{ReadLimit: -1, WriteBufferSize: 1000}, Options{ReadLimit: -1})
			ctx := readCtx(t)
			for i, m := range msgs {
				// Client to server: Write, then Writer in pieces.
				sendRecv(t, ctx, cl, sv, m, i%2 == 1)
				// Server to client.
				sendRecv(t, ctx, sv, cl, m, i%2 == 0)
			}
		})
	}
}

// sendRecv sends m from a to b (with Write, or a Writer fed in uneven
// pieces if streaming) and reads it at b (with Read, or a Reader read in
// small pieces).
func sendRecv(t *testing.T, ctx context.Context, a, b *Conn, m testMessage, streaming bool) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		if !streaming {
			errc <- a.Write(ctx, m.typ, m.p)
			return
		}
		w, err := a.Writer(ctx, m.typ)
		if err != nil {
			errc <- err
			return
		}
		p := m.p
		for k := 1; len(p) > 0; k = k*3 + 1 {
			n := min(k, len(p))
			if _, err := w.Write(p[:n]); err != nil {
				errc <- err
				return
			}
			p = p[n:]
		}
		errc <- w.Close()
	}()
	var typ MessageType
	var got []byte
	var err error
	if streaming {
		var r io.Reader
		typ, r, err = b.Reader(ctx)
		require.NoError(t, err)
		buf := make([]byte, 777)
		for {
			n, rerr := r.Read(buf)
			got = append(got, buf[:n]...)
			if rerr == io.EOF {
				break
			}
			require.NoError(t, rerr)
		}
	} else {
		typ, got, err = b.ReadAppend(ctx, []byte("prefix"))
		require.NoError(t, err)
		require.Equal(t, "prefix", string(got[:6]))
		got = got[6:]
	}
	require.NoError(t, recv(t, "the result", errc))
	require.Equal(t, m.typ, typ)
	require.True(t, bytes.Equal(m.p, got), "message of %d bytes came out as %d bytes", len(m.p), len(got))
}

// What the Conn sends: RSV1 on the first frame only, the tail stripped, no
// distance beyond the agreed window, no reference to an earlier message
// without context takeover; checked with an independent decoder.
func TestCompressionOnTheWire(t *testing.T) {
	msgs := testMessages()
	for _, role := range []Role{RoleClient, RoleServer} {
		for _, bits := range []int{0, 8, 9, 10, 12, 14, 15} {
			for _, noTakeover := range []bool{false, true} {
				for _, streaming := range []bool{false, true} {
					a := CompressionOptions{Threshold: -1}
					if role == RoleClient {
						a.ClientMaxWindowBits, a.ClientNoContextTakeover = bits, noTakeover
					} else {
						a.ServerMaxWindowBits, a.ServerNoContextTakeover = bits, noTakeover
					}
					name := fmt.Sprintf("%s/bits=%d/noTakeover=%v/streaming=%v", role, bits, noTakeover, streaming)
					t.Run(name, func(t *testing.T) {
						c, p := withRaw(t, role, &Options{Compression: &a, WriteBufferSize: 512})
						window := 1 << 15
						if bits != 0 {
							window = 1 << bits
						}
						var hist []byte
						for _, m := range msgs {
							errc := make(chan error, 1)
							go func() {
								if !streaming {
									errc <- c.Write(bg(), m.typ, m.p)
									return
								}
								w, err := c.Writer(bg(), m.typ)
								if err == nil {
									_, err = w.Write(m.p)
									if cerr := w.Close(); err == nil {
										err = cerr
									}
								}
								errc <- err
							}()
							op, compressed, payload, frames := p.readMessage()
							require.NoError(t, recv(t, "the result", errc))
							require.Equal(t, framing.Opcode(m.typ), op)
							require.True(t, compressed)
							if streaming && len(payload) > 600 {
								require.Greater(t, frames, 1, "a Writer sends frames of WriteBufferSize")
							}
							if noTakeover || (bits != 0 && bits < 15) {
								hist = nil // must decode on its own
							}
							out, maxDist, err := testInflate(hist, append(payload, 0, 0, 0xff, 0xff))
							require.NoError(t, err)
							require.True(t, bytes.Equal(m.p, out), "decoded %d bytes, want %d", len(out), len(m.p))
							require.LessOrEqual(t, maxDist, window, "a distance beyond the window")
							hist = append(hist, out...)
						}
					})
				}
			}
		}
	}
}

// Context takeover: the same message sent again costs a fraction with it,
// the same without it.
func TestContextTakeover(t *testing.T) {
	msg := testText(3, 2000)
	for _, noTakeover := range []bool{false, true} {
		t.Run(fmt.Sprintf("noTakeover=%v", noTakeover), func(t *testing.T) {
			c, p := withRaw(t, RoleClient, &Options{Compression: &CompressionOptions{ClientNoContextTakeover: noTakeover}})
			var sizes []int
			for i := 0; i < 3; i++ {
				go func() { _ = c.Write(bg(), MessageText, msg) }()
				_, compressed, payload, _ := p.readMessage()
				require.True(t, compressed)
				sizes = append(sizes, len(payload))
			}
			require.Less(t, sizes[0], len(msg)*2/3, "compressed at all")
			if noTakeover {
				require.Equal(t, sizes[0], sizes[1])
				require.Equal(t, sizes[0], sizes[2])
				underWriteLock(c, func() { require.Nil(t, c.pmd.own, "no compressor kept between messages") })
			} else {
				require.Less(t, sizes[1]*4, sizes[0], "the second message refers to the first")
				underWriteLock(c, func() { require.NotNil(t, c.pmd.own) })
			}
		})
	}
}

// The compressor kept for context takeover goes back to the pool when idle;
// the next message starts afresh, and the peer still decodes everything.
func TestIdleCompressorRelease(t *testing.T) {
	c, p := withRaw(t, RoleServer, &Options{Compression: &CompressionOptions{}})
	msg := testText(4, 1000)
	var hist []byte
	var sizes []int
	for i := 0; i < 3; i++ {
		if i == 2 {
			c.releaseIdleCompressor()
			underWriteLock(c, func() { require.Nil(t, c.pmd.own) })
		}
		errc := make(chan error, 1)
		go func() { errc <- c.Write(bg(), MessageText, msg) }()
		_, _, payload, _ := p.readMessage()
		require.NoError(t, recv(t, "the result", errc))
		out, err := refInflate(hist, payload)
		require.NoError(t, err)
		require.Equal(t, msg, out)
		hist = append(hist, out...)
		sizes = append(sizes, len(payload))
	}
	require.Less(t, sizes[1]*4, sizes[0])
	require.Equal(t, sizes[0], sizes[2], "after the release the message is compressed on its own")
	underWriteLock(c, func() { require.NotNil(t, c.pmd.own) })
}

// Closing the connection returns the compressor kept for context takeover
// at once.
func TestCompressorReleasedOnClose(t *testing.T) {
	for _, how := range []string{"CloseNow", "peer EOF"} {
		t.Run(how, func(t *testing.T) {
			c, p := withRaw(t, RoleClient, &Options{Compression: &CompressionOptions{}})
			errc := make(chan error, 1)
			go func() { errc <- c.Write(bg(), MessageText, testText(15, 1000)) }()
			p.readMessage()
			require.NoError(t, recv(t, "the result", errc))
			underWriteLock(c, func() { require.NotNil(t, c.pmd.own) })
			if how == "CloseNow" {
				require.NoError(t, c.CloseNow())
			} else {
				p.nc.Close()
				_, _, err := c.Read(readCtx(t))
				require.Equal(t, StatusAbnormalClosure, CloseStatus(err))
			}
			underWriteLock(c, func() { require.Nil(t, c.pmd.own) })
		})
	}
}

// Below the threshold messages go out uncompressed, RSV1 clear; a negative
// threshold compresses everything, the empty message too.
func TestCompressionThreshold(t *testing.T) {
	tests := []struct {
		threshold int
		size      int
		streaming bool
		want      bool
	}{
		{0, DefaultCompressionThreshold - 1, false, false},
		{0, DefaultCompressionThreshold, false, true},
		{0, DefaultCompressionThreshold - 1, true, false},
		{0, DefaultCompressionThreshold, true, true},
		{1000, 999, true, false},
		{1000, 5000, true, true},
		{-1, 0, false, true},
		{-1, 1, true, true},
		{1, 0, false, false},
		{1, 0, true, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%d/%v", tt.threshold, tt.size, tt.streaming), func(t *testing.T) {
			c, p := withRaw(t, RoleClient, &Options{Compression: &CompressionOptions{Threshold: tt.threshold}})
			msg := testText(5, tt.size)
			go func() {
				if !tt.streaming {
					_ = c.Write(bg(), MessageText, msg)
					return
				}
				w, _ := c.Writer(bg(), MessageText)
				for i := range msg {
					_, _ = w.Write(msg[i : i+1])
				}
				_ = w.Close()
			}()
			_, compressed, payload, _ := p.readMessage()
			require.Equal(t, tt.want, compressed)
			if compressed {
				out, err := refInflate(nil, payload)
				require.NoError(t, err)
				payload = out
			}
			require.Equal(t, string(msg), string(payload))
		})
	}
}

// Messages from a compress/flate peer: with and without context takeover,
// split into frames with control frames between them, a final block, an
// uncompressed message in between.
func TestInflateFromPeer(t *testing.T) {
	text := testText(6, 100<<10)
	for _, takeover := range []bool{true, false} {
		for _, api := range []string{"Read", "Reader"} {
			t.Run(fmt.Sprintf("takeover=%v/%s", takeover, api), func(t *testing.T) {
				a := &CompressionOptions{ClientNoContextTakeover: !takeover}
				c, p := withRaw(t, RoleServer, &Options{Compression: a})
				ref := newRefCompressor(t, flate.BestCompression)
				var pongs int
				msgs := [][]byte{text[:500], text[:500], text, {}, text[1000:1300]}
				for i, m := range msgs {
					if !takeover {
						ref.reset()
					}
					payload := ref.message(t, m)
					if i == 1 && takeover {
						require.Less(t, len(payload), 20, "the peer refers to the previous message")
					}
					frames := p.compressedFrames(framing.OpText, payload, 1+len(payload)/3)
					// A ping between the first two frames.
					if h, n, err := framing.ParseHeader(frames); err == nil && !h.Fin {
						end := n + int(h.Length)
						frames = bytes.Join([][]byte{frames[:end], p.frame(framing.OpPing, true, []byte("p")), frames[end:]}, nil)
						pongs++
					}
					p.write(frames)
					got := readWith(t, c, api)
					require.Equal(t, m, got)
					// An uncompressed message between compressed ones.
					p.send(framing.OpBinary, true, []byte("plain"))
					require.Equal(t, []byte("plain"), readWith(t, c, api))
				}
				for i := 0; i < pongs; i++ {
					h, b := p.mustNext()
					require.Equal(t, framing.OpPong, h.Opcode)
					require.Equal(t, "p", string(b))
				}
			})
		}
	}
	t.Run("final block", func(t *testing.T) {
		c, p := withRaw(t, RoleServer, &Options{Compression: &CompressionOptions{}})
		for i := 0; i < 2; i++ {
			var buf bytes.Buffer
			fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
			_, _ = fw.Write(text[:3000])
			require.NoError(t, fw.Close()) // BFINAL, no sync flush
			p.write(p.compressedFrames(framing.OpText, buf.Bytes(), 1000))
			require.Equal(t, text[:3000], readWith(t, c, "Read"))
		}
	})
}

func readWith(t *testing.T, c *Conn, api string) []byte {
	t.Helper()
	if api == "Reader" {
		_, r, err := c.Reader(readCtx(t))
		require.NoError(t, err)
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		return b
	}
	_, b, err := c.Read(readCtx(t))
	require.NoError(t, err)
	return b
}

// A compressed message the reader abandons is still inflated, so that the
// history the next message refers to stays right.
func TestSkippedCompressedMessageKeepsHistory(t *testing.T) {
	c, p := withRaw(t, RoleServer, &Options{Compression: &CompressionOptions{}})
	ref := newRefCompressor(t, flate.BestSpeed)
	text := testText(7, 5000)
	p.write(p.compressedFrames(framing.OpText, ref.message(t, text), 700))
	p.write(p.compressedFrames(framing.OpText, ref.message(t, text), 700))
	_, r, err := c.Reader(readCtx(t))
	require.NoError(t, err)
	var one [1]byte
	_, err = io.ReadFull(r, one[:])
	require.NoError(t, err)
	_, got, err := c.Read(readCtx(t))
	require.NoError(t, err)
	require.Equal(t, text, got)
}

// RSV1 on a control or continuation frame, RSV2/RSV3 with the extension,
// RSV1 without it: 1002.
func TestCompressionRsvViolations(t *testing.T) {
	compressed := newRefCompressor(t, flate.BestSpeed).message(t, []byte("hello hello hello"))
	tests := []struct {
		name     string
		noDeflat bool
		role     Role
		raw      func(p *rawPeer) []byte
	}{
		{"RSV1 on ping", false, RoleServer, func(p *rawPeer) []byte { return rsv(p.frame(framing.OpPing, true, nil), framing.Rsv1) }},
		{"RSV1 on pong", false, RoleClient, func(p *rawPeer) []byte { return rsv(p.frame(framing.OpPong, true, nil), framing.Rsv1) }},
		{"RSV1 on close", false, RoleServer, func(p *rawPeer) []byte {
			return rsv(p.frame(framing.OpClose, true, closePayload(1000, "")), framing.Rsv1)
		}},
		{"RSV1 on continuation", false, RoleServer, func(p *rawPeer) []byte {
			return append(rsv(p.frame(framing.OpText, false, compressed[:5]), framing.Rsv1), rsv(p.frame(framing.OpContinuation, true, compressed[5:]), framing.Rsv1)...)
		}},
		{"RSV1 on continuation of uncompressed", false, RoleClient, func(p *rawPeer) []byte {
			return append(p.frame(framing.OpBinary, false, []byte("ab")), rsv(p.frame(framing.OpContinuation, true, []byte("cd")), framing.Rsv1)...)
		}},
		{"RSV2 on text", false, RoleServer, func(p *rawPeer) []byte { return rsv(p.frame(framing.OpText, true, []byte("x")), framing.Rsv2) }},
		{"RSV3 with RSV1", false, RoleClient, func(p *rawPeer) []byte {
			return rsv(p.frame(framing.OpBinary, true, compressed), framing.Rsv1|framing.Rsv3)
		}},
		{"RSV1 without the extension", true, RoleServer, func(p *rawPeer) []byte {
			return rsv(p.frame(framing.OpText, true, compressed), framing.Rsv1)
		}},
		{"RSV1 without the extension, client", true, RoleClient, func(p *rawPeer) []byte {
			return rsv(p.frame(framing.OpBinary, true, compressed), framing.Rsv1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := &Options{Compression: &CompressionOptions{}}
			if tt.noDeflat {
				opts.Compression = nil
			}
			c, p := withRaw(t, tt.role, opts)
			p.write(tt.raw(p))
			_, _, err := c.Read(readCtx(t))
			require.ErrorIs(t, err, framing.ErrProtocol)
			requireFailed(t, c, p, err, StatusProtocolError)
		})
	}
}

// Corrupt compressed data and invalid text fail the connection with 1007.
func TestInflateInvalidData(t *testing.T) {
	ref := newRefCompressor(t, flate.BestSpeed)
	good := ref.message(t, testText(8, 5000))
	badUTF8 := newRefCompressor(t, flate.BestSpeed).message(t, []byte("valid then \xff invalid"))
	cutChar := newRefCompressor(t, flate.BestSpeed).message(t, []byte("ends inside \xe2\x82"))
	// A message that refers to the previous one, sent alone.
	ref.message(t, testText(8, 5000))
	refersBack := ref.message(t, testText(8, 5000))
	tests := []struct {
		name    string
		op      framing.Opcode
		payload []byte
		cause   error
	}{
		{"garbage", framing.OpBinary, []byte("hello world"), ErrInvalidCompressedData},
		{"reserved block type", framing.OpBinary, []byte{0x07}, ErrInvalidCompressedData},
		{"truncated", framing.OpBinary, good[:len(good)/2], ErrInvalidCompressedData},
		{"distance before the start", framing.OpBinary, refersBack, ErrInvalidCompressedData},
		{"invalid UTF-8", framing.OpText, badUTF8, ErrInvalidUTF8},
		{"text ends inside a character", framing.OpText, cutChar, ErrInvalidUTF8},
	}
	for _, tt := range tests {
		for _, api := range []string{"Read", "Reader"} {
			t.Run(tt.name+"/"+api, func(t *testing.T) {
				c, p := withRaw(t, RoleServer, &Options{Compression: &CompressionOptions{}})
				p.write(p.compressedFrames(tt.op, tt.payload, 3))
				var err error
				if api == "Read" {
					_, _, err = c.Read(readCtx(t))
				} else {
					var r io.Reader
					if _, r, err = c.Reader(readCtx(t)); err == nil {
						_, err = io.ReadAll(r)
					}
				}
				require.ErrorIs(t, err, tt.cause)
				requireFailed(t, c, p, err, StatusInvalidFramePayloadData)
			})
		}
	}
}

// bombChunk returns compressed data (a sync-flushed run of blocks, usable
// any number of times in a row) that inflates to size zero bytes.
func bombChunk(t testing.TB, size int) []byte {
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	require.NoError(t, err)
	zeros := make([]byte, 64<<10)
	for n := 0; n < size; n += len(zeros) {
		_, err = fw.Write(zeros[:min(len(zeros), size-n)])
		require.NoError(t, err)
	}
	require.NoError(t, fw.Flush())
	return buf.Bytes()
}

// A deflate bomb (about 1 MiB that inflates to 1 GiB) fails with 1009 as
// soon as the inflated size passes the read limit: the memory spent stays
// near the limit, whatever the API.
func TestInflateBomb(t *testing.T) {
	chunk := bombChunk(t, 4<<20)
	const inflated = 1 << 30
	bomb := bytes.Repeat(chunk, inflated/(4<<20))
	t.Logf("bomb: %d bytes inflating to %d", len(bomb), inflated)
	require.Less(t, len(bomb), 2<<20)
	const limit = 4 << 20
	for _, api := range []string{"Read", "Reader", "fragmented"} {
		t.Run(api, func(t *testing.T) {
			c, p := withRaw(t, RoleServer, &Options{ReadLimit: limit, Compression: &CompressionOptions{}})
			size := len(bomb)
			if api == "fragmented" {
				size = 4096
			}
			frames := p.compressedFrames(framing.OpBinary, bomb, size)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = p.nc.Write(frames) }()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var err error
			if api == "Reader" {
				var r io.Reader
				if _, r, err = c.Reader(readCtx(t)); err == nil {
					_, err = io.Copy(io.Discard, r)
				}
			} else {
				_, _, err = c.Read(readCtx(t))
			}
			runtime.ReadMemStats(&after)
			require.ErrorIs(t, err, ErrMessageTooBig)
			require.Equal(t, StatusMessageTooBig, CloseStatus(err))
			spent := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s: allocated %d bytes", api, spent)
			require.Less(t, spent, uint64(3*limit), "memory spent on a bomb")
			c.CloseNow()
			p.nc.Close()
			waitGroup(t, "the goroutines", &wg)
		})
	}
}

// The read limit applies to inflated bytes: exactly the limit passes, one
// byte more fails, whatever the compressed size.
func TestInflateReadLimit(t *testing.T) {
	const limit = 10000
	for _, size := range []int{limit, limit + 1} {
		for _, api := range []string{"Read", "Reader"} {
			t.Run(fmt.Sprintf("%d/%s", size, api), func(t *testing.T) {
				c, p := withRaw(t, RoleClient, &Options{ReadLimit: limit, Compression: &CompressionOptions{}})
				msg := bytes.Repeat([]byte("a"), size)
				p.write(p.compressedFrames(framing.OpText, newRefCompressor(t, 6).message(t, msg), 10))
				var got []byte
				var err error
				if api == "Read" {
					_, got, err = c.Read(readCtx(t))
				} else {
					var r io.Reader
					if _, r, err = c.Reader(readCtx(t)); err == nil {
						got, err = io.ReadAll(r)
					}
				}
				if size <= limit {
					require.NoError(t, err)
					require.Equal(t, msg, got)
					return
				}
				require.ErrorIs(t, err, ErrMessageTooBig)
				requireFailed(t, c, p, err, StatusMessageTooBig)
			})
		}
	}
}

// Without context takeover nothing stays allocated between messages; with
// it, the receiving history (a window and a quarter) and, until it idles,
// the compressor.
func TestCompressionStateBetweenMessages(t *testing.T) {
	tests := []struct {
		a        CompressionOptions
		own      bool
		histSize int
	}{
		{CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, false, 0},
		{CompressionOptions{}, true, 32<<10 + 8<<10},
		{CompressionOptions{ServerMaxWindowBits: 10}, true, 1<<10 + 1<<8},
		{CompressionOptions{ServerMaxWindowBits: 8}, true, 1<<9 + 1<<7},
		{CompressionOptions{ClientMaxWindowBits: 12}, false, 32<<10 + 8<<10},
	}
	for _, tt := range tests {
		t.Run(tt.a.String(), func(t *testing.T) {
			cl, sv := deflatePair(t, "tcp", tt.a, Options{}, Options{})
			ctx := readCtx(t)
			for _, m := range testMessages()[:7] {
				sendRecv(t, ctx, cl, sv, m, false)
				sendRecv(t, ctx, sv, cl, m, true)
			}
			require.Nil(t, cl.pmd.fr)
			require.Nil(t, sv.pmd.fr)
			require.Equal(t, tt.histSize, cap(cl.pmd.hist), "client history")
			underWriteLock(cl, func() {
				require.Nil(t, cl.pmd.cur)
				require.Equal(t, tt.own, cl.pmd.own != nil, "client compressor kept")
			})
		})
	}
}

// Control frames may go out between the frames of a compressed message
// written through a Writer.
func TestCompressedWriterAllowsControlFrames(t *testing.T) {
	c, p := withRaw(t, RoleServer, &Options{Compression: &CompressionOptions{}, WriteBufferSize: 256})
	w, err := c.Writer(bg(), MessageBinary)
	require.NoError(t, err)
	// Incompressible and beyond the compressor's 64 KiB block: frames go
	// out before the ping.
	msg := testRandom(9, 200<<10)
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(msg[:100<<10])
		if err == nil {
			err = c.Ping(bg(), []byte("mid"))
		}
		if err == nil {
			_, err = w.Write(msg[100<<10:])
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	var payload []byte
	dataFrames, framesBeforePing := 0, -1
	for {
		h, b := p.nextAllowingRsv1()
		if h.Opcode == framing.OpPing {
			require.Equal(t, "mid", string(b))
			framesBeforePing = dataFrames
			continue
		}
		require.Equal(t, dataFrames == 0, h.Rsv == framing.Rsv1, "RSV1 on the first frame only")
		require.LessOrEqual(t, len(b), 256)
		dataFrames++
		payload = append(payload, b...)
		if h.Fin {
			break
		}
	}
	require.NoError(t, recv(t, "the call", done))
	require.Greater(t, framesBeforePing, 0, "the ping went out between the frames of the message")
	require.Greater(t, dataFrames, framesBeforePing)
	out, err := refInflate(nil, payload)
	require.NoError(t, err)
	require.Equal(t, msg, out)
	_, err = w.Write([]byte("x"))
	require.ErrorIs(t, err, errWriterClosed)
	require.ErrorIs(t, w.Close(), errWriterClosed)
}

// underWriteLock runs f holding c's message lock, so that f may look at
// the sending side's state (the idle timer may touch it).
func underWriteLock(c *Conn, f func()) {
	c.writeLock <- struct{}{}
	f()
	<-c.writeLock
}

// A cancelled or failed write of a compressed message closes the
// connection like any failed write; nothing is left held.
func TestCompressedWriteOnClosedConn(t *testing.T) {
	c, _ := withRaw(t, RoleClient, &Options{Compression: &CompressionOptions{}})
	require.NoError(t, c.CloseNow())
	require.ErrorIs(t, c.Write(bg(), MessageText, testText(10, 1000)), ErrClosed)
	w, err := c.Writer(bg(), MessageText)
	if err == nil {
		_, werr := w.Write(testText(10, 100000))
		cerr := w.Close()
		require.True(t, werr != nil || cerr != nil)
	}
	underWriteLock(c, func() {
		require.Nil(t, c.pmd.cur)
		require.Nil(t, c.pmd.sink.bp)
	})
}

// lateCancel is a context that is done from its second look on: Read
// finds it live when it starts, and must notice it during the inflation of
// bytes that are already buffered (no network read to interrupt).
type lateCancel struct {
	context.Context
	looks atomic.Int32
}

func (c *lateCancel) Err() error {
	if c.looks.Add(1) > 1 {
		return context.Canceled
	}
	return nil
}

// A Read's context interrupts the inflation of buffered data: a bomb
// whose compressed bytes all arrived stops at the context, long before the
// read limit (before the fix: ErrMessageTooBig, the whole limit inflated).
func TestInflateHonoursContext(t *testing.T) {
	chunk := bombChunk(t, 4<<20)
	c, p := withRaw(t, RoleServer, &Options{ReadLimit: 32 << 20, Compression: &CompressionOptions{}})
	frames := p.compressedFrames(framing.OpBinary, bytes.Repeat(chunk, 16), 1<<30) // 64 MiB inflated
	done := make(chan struct{})
	go func() { defer close(done); _, _ = p.nc.Write(frames) }()
	recv(t, "the bomb's bytes", done) // all of them in the socket's buffers
	_, _, err := c.Read(&lateCancel{Context: bg()})
	require.ErrorIs(t, err, context.Canceled)
	_, _, err = c.Read(readCtx(t))
	require.Equal(t, StatusAbnormalClosure, CloseStatus(err), "the message was cut: the connection failed")
}
