package protocol

import (
	"bufio"
	"io"
	"net"

	"github.com/wslua/wslua/framing"
)

// connReader buffers the bytes read from the network, like a bufio.Reader,
// with one extra way of reading that saves system calls: with the buffer
// empty, a frame's payload is read straight into its destination
// (payload), and on connections that support it (TCP and Unix sockets on
// Linux) whatever follows the frame lands in the buffer in the same
// vectored read (readv): a stream of large frames costs one read per frame
// instead of two. Only the bytes of the frame's payload ever land in the
// destination: a caller's spare capacity is never used as scratch space.
//
// Where reads are vectored, every read made with the buffer empty goes
// through rv (vread), and the buffer is released while such a read waits
// for data: a connection at rest holds no read buffer. See vread.
//
// A connReader belongs to the holder of Conn.readLock.
type connReader struct {
	nc   net.Conn
	rv   vectorReader // vectored reads on nc, nil where unsupported
	own  []byte       // the Conn's buffer; nil while released (see idle)
	ownp *[]byte      // own's pool handle, nil if own is not from the pool
	size int          // the size of the buffer: own's, and that of its replacements
	buf  []byte       // own (nil while released)
	r    int          // buf[r:w] holds unread bytes
	w    int

	// The vectored read under way (vread): what it reads into besides
	// the buffer.
	vmode uint8
	vdst  []byte
}

// vectorReader reads once from the connection into several buffers in
// turn (readv), returning the number of bytes read or an error (io.EOF at
// the end of the stream), never both. The buffers are those r.vector
// returns, asked for before each attempt; when the connection has no data
// yet, the vectorReader calls r.idle before it waits (and asks for the
// buffers again once data is there).
type vectorReader interface {
	readv(r *connReader) (int, error)
}

// minReadBufferSize is the smallest read buffer: it must hold a frame
// header.
const minReadBufferSize = 16

// init prepares r to read nc through a buffer of size bytes or, if br (the
// opening handshake's reader, which read from nc) is not nil, through br's
// own buffer if it is as large, starting with the bytes br holds.
func (r *connReader) init(nc net.Conn, br *bufio.Reader, size int) {
	r.nc = nc
	size = max(size, minReadBufferSize)
	if br != nil {
		r.own, r.w = takeBuffer(br, size)
	} else if bp := getReadBuf(size); bp != nil {
		r.own, r.ownp = (*bp)[:size], bp
	} else {
		r.own = make([]byte, size)
	}
	r.size = len(r.own)
	r.buf = r.own
	if v := newVecReader(nc); v != nil {
		r.rv = v
	}
}

// takeBuffer takes over br's buffer, with the bytes br holds moved to its
// start, and returns it with their count: a server connection then has one
// read buffer, not two (net/http keeps the reader it hijacked referenced
// while the handler runs), and a client none besides the handshake's. br
// must not be used afterwards: it reads nothing more.
//
// bufio.Reader does not export its buffer, but Peek returns a slice of it
// whose capacity runs to the buffer's end, and after Reset the buffer
// starts at Peek(0). If that ever stops holding (the pointer checks fail),
// the held bytes are copied into a new buffer of size bytes instead.
func takeBuffer(br *bufio.Reader, size int) ([]byte, int) {
	n := br.Buffered()
	held, _ := br.Peek(n) // no read: n bytes are buffered
	br.Reset(takenReader{})
	all, _ := br.Peek(0)
	all = all[:cap(all)]
	ok := len(all) >= size && len(all) >= n
	if ok && n > 0 {
		off := cap(all) - cap(held)
		if ok = off >= 0 && off+n <= len(all) && &all[off] == &held[0]; ok {
			copy(all, all[off:off+n]) // Reset clears nothing: held is intact
		}
	}
	if ok {
		return all, n
	}
	b := make([]byte, max(size, n))
	return b, copy(b, held)
}

// takenReader is what a bufio.Reader whose buffer a Conn took reads from.
type takenReader struct{}

func (takenReader) Read([]byte) (int, error) { return 0, io.EOF }

// Size returns the size of the Conn's buffer.
func (r *connReader) Size() int { return r.size }

// Buffered returns the number of bytes that can be read without a read
// from the network.
func (r *connReader) Buffered() int { return r.w - r.r }

// fill reads once from the network into the buffer, after moving the
// unread bytes to its start. The caller has called drained if the buffer
// was empty.
func (r *connReader) fill() error {
	if r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	if r.w == 0 && r.rv != nil {
		n, err := r.vread(vecFill, nil)
		r.w = n
		return err
	}
	n, err := r.nc.Read(r.buf[r.w:])
	r.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// await waits for bytes to read, filling the empty buffer.
func (r *connReader) await() error {
	if r.r < r.w {
		return nil
	}
	r.drained()
	return r.fill()
}

// drained is called when the buffer is empty.
func (r *connReader) drained() { r.r, r.w = 0, 0 }

// Kinds of vectored read (vread).
const (
	vecFill    = iota // the buffer
	vecPayload        // vdst, then the buffer
)

// vread makes one vectored read of the given kind with the buffer empty
// (r.r == r.w == 0) and returns the
// number of bytes read, or an error. If the read has to wait for data,
// the buffer is released meanwhile (idle), and taken again when the data
// is there (vector): a connection at rest holds no read buffer, at the
// cost of a pool put and get per wait and no extra system call.
func (r *connReader) vread(mode uint8, dst []byte) (int, error) {
	r.vmode, r.vdst = mode, dst
	n, err := r.rv.readv(r)
	r.vdst = nil
	return n, err
}

// vector returns the memory the vectored read under way reads into, in
// order, taking a buffer if none is held.
func (r *connReader) vector() (a, b, c []byte) {
	if r.own == nil {
		bp := getReadBuf(r.size) // not nil: idle releases only sizes of a class
		r.own, r.ownp = (*bp)[:r.size], bp
		r.buf = r.own
	}
	if r.vmode == vecPayload {
		return r.vdst, r.buf, nil
	}
	return r.buf, nil, nil
}

// idle is called by the vectorReader when the read under way must wait
// for data: the empty buffer goes back to its pool. A buffer taken from
// the handshake's reader joins the pool too if its length is a class's
// (net/http's and Dial's 4 KiB are), and is dropped otherwise; the next
// buffer comes from the pool, of the class that holds size bytes. A size
// beyond the largest class keeps its buffer.
func (r *connReader) idle() {
	if r.own == nil || readClass(r.size) < 0 {
		return
	}
	if r.ownp != nil {
		putReadBuf(r.ownp)
	} else {
		own := r.own[:cap(r.own)]
		putReadBuf(&own)
	}
	r.own, r.ownp, r.buf = nil, nil, nil
}

// Read implements io.Reader with the semantics of bufio.Reader.Read: a
// single network read at most, none if bytes are buffered, straight into p
// if the buffer is empty and p at least as large.
func (r *connReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.r == r.w {
		r.drained()
		if len(p) >= r.size {
			n, err := r.nc.Read(p)
			if n > 0 {
				return n, nil // an error comes back with the next read
			}
			if err == nil {
				err = io.ErrNoProgress
			}
			return 0, err
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf[r.r:r.w])
	r.r += n
	return n, nil
}

// ReadByte implements io.ByteReader.
func (r *connReader) ReadByte() (byte, error) {
	if r.r == r.w {
		r.drained()
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	b := r.buf[r.r]
	r.r++
	return b, nil
}

// Discard skips the next n bytes and returns how many it skipped, with an
// error if that is fewer than n.
func (r *connReader) Discard(n int) (int, error) {
	done := 0
	for done < n {
		if r.r == r.w {
			r.drained()
			if err := r.fill(); err != nil {
				return done, err
			}
		}
		k := min(n-done, r.w-r.r)
		r.r += k
		done += k
	}
	return done, nil
}

// need makes n (at most len(own)) bytes available in buf[r:w]. It returns
// io.EOF if the stream ends before the first byte, io.ErrUnexpectedEOF if it
// ends after some.
func (r *connReader) need(n int) error {
	for r.w-r.r < n {
		if r.r == r.w {
			r.drained()
		} else if r.r+n > len(r.buf) {
			r.w = copy(r.buf, r.buf[r.r:r.w])
			r.r = 0
		}
		if err := r.fill(); err != nil {
			if err == io.EOF && r.w > r.r {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// readHeader reads and decodes one frame header, with the errors of
// framing.ReadHeader.
func (r *connReader) readHeader() (framing.Header, error) {
	if b := r.buf[r.r:r.w]; len(b) >= 2 && len(b) >= headerSize(b[0], b[1]) {
		h, n, err := framing.ParseHeader(b)
		if err == nil {
			r.r += n
		}
		return h, err
	}
	if err := r.need(2); err != nil {
		return framing.Header{}, err
	}
	if err := r.need(headerSize(r.buf[r.r], r.buf[r.r+1])); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return framing.Header{}, err
	}
	h, n, err := framing.ParseHeader(r.buf[r.r:r.w])
	if err != nil {
		return h, err
	}
	r.r += n
	return h, nil
}

// headerSize returns the encoded size of a frame header from its first two
// bytes.
func headerSize(b0, b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// payload reads at most len(p) bytes of the current frame's payload (p is
// no longer than what is left of it) into p, with one network read at most.
func (r *connReader) payload(p []byte) (int, error) {
	if r.r < r.w {
		n := copy(p, r.buf[r.r:r.w])
		r.r += n
		return n, nil
	}
	r.drained()
	if r.rv != nil && len(p) >= minVecRead {
		// The rest of the frame into p, what follows into the buffer.
		n, err := r.vread(vecPayload, p)
		if n > len(p) {
			r.w = n - len(p)
			n = len(p)
		}
		return n, err
	}
	if len(p) >= r.size {
		n, err := r.nc.Read(p)
		if n > 0 {
			return n, nil
		}
		if err == nil {
			err = io.ErrNoProgress
		}
		return 0, err
	}
	if err := r.fill(); err != nil {
		return 0, err
	}
	n := copy(p, r.buf[r.r:r.w])
	r.r += n
	return n, nil
}

// minVecRead is the least payload read straight into its destination with
// a vectored read; below it the payload is copied from the buffer.
const minVecRead = 512

// waitMessage makes the first read of a call that starts a message, when
// the buffer is empty and reads are vectored: waiting for the next message
// here rather than deep in the frame reading keeps the stack of a
// goroutine parked between messages shallow, and lets the buffer go back
// to its pool meanwhile (see vread).
func (c *Conn) waitMessage() error {
	r := &c.br
	if r.rv == nil || c.rd.active || c.rd.pongOwed || r.Buffered() > 0 {
		return nil
	}
	if err := c.idle(); err != nil {
		return err
	}
	r.drained()
	if err := r.fill(); err != nil {
		return c.readError(err)
	}
	return nil
}
