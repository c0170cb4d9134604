package lua

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// keepalivePrefix starts the payload of every automatic ping, followed by a
// sequence number, so that the pongs answering them are told apart from
// the pongs of client:ping() and unsolicited ones.
const keepalivePrefix = "wslua keepalive "

// keepalive sends the automatic pings of ping_interval and watches for
// their pongs (or, while they are late, for bytes moving on the
// connection). It lives in the lua package rather than in protocol's own
// keepalive so that the pongs answering it are not delivered to the script
// (they would fill the receive channel of a script that only sends, stop
// the reader, and the next pong would never be read), and so that a pong
// timeout while the reader is held up by a full receive channel is
// reported as what it is.
type keepalive struct {
	c        *client
	interval time.Duration
	timeout  time.Duration
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{} // closed when the goroutine ended

	mu       sync.Mutex
	seq      uint64
	payload  []byte    // of the last ping sent
	awaiting bool      // that ping is unanswered
	sentAt   time.Time // when it was sent
	moved    int64     // the connection's byte count when the timer was last armed
	timer    *time.Timer
}

func newKeepalive(c *client, interval, timeout time.Duration) *keepalive {
	if timeout <= 0 {
		timeout = interval
	}
	k := &keepalive{c: c, interval: interval, timeout: timeout, stop: make(chan struct{}), done: make(chan struct{})}
	k.timer = time.AfterFunc(time.Hour, k.timedOut)
	k.timer.Stop()
	return k
}

// run sends a ping every interval while none is unanswered, until halt.
func (k *keepalive) run() {
	defer close(k.done)
	t := time.NewTicker(k.interval)
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
		}
		conn, open := k.c.openConn()
		if !open {
			continue
		}
		k.mu.Lock()
		if k.awaiting {
			k.mu.Unlock()
			continue
		}
		k.seq++
		k.payload = strconv.AppendUint(append(k.payload[:0], keepalivePrefix...), k.seq, 10)
		p := bytes.Clone(k.payload)
		k.awaiting = true
		k.sentAt = time.Now()
		k.moved = k.c.moved()
		// Armed before the write: a peer that stops reading (the write
		// blocks on a full socket buffer) is detected as well.
		k.timer.Reset(k.timeout)
		k.mu.Unlock()
		// An error means the connection is closing or closed; the reader
		// reports how it ended.
		_ = conn.Ping(context.Background(), p)
		k.mu.Lock()
		if k.awaiting {
			k.moved = k.c.moved() // our own ping is no sign of life
		}
		k.mu.Unlock()
	}
}

// pong is called by the reader for every pong: any pong shows the peer is
// alive and disarms the watchdog. It reports whether p answers one of the
// automatic pings (such pongs are not delivered to the script).
func (k *keepalive) pong(p []byte) (automatic bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.awaiting {
		k.awaiting = false
		k.timer.Stop()
	}
	return k.seq > 0 && bytes.HasPrefix(p, []byte(keepalivePrefix)) && isSeq(p[len(keepalivePrefix):], k.seq)
}

// isSeq reports whether b is the decimal form of a sequence number in
// [1, last].
func isSeq(b []byte, last uint64) bool {
	n, err := strconv.ParseUint(string(b), 10, 64)
	return err == nil && n >= 1 && n <= last && strconv.FormatUint(n, 10) == string(b)
}

// timedOut runs when no pong came within the timeout. If bytes moved on
// the connection meanwhile, the peer is alive and the pong is only late
// (the ping waits behind a long send of ours, or the pong behind a long
// message of the peer's): the wait starts over. Otherwise the connection
// is ended with 1006 and a reason naming the cause.
func (k *keepalive) timedOut() {
	k.mu.Lock()
	if !k.awaiting {
		k.mu.Unlock()
		return
	}
	if moved := k.c.moved(); moved != k.moved {
		k.moved = moved
		k.timer.Reset(k.timeout)
		k.mu.Unlock()
		return
	}
	sentAt := k.sentAt
	k.mu.Unlock()
	cause := fmt.Sprintf("no pong within pong_timeout (%v)", k.timeout)
	if since := k.c.stalledSince(); !since.IsZero() && !since.After(sentAt) {
		// The reader has been waiting for room in the receive channel since
		// before the ping went out: the pong was never read.
		cause += fmt.Sprintf(": the script is not reading its receive channel (full for %v, so the connection was not read)", roundDuration(time.Since(since)))
	}
	k.c.endLocally(cause)
}

// halt stops the goroutine and the watchdog. Idempotent.
func (k *keepalive) halt() {
	k.stopOnce.Do(func() { close(k.stop) })
	k.mu.Lock()
	k.awaiting = false
	k.timer.Stop()
	k.mu.Unlock()
}

// roundDuration rounds d for messages.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d
}
