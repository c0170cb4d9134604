package scheduler

// TrySendGo sends v from any goroutine if the channel takes it without
// waiting: its buffer has room and no sender waits before it. It never
// blocks, so a producer that must keep going (a connection's reader with a
// notification nobody may be reading) can drop what does not fit. It
// reports whether v was taken; when the channel is closed or the Run of its
// scheduler ended, it returns false and ErrClosed or ErrStopped, as SendGo
// does. An unbuffered channel (size 0) never has room: v is not taken.
func (c *Channel) TrySendGo(v any) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false, ErrClosed
	}
	s := c.s.Load()
	if s != nil {
		select {
		case <-s.stopChan():
			return false, ErrStopped
		default:
		}
	}
	if c.buf.len() >= c.size || c.sendq.peekLive() != nil {
		return false, nil
	}
	c.buf.push(item{gv: v, isGo: true})
	c.signalLocked(s)
	return true, nil
}
