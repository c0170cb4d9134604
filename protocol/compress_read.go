package protocol

import (
	"fmt"
	"io"
	"math/bits"

	"github.com/wslua/wslua/framing"
)

// Receiving compressed messages (RFC 7692, 7.2.2): the payload of a message
// whose first frame has RSV1 set is inflated as it is read, frame after
// frame, followed by the 0x00 0x00 0xff 0xff tail the sender stripped. The
// read limit applies to the inflated bytes: the inflater is never asked for
// more than the limit allows plus one byte, so a message that inflates
// beyond it fails with 1009 having cost no more memory than the limit (and
// the inflater's fixed 32 KiB window). Text is validated as it is inflated.
// With context takeover the last bytes inflated (up to the peer's window)
// are kept between messages as the next message's dictionary; the inflater
// itself goes back to a pool after every message.

// inflateTrailer follows a message's payload: the tail RFC 7692 strips,
// then an empty final stored block, so that the inflater reports io.EOF
// (rather than io.ErrUnexpectedEOF) at the message's end.
var inflateTrailer = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// minInflateGrow is the least a whole-message read grows its buffer by.
const minInflateGrow = 512

// inflateSource is the inflater's input: the payload of the current
// message across its frames (control frames between them are handled on
// the way), then inflateTrailer, then io.EOF. It implements io.ByteReader,
// so compress/flate reads it without a buffer of its own.
type inflateSource struct {
	c    *Conn
	tail int   // bytes of inflateTrailer served
	err  error // the error that ended the stream, other than io.EOF
}

// Read implements io.Reader.
func (s *inflateSource) Read(p []byte) (int, error) {
	c := s.c
	for c.rd.remaining == 0 {
		if c.rd.fin {
			if s.tail == len(inflateTrailer) {
				return 0, io.EOF
			}
			n := copy(p, inflateTrailer[s.tail:])
			s.tail += n
			return n, nil
		}
		if err := c.nextFrame(true); err != nil {
			s.err = err
			return 0, err
		}
	}
	n, err := c.readRaw(p)
	if err != nil {
		s.err = err
	}
	return n, err
}

// ReadByte implements io.ByteReader, directly from the buffered reader
// when it can.
func (s *inflateSource) ReadByte() (byte, error) {
	c := s.c
	if c.rd.remaining > 0 && c.br.Buffered() > 0 {
		b, _ := c.br.ReadByte() // cannot fail: a byte is buffered
		if c.rd.masked {
			b ^= c.rd.key[c.rd.pos]
			c.rd.pos = (c.rd.pos + 1) & 3
		}
		c.rd.remaining--
		return b, nil
	}
	var b [1]byte
	for {
		n, err := s.Read(b[:])
		if n == 1 {
			return b[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// done reports whether the whole input was read.
func (s *inflateSource) done() bool { return s.tail == len(inflateTrailer) }

// readRaw reads at most len(p) bytes of the current frame's payload
// (remaining > 0) and unmasks them; readPayload without the UTF-8
// validation, which applies to the inflated bytes instead.
func (c *Conn) readRaw(p []byte) (int, error) {
	if int64(len(p)) > c.rd.remaining {
		p = p[:c.rd.remaining]
	}
	if c.readTimeout > 0 && c.br.Buffered() == 0 {
		if err := c.idle(); err != nil {
			return 0, err
		}
	}
	n, err := c.br.Read(p)
	if n > 0 {
		if c.rd.masked {
			c.rd.pos = framing.Mask(c.rd.key, c.rd.pos, p[:n])
		}
		c.rd.remaining -= int64(n)
	}
	if err != nil && (n == 0 || err != io.EOF) {
		return n, c.readError(err)
	}
	return n, nil
}

// inflateSome reads inflated bytes of the current compressed message into
// p (len(p) > 0). It returns io.EOF at the message's end, possibly with
// the last bytes.
func (c *Conn) inflateSome(p []byte) (int, error) {
	if !c.rd.active {
		return 0, io.EOF
	}
	d := c.pmd
	if d.fr == nil {
		// No inflater nor output buffer before the compressed bytes are
		// there.
		if err := c.awaitPayload(); err != nil {
			return 0, err
		}
		d.startInflate(c)
	}
	limit := c.readLimit.Load()
	if limit >= 0 {
		// One byte more than the limit allows tells a message that is too
		// big from one that fits exactly.
		if room := limit - d.produced; int64(len(p)) > room+1 {
			p = p[:room+1]
		}
	}
	for {
		n, err := d.fr.Read(p)
		if n > 0 {
			out := p[:n]
			d.produced += int64(n)
			if limit >= 0 && d.produced > limit {
				d.endInflate()
				return n, c.fail(StatusMessageTooBig, ErrMessageTooBig)
			}
			if c.rd.op == framing.OpText {
				if c.rd.utf8 = utf8Feed(c.rd.utf8, out); c.rd.utf8 == utf8Reject {
					d.endInflate()
					return n, c.fail(StatusInvalidFramePayloadData, ErrInvalidUTF8)
				}
			}
			if d.recvTakeover {
				d.remember(out)
			}
		}
		switch {
		case err == io.EOF:
			return n, c.finishInflate()
		case err != nil:
			d.endInflate()
			if d.src.err != nil {
				return n, d.src.err // the stream failed: already reported
			}
			return n, c.fail(StatusInvalidFramePayloadData, fmt.Errorf("%w: %v", ErrInvalidCompressedData, err))
		case n > 0:
			return n, nil
		}
	}
}

// finishInflate ends a compressed message whose data the inflater read to
// its end. A sender may end its data with a final block (BFINAL) rather
// than the sync flush of RFC 7692, 7.2.1; what follows it in the message
// is skipped.
func (c *Conn) finishInflate() error {
	d := c.pmd
	for !d.src.done() {
		if c.rd.remaining > 0 {
			if err := c.discard(c.rd.remaining); err != nil {
				d.endInflate()
				return err
			}
			c.rd.remaining = 0
		}
		if !c.rd.fin {
			if err := c.nextFrame(true); err != nil {
				d.endInflate()
				return err
			}
			continue
		}
		d.src.tail = len(inflateTrailer)
	}
	d.endInflate()
	return c.endMessage() // io.EOF, or a failure for text cut inside a character
}

// inflateCheck is how many inflated bytes inflateRest produces between two
// looks at the read's context: inflating bytes that are already buffered
// makes no network read, which the context would interrupt.
const inflateCheck = 64 << 10

// inflateRest appends the rest of the current compressed message to dst.
func (c *Conn) inflateRest(dst []byte) ([]byte, error) {
	check := len(dst) + inflateCheck
	for {
		if len(dst) >= check {
			check = len(dst) + inflateCheck
			if ctx := c.rd.ctx; ctx != nil && ctx.Err() != nil {
				c.pmd.endInflate()
				return dst, c.readError(ctx.Err())
			}
		}
		if len(dst) == cap(dst) {
			if err := c.awaitPayload(); err != nil {
				return dst, err
			}
			dst = c.growInflate(dst)
		}
		n, err := c.inflateSome(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// growInflate returns dst with room for more inflated bytes: as much again
// as dst holds (at first a few times the compressed bytes buffered, at
// most maxPrealloc), never more than the read limit leaves plus one byte.
func (c *Conn) growInflate(dst []byte) []byte {
	add := int64(max(len(dst), minInflateGrow))
	if c.pmd.produced == 0 {
		// A power of two, so that doubling meets the read limit's
		// typical power-of-two values in few steps.
		first := int64(1) << bits.Len64(uint64(4*min(c.br.Buffered(), int(c.rd.remaining))))
		add = max(add, min(first, maxPrealloc))
	}
	if limit := c.readLimit.Load(); limit >= 0 {
		// Once the limit is in reach, room for it and the one byte that
		// tells a message that is too big.
		if room := limit - c.pmd.produced; add >= room {
			add = room + 1
		}
	}
	b := make([]byte, len(dst), int64(len(dst))+add)
	copy(b, dst)
	return b
}

// startInflate takes an inflater for a new message, primed with the
// history when the peer may use context takeover.
func (d *deflateState) startInflate(c *Conn) {
	d.src = inflateSource{c: c}
	d.produced = 0
	var dict []byte
	if d.recvTakeover {
		dict = d.hist[max(0, len(d.hist)-d.recvWindow):]
	}
	d.fr = getDecompressor(&d.src, dict)
}

// endInflate returns the inflater to the pool.
func (d *deflateState) endInflate() {
	if d.fr != nil {
		putDecompressor(d.fr)
		d.fr = nil
	}
}

// remember appends inflated bytes to the history. The history buffer has
// room for a quarter of a window beyond the window, so sliding it costs
// amortized a few byte copies per byte, however small the reads.
func (d *deflateState) remember(b []byte) {
	w := d.recvWindow
	if d.hist == nil {
		d.hist = make([]byte, 0, w+w/4)
	}
	if len(b) >= w {
		d.hist = append(d.hist[:0], b[len(b)-w:]...)
		return
	}
	if len(d.hist)+len(b) > cap(d.hist) {
		drop := len(d.hist) + len(b) - w
		d.hist = d.hist[:copy(d.hist, d.hist[drop:])]
	}
	d.hist = append(d.hist, b...)
}
