package protocol

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// An independent DEFLATE decoder (RFC 1951) for the tests. It records the
// longest back-reference distance, which compress/flate's reader does not
// tell, so that tests can check that a compressor honoured a window size.

var errTestInflate = errors.New("test inflate: invalid stream")

type testBits struct {
	b   []byte
	pos int
	acc uint32
	n   uint
}

func (r *testBits) bits(n uint) (int, error) {
	for r.n < n {
		if r.pos >= len(r.b) {
			return 0, io.ErrUnexpectedEOF
		}
		r.acc |= uint32(r.b[r.pos]) << r.n
		r.pos++
		r.n += 8
	}
	v := r.acc & (1<<n - 1)
	r.acc >>= n
	r.n -= n
	return int(v), nil
}

// align drops the bits left in the current byte (fewer than 8 are ever
// buffered).
func (r *testBits) align() { r.acc, r.n = 0, 0 }

type testHuffman struct {
	count  [16]int
	symbol []int
}

func newTestHuffman(lengths []int) *testHuffman {
	h := &testHuffman{symbol: make([]int, len(lengths))}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = sym
			offs[l]++
		}
	}
	return h
}

// decode reads one symbol, a bit at a time, walking the canonical code
// length by length.
func (r *testBits) decode(h *testHuffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l <= 15; l++ {
		b, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		if n := h.count[l]; code-n < first {
			return h.symbol[index+code-first], nil
		}
		index += h.count[l]
		first = (first + h.count[l]) << 1
		code <<= 1
	}
	return 0, errTestInflate
}

var (
	testLenBase   = [...]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	testLenExtra  = [...]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	testDistBase  = [...]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	testDistExtra = [...]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	testClOrder   = [...]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// testInflate decodes stream (which must end at a block boundary, or with
// a final block) after the given history, and returns the new output and
// the longest distance used.
func testInflate(hist, stream []byte) (out []byte, maxDist int, err error) {
	r := &testBits{b: stream}
	buf := append([]byte(nil), hist...)
	start := len(buf)
	for {
		if r.pos == len(r.b) && r.n < 3 && r.acc == 0 {
			// Stream ended at a block boundary (a sync flush leaves
			// only zero padding bits).
			return buf[start:], maxDist, nil
		}
		final, err := r.bits(1)
		if err != nil {
			return nil, 0, err
		}
		typ, err := r.bits(2)
		if err != nil {
			return nil, 0, err
		}
		switch typ {
		case 0:
			r.align()
			if r.pos+4 > len(r.b) {
				return nil, 0, io.ErrUnexpectedEOF
			}
			n := int(r.b[r.pos]) | int(r.b[r.pos+1])<<8
			if nn := int(r.b[r.pos+2]) | int(r.b[r.pos+3])<<8; n != ^nn&0xffff {
				return nil, 0, errTestInflate
			}
			r.pos += 4
			if r.pos+n > len(r.b) {
				return nil, 0, io.ErrUnexpectedEOF
			}
			buf = append(buf, r.b[r.pos:r.pos+n]...)
			r.pos += n
		case 1, 2:
			var lit, dist *testHuffman
			if typ == 1 {
				l := make([]int, 288)
				for i := range l {
					switch {
					case i < 144:
						l[i] = 8
					case i < 256:
						l[i] = 9
					case i < 280:
						l[i] = 7
					default:
						l[i] = 8
					}
				}
				d := make([]int, 30)
				for i := range d {
					d[i] = 5
				}
				lit, dist = newTestHuffman(l), newTestHuffman(d)
			} else if lit, dist, err = r.dynamicTables(); err != nil {
				return nil, 0, err
			}
			for {
				sym, err := r.decode(lit)
				if err != nil {
					return nil, 0, err
				}
				if sym < 256 {
					buf = append(buf, byte(sym))
					continue
				}
				if sym == 256 {
					break
				}
				sym -= 257
				if sym >= len(testLenBase) {
					return nil, 0, errTestInflate
				}
				e, err := r.bits(testLenExtra[sym])
				if err != nil {
					return nil, 0, err
				}
				length := testLenBase[sym] + e
				ds, err := r.decode(dist)
				if err != nil {
					return nil, 0, err
				}
				if ds >= len(testDistBase) {
					return nil, 0, errTestInflate
				}
				if e, err = r.bits(testDistExtra[ds]); err != nil {
					return nil, 0, err
				}
				d := testDistBase[ds] + e
				if d > len(buf) {
					return nil, 0, fmt.Errorf("distance %d beyond the %d bytes of output: %w", d, len(buf), errTestInflate)
				}
				maxDist = max(maxDist, d)
				for i := 0; i < length; i++ {
					buf = append(buf, buf[len(buf)-d])
				}
			}
		default:
			return nil, 0, errTestInflate
		}
		if final == 1 {
			return buf[start:], maxDist, nil
		}
	}
}

func (r *testBits) dynamicTables() (*testHuffman, *testHuffman, error) {
	hlit, err := r.bits(5)
	if err != nil {
		return nil, nil, err
	}
	hdist, err := r.bits(5)
	if err != nil {
		return nil, nil, err
	}
	hclen, err := r.bits(4)
	if err != nil {
		return nil, nil, err
	}
	var cl [19]int
	for i := 0; i < hclen+4; i++ {
		if cl[testClOrder[i]], err = r.bits(3); err != nil {
			return nil, nil, err
		}
	}
	clh := newTestHuffman(cl[:])
	lengths := make([]int, 0, hlit+257+hdist+1)
	for len(lengths) < hlit+257+hdist+1 {
		sym, err := r.decode(clh)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case sym < 16:
			lengths = append(lengths, sym)
		case sym == 16:
			if len(lengths) == 0 {
				return nil, nil, errTestInflate
			}
			n, err := r.bits(2)
			if err != nil {
				return nil, nil, err
			}
			for i := 0; i < n+3; i++ {
				lengths = append(lengths, lengths[len(lengths)-1])
			}
		default:
			extra, base := uint(3), 3
			if sym == 18 {
				extra, base = 7, 11
			}
			n, err := r.bits(extra)
			if err != nil {
				return nil, nil, err
			}
			for i := 0; i < n+base; i++ {
				lengths = append(lengths, 0)
			}
		}
	}
	if len(lengths) > hlit+257+hdist+1 {
		return nil, nil, errTestInflate
	}
	return newTestHuffman(lengths[:hlit+257]), newTestHuffman(lengths[hlit+257:]), nil
}

// testText returns n bytes of pseudo-English text: compressible like real
// text (about 3:1 at BestSpeed), not trivially.
func testText(seed uint64, n int) []byte {
	words := strings.Fields(`the of and to in is was that for on with as by at from his her this which
		or an be are have had were not but one all their they there been has more when will would who
		websocket frame message compress deflate window context takeover server client handshake
		lua coroutine channel scheduler gopher reader writer buffer payload header opcode mask`)
	rng := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		switch rng.IntN(12) {
		case 0:
			b.WriteString(". ")
		case 1:
			b.WriteString(", ")
		case 2:
			fmt.Fprintf(&b, " %d ", rng.IntN(100000))
		default:
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

// testRandom returns n incompressible bytes.
func testRandom(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 11))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// refCompressor compresses messages as a peer would, with compress/flate:
// context takeover unless reset is called between messages.
type refCompressor struct {
	buf bytes.Buffer
	fw  *flate.Writer
}

func newRefCompressor(t testing.TB, level int) *refCompressor {
	r := &refCompressor{}
	var err error
	r.fw, err = flate.NewWriter(&r.buf, level)
	require.NoError(t, err)
	return r
}

// message returns the compressed payload of msg, tail stripped.
func (r *refCompressor) message(t testing.TB, msg []byte) []byte {
	r.buf.Reset()
	_, err := r.fw.Write(msg)
	require.NoError(t, err)
	require.NoError(t, r.fw.Flush())
	out := bytes.Clone(r.buf.Bytes())
	require.True(t, bytes.HasSuffix(out, []byte{0, 0, 0xff, 0xff}))
	return out[:len(out)-4]
}

func (r *refCompressor) reset() { r.fw.Reset(&r.buf) }

// refInflate inflates a message payload (tail stripped) with compress/flate
// after the given history.
func refInflate(hist, payload []byte) ([]byte, error) {
	fr := flate.NewReaderDict(io.MultiReader(bytes.NewReader(payload), bytes.NewReader(inflateTrailer[:])), hist)
	return io.ReadAll(fr)
}

// compressedFrames sends payload as a message of type op from the raw
// peer, RSV1 on the first frame, cut into frames of at most size bytes.
func (p *rawPeer) compressedFrames(op framing.Opcode, payload []byte, size int) []byte {
	var out []byte
	first := true
	for {
		k := min(len(payload), size)
		h := framing.Header{Fin: k == len(payload), Opcode: framing.OpContinuation, Masked: p.client, Mask: [4]byte{5, 6, 7, 8}}
		if first {
			h.Opcode, h.Rsv = op, framing.Rsv1
		}
		out = framing.AppendFrame(out, h, payload[:k])
		payload = payload[k:]
		first = false
		if h.Fin {
			return out
		}
	}
}

// readMessage reads the frames of one data message sent by the Conn,
// answering nothing, and checks the RSV1 rule: on the first frame only, if
// at all. It returns the opcode, whether RSV1 was set, the reassembled
// payload and the frame count.
func (p *rawPeer) readMessage() (op framing.Opcode, compressed bool, payload []byte, frames int) {
	p.t.Helper()
	for {
		h, b := p.nextAllowingRsv1()
		if h.Opcode.IsControl() {
			continue
		}
		if frames == 0 {
			require.NotEqual(p.t, framing.OpContinuation, h.Opcode)
			op, compressed = h.Opcode, h.Rsv == framing.Rsv1
		} else {
			require.Equal(p.t, framing.OpContinuation, h.Opcode)
			require.Zero(p.t, h.Rsv, "RSV1 on a continuation frame")
		}
		frames++
		payload = append(payload, b...)
		if h.Fin {
			return op, compressed, payload, frames
		}
	}
}

// nextAllowingRsv1 is mustNext for a connection with permessage-deflate.
func (p *rawPeer) nextAllowingRsv1() (framing.Header, []byte) {
	p.t.Helper()
	h, b, err := p.next()
	require.NoError(p.t, err)
	require.Equal(p.t, !p.client, h.Masked)
	require.NoError(p.t, h.Check(framing.Rsv1, !p.client))
	if h.Opcode.IsControl() {
		require.Zero(p.t, h.Rsv, "RSV1 on a control frame")
	}
	return h, b
}
