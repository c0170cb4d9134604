package protocol

import (
	"context"
	"errors"
	"time"

	"github.com/wslua/wslua/framing"
)

// Sending compressed messages (RFC 7692, 7.2.1): the message is fed to a
// flate.Writer, flushed (a sync flush ends the output with an empty stored
// block, 0x00 0x00 0xff 0xff) and sent without those 4 bytes. The output is
// sent in frames as it accumulates; RSV1 is set on the first one only.

// errDeflateTail reports a flush output that does not end with the empty
// stored block: a bug, never the peer's doing.
var errDeflateTail = errors.New("websocket: compressor output lacks the sync flush tail")

// writeCompressed sends p as one compressed message. The caller holds the
// message lock.
func (c *Conn) writeCompressed(ctx context.Context, op framing.Opcode, p []byte) error {
	d := c.pmd
	// Room for all of p (and a little overhead): typically one frame. An
	// output beyond it is sent in several frames.
	d.beginCompress(ctx, op, min(len(p)+64, maxPooledPayload))
	return d.endCompress(d.compress(p))
}

// beginCompress prepares the compressor and the frame sink for a message.
func (d *deflateState) beginCompress(ctx context.Context, op framing.Opcode, size int) {
	d.sink.start(ctx, op, size)
	d.fed = 0
	if !d.sendTakeover {
		d.cur = getCompressor(d.level, &d.sink)
		return
	}
	if d.own == nil {
		d.own = getCompressor(d.level, &d.sink)
	}
	d.cur = d.own
}

// compress feeds p to the message's compressor. With a window below 32 KiB
// (sendChunk), every chunk of sendChunk bytes is compressed from a reset
// compressor, so no match reaches further back than the window.
func (d *deflateState) compress(p []byte) error {
	fw := d.cur.fw
	for len(p) > 0 {
		k := len(p)
		if d.sendChunk > 0 {
			if d.fed == d.sendChunk {
				if err := fw.Flush(); err != nil {
					return err
				}
				fw.Reset(&d.cur.dst)
				d.fed = 0
			}
			k = min(k, d.sendChunk-d.fed)
		}
		if _, err := fw.Write(p[:k]); err != nil {
			return err
		}
		d.fed += k
		p = p[k:]
	}
	return nil
}

// endCompress ends the message: unless err is already set, it flushes the
// compressor and sends the last frame. It releases what the message held
// and returns the first error.
func (d *deflateState) endCompress(err error) error {
	if err == nil {
		err = d.cur.fw.Flush()
	}
	if err == nil {
		err = d.sink.finish()
	}
	d.sink.release()
	switch {
	case !d.sendTakeover:
		putCompressor(d.level, d.cur)
	case err != nil || d.sink.c.closeErr.Load() != nil:
		// The connection is closed: the history is moot.
		putCompressor(d.level, d.own)
		d.own = nil
	case d.idle == nil:
		d.idle = time.AfterFunc(compressorIdle, d.sink.c.releaseIdleCompressor)
	default:
		d.idle.Reset(compressorIdle)
	}
	d.cur = nil
	return err
}

// releaseIdleCompressor returns the compressor kept for context takeover
// to the pool: once no message was sent for compressorIdle, and when the
// connection closes. It does nothing while a message is being written:
// that message re-arms the timer, or releases the compressor itself if the
// connection is closed by then.
func (c *Conn) releaseIdleCompressor() {
	select {
	case c.writeLock <- struct{}{}:
	default:
		return
	}
	if d := c.pmd; d.own != nil {
		putCompressor(d.level, d.own)
		d.own = nil
		if c.closeErr.Load() != nil && d.idle != nil {
			d.idle.Stop()
		}
	}
	<-c.writeLock
}

// frameSink receives the compressor's output and sends it as the frames of
// one message. It always holds back the last 4 bytes written: at the end of
// the message they are the tail that is not sent.
type frameSink struct {
	c    *Conn
	ctx  context.Context
	bp   *[]byte        // pooled: framing.MaxHeaderSize bytes of room for a header, then the payload
	buf  []byte         // the payload part of *bp, size bytes long
	n    int            // payload bytes buffered
	op   framing.Opcode // opcode of the next frame: the message's, then continuation
	rsv  byte           // RSV bits of the next frame: RSV1 on the first only
	err  error          // first error: the message cannot go on
	sent bool           // a frame of the message is on the wire
}

// start prepares the sink for a message whose frames carry up to size
// payload bytes each.
func (s *frameSink) start(ctx context.Context, op framing.Opcode, size int) {
	s.ctx, s.op, s.rsv, s.n, s.err, s.sent = ctx, op, framing.Rsv1, 0, nil, false
	size = max(size, 2*deflateTailLen)
	s.bp = getBuf(framing.MaxHeaderSize + size)
	s.buf = (*s.bp)[framing.MaxHeaderSize : framing.MaxHeaderSize+size]
}

// Write buffers p, sending a frame whenever the buffer is full.
func (s *frameSink) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	buf := s.buf
	total := len(p)
	for len(p) > 0 {
		if s.n == len(buf) {
			if err := s.emit(false, s.n-deflateTailLen); err != nil {
				return total - len(p), err
			}
		}
		k := copy(buf[s.n:], p)
		s.n += k
		p = p[k:]
	}
	return total, nil
}

// emit sends the first m buffered payload bytes as a frame and moves the
// rest to the front of the buffer. Once a frame is out, a failure to send
// the next fails the connection (abortMessage).
func (s *frameSink) emit(fin bool, m int) error {
	c := s.c
	buf := *s.bp
	h := c.frameHeader(s.op, fin, m)
	h.Rsv = s.rsv
	err := c.sendBuffered(s.ctx, &h, buf, framing.MaxHeaderSize)
	s.op, s.rsv = framing.OpContinuation, 0
	s.n = copy(buf[framing.MaxHeaderSize:], buf[framing.MaxHeaderSize+m:framing.MaxHeaderSize+s.n])
	if err != nil {
		if s.sent {
			err = c.abortMessage(err)
		}
		s.err = err
		return err
	}
	s.sent = true
	return nil
}

// finish sends the final frame: what is buffered, minus the tail.
func (s *frameSink) finish() error {
	if s.err != nil {
		return s.err
	}
	if s.n < deflateTailLen {
		return errDeflateTail
	}
	tail := (*s.bp)[framing.MaxHeaderSize+s.n-deflateTailLen : framing.MaxHeaderSize+s.n]
	if tail[0] != 0 || tail[1] != 0 || tail[2] != 0xff || tail[3] != 0xff {
		return errDeflateTail
	}
	return s.emit(true, s.n-deflateTailLen)
}

// release returns the sink's buffer.
func (s *frameSink) release() {
	if s.bp != nil {
		putBuf(s.bp)
		s.bp, s.buf = nil, nil
	}
	s.ctx = nil
}

// compressWriter is the io.WriteCloser Writer returns when compression is
// negotiated; one per Conn. It holds the message's first bytes until they
// reach the compression threshold: a shorter message goes out uncompressed
// in one frame. From then on the compressed output is sent in frames of
// WriteBufferSize bytes as it accumulates (compress/flate emits its output
// in blocks, so a small Write may send nothing yet).
type compressWriter struct {
	c       *Conn
	ctx     context.Context
	op      framing.Opcode
	active  bool
	started bool    // the compressor has the message
	raw     *[]byte // bytes held before the threshold was reached
	n       int
	err     error // first error of the compressed stream
}

// compressedWriter returns the Conn's compressWriter for a new message.
// The caller holds the message lock, which Close releases.
func (c *Conn) compressedWriter(ctx context.Context, op framing.Opcode) *compressWriter {
	w := &c.pmd.w
	w.ctx, w.op, w.active, w.started, w.n, w.err = ctx, op, true, false, 0, nil
	return w
}

// Write compresses p, or holds it while the message is below the
// threshold.
func (w *compressWriter) Write(p []byte) (int, error) {
	if !w.active {
		return 0, errWriterClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	d := w.c.pmd
	if !w.started {
		if w.n+len(p) < d.threshold {
			if w.raw == nil {
				w.raw = getBuf(d.threshold)
			}
			w.n += copy((*w.raw)[w.n:], p)
			return len(p), nil
		}
		w.started = true
		d.beginCompress(w.ctx, w.op, w.c.writeBufSize)
		if w.n > 0 {
			w.err = d.compress((*w.raw)[:w.n])
		}
	}
	if w.err == nil {
		w.err = d.compress(p)
	}
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// Close sends the end of the message and releases the message lock.
func (w *compressWriter) Close() error {
	if !w.active {
		return errWriterClosed
	}
	c := w.c
	var err error
	switch {
	case w.started:
		err = c.pmd.endCompress(w.err)
	case c.pmd.compressible(w.n):
		// No Write started the compressor, yet the message reaches the
		// threshold: an empty message with a negative threshold, which
		// is compressed like every other (as Conn.Write does).
		c.pmd.beginCompress(w.ctx, w.op, c.writeBufSize)
		err = c.pmd.endCompress(nil)
	case w.raw != nil:
		err = c.sendData(w.ctx, w.op, true, (*w.raw)[:w.n], false)
	default:
		err = c.sendData(w.ctx, w.op, true, nil, false)
	}
	if w.raw != nil {
		putBuf(w.raw)
		w.raw = nil
	}
	w.active = false
	w.ctx = nil
	<-c.writeLock
	return err
}

// WriteUncompressed sends p as one message of type typ like Write, but
// never compressed, even when permessage-deflate is negotiated and p
// reaches the threshold: for payloads that do not compress (images,
// archives, encrypted data), which would only cost CPU. Without
// compression it is Write. The compressor's history (context takeover) is
// not affected: the peer keeps only compressed messages in its window too.
func (c *Conn) WriteUncompressed(ctx context.Context, typ MessageType, p []byte) error {
	if c.pmd == nil {
		return c.Write(ctx, typ, p)
	}
	ctx, op, err := c.beginMessage(ctx, typ)
	if err != nil {
		return err
	}
	if err := c.lockWrite(ctx); err != nil {
		return err
	}
	err = c.sendData(ctx, op, true, p, false)
	<-c.writeLock
	return err
}
