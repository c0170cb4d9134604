package protocol

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/wslua/wslua/framing"
)

// PingRTT sends a ping and waits for the pong that answers it, returning
// the round-trip time. The pong is seen by whichever goroutine reads the
// Conn (Read, ReadAppend, a message reader, or CloseRead's goroutine), so
// some goroutine must be reading, or PingRTT waits until ctx is done. It
// returns ctx.Err() if ctx is done first, an error matching ErrClosed if
// the connection closes first. Concurrent calls each wait for their own
// pong. Ping, by contrast, only sends.
func (c *Conn) PingRTT(ctx context.Context) (time.Duration, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	seq := c.pingSeq.Add(1)
	var payload [8]byte
	binary.BigEndian.PutUint64(payload[:], seq)
	done := make(chan struct{})
	c.pingMu.Lock()
	if c.pingWait == nil {
		c.pingWait = make(map[uint64]chan struct{})
	}
	c.pingWait[seq] = done
	c.pingMu.Unlock()
	defer func() {
		c.pingMu.Lock()
		delete(c.pingWait, seq)
		c.pingMu.Unlock()
	}()
	start := time.Now()
	if err := c.sendControl(ctx, framing.OpPing, payload[:], 0, time.Time{}); err != nil {
		return 0, err
	}
	select {
	case <-done:
		return time.Since(start), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-c.closed:
		return 0, c.closedErr()
	}
}

// pongFor wakes the PingRTT call whose ping the pong with payload p
// answers, if any. It runs on the reading goroutine.
func (c *Conn) pongFor(p []byte) {
	if len(p) != 8 || c.pingSeq.Load() == 0 {
		return
	}
	seq := binary.BigEndian.Uint64(p)
	c.pingMu.Lock()
	if done, ok := c.pingWait[seq]; ok {
		close(done)
		delete(c.pingWait, seq)
	}
	c.pingMu.Unlock()
}
