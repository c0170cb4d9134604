package protocol

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// segConn is a net.Conn whose reads serve a byte stream that arrives in
// segments: no read returns bytes of two segments, as when each segment is
// a separate write the reader catches up with. It also does the vectored
// reads of a vectorReader (install it as Conn.br.rv), so that vectored
// payload reads run deterministically. Writes are discarded.
//
// With wait set, every vectored read first waits for data as a socket
// with none would (the connReader releases its buffer), and records
// whether the reader then held a buffer.
type segConn struct {
	segs  [][]byte
	chunk int // most bytes one read returns (0: no limit)
	reads int // read calls, plain and vectored

	wait      bool
	waits     int // vectored reads that waited
	heldWhile int // of them, those during which the reader held a buffer
}

func (c *segConn) next() []byte {
	for len(c.segs) > 0 && len(c.segs[0]) == 0 {
		c.segs = c.segs[1:]
	}
	if len(c.segs) == 0 {
		return nil
	}
	s := c.segs[0]
	if c.chunk > 0 && len(s) > c.chunk {
		s = s[:c.chunk]
	}
	return s
}

func (c *segConn) readInto(bufs ...[]byte) (int, error) {
	c.reads++
	s := c.next()
	if s == nil {
		return 0, io.EOF
	}
	n := 0
	for _, b := range bufs {
		k := copy(b, s[n:])
		n += k
		if n == len(s) {
			break
		}
	}
	c.segs[0] = c.segs[0][n:]
	return n, nil
}

// readv does a vectorReader's read, waiting first if c.wait is set.
func (c *segConn) readv(r *connReader) (int, error) {
	if c.wait {
		r.vector() // a first attempt, as vecReader's: no data yet
		r.idle()
		c.waits++
		if r.own != nil || r.buf != nil || r.ownp != nil {
			c.heldWhile++
		}
	}
	a, b, d := r.vector()
	return c.readInto(a, b, d)
}

func (c *segConn) Read(p []byte) (int, error)       { return c.readInto(p) }
func (c *segConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *segConn) Close() error                     { return nil }
func (c *segConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *segConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *segConn) SetDeadline(time.Time) error      { return nil }
func (c *segConn) SetReadDeadline(time.Time) error  { return nil }
func (c *segConn) SetWriteDeadline(time.Time) error { return nil }

// remaining returns the number of bytes not read yet.
func (c *segConn) remaining() int { return len(bytes.Join(c.segs, nil)) }

// setSegments sets the stream to serve (segs itself is not modified).
func (c *segConn) setSegments(segs ...[]byte) *segConn {
	c.segs = append([][]byte(nil), segs...)
	return c
}
func (c *segConn) withChunk(n int) *segConn { c.chunk = n; return c }

// conn returns a Conn of role reading c, with c doing its vectored reads.
func (c *segConn) conn(t *testing.T, role Role) *Conn {
	conn := NewConn(c, nil, &Options{Role: role, ReadLimit: -1})
	conn.br.rv = c
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// wframe is a frame as the peer of a Conn sends it.
type wframe struct {
	op      framing.Opcode
	fin     bool
	payload []byte
	long    bool // length in the 8-byte form whatever its value (legal, not minimal)
}

// encode encodes frames as the peer of role sends them.
func encode(role Role, frames ...wframe) []byte {
	var out []byte
	for i, f := range frames {
		h := framing.Header{Fin: f.fin, Opcode: f.op, Length: int64(len(f.payload))}
		if role == RoleServer {
			h.Masked = true
			h.Mask = [4]byte{byte(i), 0x5a, byte(i >> 8), 0xc3}
		}
		if f.long {
			b0 := byte(f.op)
			if f.fin {
				b0 |= 0x80
			}
			b1 := byte(127)
			if h.Masked {
				b1 |= 0x80
			}
			out = append(out, b0, b1)
			out = binary.BigEndian.AppendUint64(out, uint64(len(f.payload)))
			if h.Masked {
				out = append(out, h.Mask[:]...)
			}
		} else {
			out = h.Append(out)
		}
		p := len(out)
		out = append(out, f.payload...)
		if h.Masked {
			framing.Mask(h.Mask, 0, out[p:])
		}
	}
	return out
}

// msg is one unfragmented binary message frame.
func msg(p []byte) wframe { return wframe{op: framing.OpBinary, fin: true, payload: p} }

// scribble overwrites b, as a caller reusing its memory would.
func scribble(b []byte) {
	for i := range b {
		b[i] = 0xEE
	}
}

// pattern returns n bytes that differ between messages and offsets.
func pattern(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7) ^ seed ^ byte(i>>9)
	}
	return p
}

// Whole-message reads of every mix of sizes, cuts and capacities return
// the messages, and never touch dst's spare capacity beyond the payload
// appended (it holds the caller's 0xEE marks from the previous round).
func TestWholeMessageReads(t *testing.T) {
	k64, k70 := pattern(64<<10, 1), pattern(70000, 2)
	small := func(i int) []byte { return pattern(100, byte(i)) }
	var smalls []wframe
	var smallMsgs [][]byte
	for i := range 50 {
		smalls = append(smalls, msg(small(i)))
		smallMsgs = append(smallMsgs, small(i))
	}
	type tc struct {
		name   string
		segs   func(role Role) [][]byte
		want   [][]byte
		dstCap int
		hits   int // exact number of right guesses
		misses int // least number of wrong ones
		reads  int // exact read calls, 0: not checked
	}
	cases := []tc{
		{
			name: "same size",
			segs: func(r Role) [][]byte {
				return [][]byte{encode(r, msg(k64)), encode(r, msg(k64)), encode(r, msg(k64)), encode(r, msg(k64))}
			},
			want:   [][]byte{k64, k64, k64, k64},
			dstCap: 64 << 10,
			hits:   3,
			reads:  2 + 3, // the first message: buffer fill and vectored rest
		},
		{
			name: "small messages: no guessing",
			segs: func(r Role) [][]byte {
				return [][]byte{encode(r, msg(k64[:600])), encode(r, msg(k64[:600])), encode(r, msg(k64[:600]))}
			},
			want:   [][]byte{k64[:600], k64[:600], k64[:600]},
			dstCap: 600,
			reads:  3, // a buffer fill each: a guess would save no read
		},
		{
			name: "other header size, in place",
			segs: func(r Role) [][]byte {
				return [][]byte{encode(r, msg(k64)), encode(r, msg(k64[:3000])), encode(r, msg(k64))}
			},
			want:   [][]byte{k64, k64[:3000], k64},
			dstCap: 64 << 10,
			misses: 1,
		},
		{
			name: "pipelined small messages, pooled buffer",
			segs: func(r Role) [][]byte {
				return [][]byte{encode(r, msg(k64[:8000])), append(encode(r, smalls...), encode(r, msg(k64[:8000]))...)}
			},
			want:   append(append([][]byte{k64[:8000]}, smallMsgs...), k64[:8000]),
			dstCap: 8000,
			misses: 1,
		},
		{
			name: "same header, shorter first fragment, ping between",
			segs: func(r Role) [][]byte {
				return [][]byte{
					encode(r, msg(pattern(100000, 3))),
					encode(r, wframe{op: framing.OpBinary, payload: k70}, wframe{op: framing.OpPing, fin: true, payload: []byte("hi")},
						wframe{op: framing.OpContinuation, fin: true, payload: k70[:30000]}),
				}
			},
			want:   [][]byte{pattern(100000, 3), append(append([]byte(nil), k70...), k70[:30000]...)},
			dstCap: 100000,
			misses: 1,
		},
		{
			name: "same header, shorter message, more pipelined",
			segs: func(r Role) [][]byte {
				return [][]byte{encode(r, msg(pattern(100000, 3))), encode(r, msg(k70), msg(k70[:66000]), msg(k64))}
			},
			want:   [][]byte{pattern(100000, 3), k70, k70[:66000], k64},
			dstCap: 100000,
			hits:   0,
			misses: 1,
		},
		{
			name: "dst smaller than the message",
			segs: func(r Role) [][]byte {
				return [][]byte{encode(r, msg(k64)), encode(r, msg(k64)), encode(r, msg(k64))}
			},
			want:   [][]byte{k64, k64, k64},
			dstCap: 5000,
			hits:   2,
		},
		{
			name: "non-minimal lengths back off",
			segs: func(r Role) [][]byte {
				var segs [][]byte
				for range 40 {
					segs = append(segs, encode(r, wframe{op: framing.OpBinary, fin: true, payload: k64[:5000], long: true}))
				}
				return segs
			},
			want: func() [][]byte {
				var w [][]byte
				for range 40 {
					w = append(w, k64[:5000])
				}
				return w
			}(),
			dstCap: 5000,
			misses: 3,
		},
	}
	for _, role := range []Role{RoleClient, RoleServer} {
		for _, tc := range cases {
			t.Run(role.String()+"/"+tc.name, func(t *testing.T) {
				sc := (&segConn{}).setSegments(tc.segs(role)...)
				c := sc.conn(t, role)
				buf := make([]byte, 0, tc.dstCap)
				for i, want := range tc.want {
					typ, got, err := c.ReadAppend(bg(), buf[:0])
					require.NoError(t, err, "message %d", i)
					require.Equal(t, MessageBinary, typ)
					require.True(t, bytes.Equal(want, got), "message %d: %d bytes, want %d", i, len(got), len(want))
					if cap(got) == tc.dstCap && i > 0 {
						spare := got[len(got):cap(got)]
						require.Equal(t, len(spare), bytes.Count(spare, []byte{0xEE}), "message %d: dst's spare capacity untouched", i)
					}
					scribble(got[:cap(got)]) // the caller owns dst again
					if cap(got) == tc.dstCap {
						buf = got
					}
				}
				require.Zero(t, sc.remaining())
				_, _, err := c.ReadAppend(bg(), buf[:0])
				require.Error(t, err, "the stream ended")
			})
		}
	}
}

// A text message read whole is validated in place: invalid UTF-8 fails the
// connection with 1007.
func TestWholeMessageReadUTF8(t *testing.T) {
	good := bytes.Repeat([]byte("héllo wörld "), 400)
	bad := append([]byte(nil), good...)
	bad[len(bad)/2] = 0xff
	text := func(p []byte) wframe { return wframe{op: framing.OpText, fin: true, payload: p} }
	for _, role := range []Role{RoleClient, RoleServer} {
		t.Run(role.String(), func(t *testing.T) {
			require.Len(t, bad, len(good))
			sc := (&segConn{}).setSegments(encode(role, text(good)), encode(role, text(good)), encode(role, text(bad)))
			c := sc.conn(t, role)
			buf := make([]byte, 0, len(good))
			for range 2 {
				typ, got, err := c.ReadAppend(bg(), buf[:0])
				require.NoError(t, err)
				require.Equal(t, MessageText, typ)
				require.Equal(t, good, got)
			}
			_, _, err := c.ReadAppend(bg(), buf[:0])
			var ce *CloseError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, StatusInvalidFramePayloadData, ce.Code)
		})
	}
}

// A large payload is read straight into the destination once the buffered
// bytes are used up, and the bytes that follow the frame in the same read
// land in the buffer; bytes the handshake's reader held come first.
func TestDirectPayloadRead(t *testing.T) {
	k64 := pattern(64<<10, 9)
	for _, role := range []Role{RoleClient, RoleServer} {
		for _, vectored := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/vectored=%v", role, vectored), func(t *testing.T) {
				stream := encode(role, msg(k64), msg(k64[:5]), msg(k64))
				first := 3000 // header and the start of the payload, held by the handshake's reader
				br := bufio.NewReaderSize(bytes.NewReader(stream[:first]), 4096)
				_, err := br.Peek(first)
				require.NoError(t, err)
				sc := (&segConn{}).setSegments(stream[first:40000], stream[40000:])
				c := NewConn(sc, br, &Options{Role: role})
				defer c.CloseNow()
				if vectored {
					c.br.rv = sc
				}
				for i, want := range [][]byte{k64, k64[:5], k64} {
					_, got, err := c.Read(bg())
					require.NoError(t, err)
					require.Equal(t, want, got, "message %d", i)
					require.Equal(t, len(want), cap(got), "Read allocates the message size")
				}
				if vectored {
					// 1: up to 40000 straight into the message; 2: the rest of
					// it, then the next two messages' start into the buffer;
					// 3: the rest of the third message.
					require.Equal(t, 3, sc.reads)
				}
			})
		}
	}
}

// The streaming reader takes payload straight into the caller's p.
func TestReaderVectored(t *testing.T) {
	k := pattern(200000, 4)
	for _, chunk := range []int{0, 1000, 7} {
		t.Run(fmt.Sprint("chunk=", chunk), func(t *testing.T) {
			sc := (&segConn{}).setSegments(encode(RoleClient, msg(k), msg(k[:10]), msg(k))).withChunk(chunk)
			c := sc.conn(t, RoleClient)
			for i, want := range [][]byte{k, k[:10], k} {
				_, r, err := c.Reader(bg())
				require.NoError(t, err)
				got, err := io.ReadAll(r)
				require.NoError(t, err)
				require.Equal(t, want, got, "message %d", i)
			}
		})
	}
}

// randomTraffic returns frames forming count random messages (fragmented
// or not, with pings between frames) and the messages they carry.
func randomTraffic(rng *rand.Rand, count int) ([]wframe, [][]byte) {
	sizes := []int{0, 1, 125, 126, 600, 4095, 4096, 4097, 65535, 65536, 70000, 200000}
	var frames []wframe
	var msgs [][]byte
	for i := range count {
		n := sizes[rng.IntN(len(sizes))]
		if rng.IntN(3) == 0 && len(msgs) > 0 {
			n = len(msgs[len(msgs)-1]) // like the previous one: guesses hit
		}
		p := pattern(n, byte(i))
		msgs = append(msgs, p)
		frags := 1
		if rng.IntN(4) == 0 {
			frags = 1 + rng.IntN(4)
		}
		op := framing.OpBinary
		for f := range frags {
			part := p[len(p)*f/frags : len(p)*(f+1)/frags]
			frames = append(frames, wframe{op: op, fin: f == frags-1, payload: part, long: rng.IntN(20) == 0})
			op = framing.OpContinuation
			if rng.IntN(6) == 0 {
				frames = append(frames, wframe{op: framing.OpPing, fin: true, payload: []byte("p")})
			}
		}
	}
	return frames, msgs
}

// readAny reads one message with a random read call.
func readAny(t *testing.T, rng *rand.Rand, c *Conn, buf *[]byte) []byte {
	t.Helper()
	switch rng.IntN(4) {
	case 0:
		_, got, err := c.Read(readCtx(t))
		require.NoError(t, err)
		return got
	case 1:
		_, r, err := c.Reader(readCtx(t))
		require.NoError(t, err)
		var got []byte
		p := make([]byte, 1+rng.IntN(70000))
		for {
			n, err := r.Read(p)
			got = append(got, p[:n]...)
			if err == io.EOF {
				return got
			}
			require.NoError(t, err)
		}
	default:
		fresh := rng.IntN(8) == 0
		if fresh {
			*buf = make([]byte, 0, rng.IntN(300000))
		}
		_, got, err := c.ReadAppend(readCtx(t), (*buf)[:0])
		require.NoError(t, err)
		if !fresh && cap(*buf) > 0 && cap(got) == cap(*buf) {
			spare := got[len(got):cap(got)]
			require.Equal(t, len(spare), bytes.Count(spare, []byte{0xEE}), "dst's spare capacity untouched")
		}
		*buf = got
		out := append([]byte(nil), got...)
		scribble(got[:cap(got)]) // the caller owns dst again
		return out
	}
}

// cut splits stream into consecutive pieces of the lengths next returns
// (the last one shorter).
func cut(stream []byte, next func() int) [][]byte {
	var segs [][]byte
	for rest := stream; len(rest) > 0; {
		n := min(len(rest), next())
		segs = append(segs, rest[:n])
		rest = rest[n:]
	}
	return segs
}

// Random traffic, cut at random places, read with random calls, over the
// segmented fake (every read path deterministic for a seed) and over TCP
// (the real vectored reads, with whatever timing the kernel gives).
func TestRandomTraffic(t *testing.T) {
	for seed := range uint64(12) {
		for _, role := range []Role{RoleClient, RoleServer} {
			t.Run(fmt.Sprintf("seed=%d/%s", seed, role), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 7))
				frames, msgs := randomTraffic(rng, 60)
				stream := encode(role, frames...)
				segs := cut(stream, func() int { return 1 + rng.IntN(150000) })

				sc := (&segConn{chunk: rng.IntN(3) * rng.IntN(100000)}).setSegments(segs...)
				c := sc.conn(t, role)
				var buf []byte
				for i, want := range msgs {
					got := readAny(t, rng, c, &buf)
					require.True(t, bytes.Equal(want, got), "segmented: message %d: %d bytes, want %d", i, len(got), len(want))
				}

				a, b := tcpPair(t)
				tc := NewConn(a, nil, &Options{Role: role, ReadLimit: -1})
				defer tc.CloseNow()
				done := make(chan error, 1)
				go func() {
					for _, s := range segs {
						if _, err := b.Write(s); err != nil {
							done <- err
							return
						}
					}
					done <- nil
				}()
				go func() { _, _ = io.Copy(io.Discard, b) }() // pongs
				for i, want := range msgs {
					got := readAny(t, rng, tc, &buf)
					require.True(t, bytes.Equal(want, got), "tcp: message %d: %d bytes, want %d", i, len(got), len(want))
				}
				require.NoError(t, recv(t, "the call", done))
			})
		}
	}
}

// Over TCP, request/response traffic of one size echoes intact.
func TestEchoReadAppendTCP(t *testing.T) {
	cl, sv := connPair(t, "tcp", &Options{ReadLimit: -1}, &Options{ReadLimit: -1})
	p := pattern(64<<10, 5)
	ctx := readCtx(t)
	errc := make(chan error, 1)
	go func() {
		var buf []byte
		for {
			typ, m, err := sv.ReadAppend(ctx, buf[:0])
			if err != nil {
				errc <- err
				return
			}
			if err := sv.Write(ctx, typ, m); err != nil {
				errc <- err
				return
			}
			buf = m
		}
	}()
	var buf []byte
	for i := range 20 {
		require.NoError(t, cl.Write(ctx, MessageBinary, p))
		_, m, err := cl.ReadAppend(ctx, buf[:0])
		require.NoError(t, err)
		require.True(t, bytes.Equal(p, m), "echo %d", i)
		buf = m
	}
	cl.CloseNow()
	require.Error(t, recv(t, "the result", errc))
}

// A read blocked waiting for the next message is cancelled by its context,
// and a read timeout applies to it.
func TestReadAppendCancel(t *testing.T) {
	p := pattern(4000, 6)
	for _, timeout := range []bool{false, true} {
		t.Run(fmt.Sprint("timeout=", timeout), func(t *testing.T) {
			opts := &Options{}
			if timeout {
				opts.ReadTimeout = 50 * time.Millisecond
			}
			c, raw := withRaw(t, RoleClient, opts)
			raw.send(framing.OpBinary, true, p)
			_, buf, err := c.ReadAppend(readCtx(t), nil)
			require.NoError(t, err)
			require.Equal(t, p, buf)
			ctx, cancel := context.WithCancel(bg())
			defer cancel()
			if !timeout {
				go func() { time.Sleep(20 * time.Millisecond); cancel() }()
			}
			_, _, err = c.ReadAppend(ctx, buf[:0])
			if timeout {
				var ce *CloseError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, StatusAbnormalClosure, ce.Code)
				require.ErrorIs(t, err, os.ErrDeadlineExceeded)
			} else {
				require.ErrorIs(t, err, context.Canceled)
			}
		})
	}
}

// NewConn takes over the handshake's reader's buffer, with the bytes it
// holds, when it is large enough; else it copies them into its own.
func TestTakeBuffer(t *testing.T) {
	data := []byte("HTTP/1.1 101\r\n\r\nframe bytes follow")
	cases := []struct {
		name    string
		size    int // of the bufio.Reader
		consume int // bytes read through it before NewConn
		want    int // Options.ReadBufferSize
		taken   bool
	}{
		{"empty", 4096, len(data), 4096, true},
		{"held bytes, consumed before them", 4096, 16, 4096, true},
		{"held bytes from the start", 4096, 0, 0, true},
		{"larger than asked", 8192, 16, 1024, true},
		{"smaller than asked", 64, 16, 4096, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(bytes.NewReader(data), tc.size)
			_, err := br.Peek(len(data))
			require.NoError(t, err)
			_, err = br.Discard(tc.consume)
			require.NoError(t, err)
			rest, _ := br.Peek(0) // runs to the end of the reader's buffer
			bufEnd := &rest[:cap(rest)][cap(rest)-1]

			c := NewConn(&segConn{}, br, &Options{Role: RoleServer, ReadBufferSize: tc.want})
			defer c.CloseNow()
			require.Equal(t, data[tc.consume:], c.br.own[c.br.r:c.br.w], "held bytes first")
			if tc.taken {
				require.Equal(t, tc.size, c.br.Size())
				require.Same(t, bufEnd, &c.br.own[len(c.br.own)-1], "the same memory")
			} else {
				require.Equal(t, max(tc.want, defaultReadBufferSize), c.br.Size())
				require.NotSame(t, bufEnd, &c.br.own[len(c.br.own)-1])
			}
			n, err := br.Read(make([]byte, 10))
			require.Zero(t, n)
			require.ErrorIs(t, err, io.EOF, "the reader reads nothing more")
		})
	}
}
