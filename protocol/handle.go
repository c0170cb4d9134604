package protocol

// Streaming handles. Writer and Reader do not hand out the Conn's own
// message writer and reader, which serve every message, but a handle that
// carries the generation of its message: a handle kept past its message
// (a Write after Close, a Read after the next message was asked for) is
// told apart from the current one and gets an error instead of touching
// the next message. Handles are cut from small slabs, so a message costs
// no allocation of its own (one slab per handleSlab messages).

// handleSlab is the number of handles allocated at once.
const handleSlab = 16

// handle is a Conn and the generation of the message it streams.
type handle struct {
	c   *Conn
	gen uint64
}

// handles cuts handles from slabs; guarded by the lock of its side.
type handles struct{ free []handle }

func (s *handles) get(c *Conn, gen uint64) *handle {
	if len(s.free) == 0 {
		s.free = make([]handle, handleSlab)
	}
	h := &s.free[0]
	s.free = s.free[1:]
	h.c, h.gen = c, gen
	return h
}

// writerHandle is the io.WriteCloser Writer returns.
type writerHandle handle

// Write writes to the message if it is still the one being written.
func (h *writerHandle) Write(p []byte) (int, error) {
	c := h.c
	if c.wgen.Load() != h.gen {
		return 0, errWriterClosed
	}
	if c.pmd != nil {
		return c.pmd.w.Write(p)
	}
	return c.mw.Write(p)
}

// Close ends the message if it is still the one being written.
func (h *writerHandle) Close() error {
	c := h.c
	if c.wgen.Load() != h.gen {
		return errWriterClosed
	}
	if c.pmd != nil {
		return c.pmd.w.Close()
	}
	return c.mw.Close()
}

// newWriterHandle returns the handle of a new message; the caller holds
// the message lock.
func (c *Conn) newWriterHandle() *writerHandle {
	return (*writerHandle)(c.wslab.get(c, c.wgen.Add(1)))
}

// readerHandle is the io.Reader Reader returns.
type readerHandle handle

// Read reads from the message if it is still the one being read.
func (h *readerHandle) Read(p []byte) (int, error) { return h.c.mr.read(h.gen, p) }

// staleReaders ends the current message reader's generation: the caller
// holds the read lock.
func (r *messageReader) staleReaders() {
	r.state = readerStale
	r.gen++
}
