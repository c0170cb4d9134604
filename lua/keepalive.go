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
	pingOut  bool      // that ping has been written to the connection
	readMark int64     // bytesRead when the timer was last armed
	sendMark int64     // bytesWritten when the timer was last armed
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
		k.pingOut = false
		k.sentAt = time.Now()
		k.readMark, k.sendMark = k.c.bytesRead(), k.c.bytesWritten()
		// Armed before the write: a peer that stops reading (the write
		// blocks on a full socket buffer) is detected as well.
		k.timer.Reset(k.timeout)
		k.mu.Unlock()
		// An error means the connection is closing or closed; the reader
		// reports how it ended.
		err := conn.Ping(context.Background(), p)
		k.mu.Lock()
		if k.awaiting && err == nil {
			// The ping is on the wire: pong_timeout counts from now, and
			// from now on only bytes from the peer are signs of life.
			k.pingOut = true
			k.sentAt = time.Now()
			k.readMark = k.c.bytesRead()
			k.timer.Reset(k.timeout)
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

// timedOut runs when no pong came within the timeout. Bytes from the peer
// meanwhile show it is alive and the pong only late (behind a long message
// of the peer's): the wait starts over. While the ping itself is still
// waiting to be written (behind a long send of ours), bytes going out show
// the peer is reading, and the wait starts over too; once the ping is on
// the wire, what we send proves nothing (the kernel takes it whether or
// not the peer is there). Otherwise the connection is ended with 1006 and
// a reason naming the cause.
func (k *keepalive) timedOut() {
	k.mu.Lock()
	if !k.awaiting {
		k.mu.Unlock()
		return
	}
	if read := k.c.bytesRead(); read != k.readMark {
		k.readMark = read
		k.timer.Reset(k.timeout)
		k.mu.Unlock()
		return
	}
	if sent := k.c.bytesWritten(); !k.pingOut && sent != k.sendMark {
		k.sendMark = sent
		k.timer.Reset(k.timeout)
		k.mu.Unlock()
		return
	}
	pingOut := k.pingOut
	sentAt := k.sentAt
	k.mu.Unlock()
	cause := fmt.Sprintf("no pong within pong_timeout (%v)", k.timeout)
	if !pingOut {
		cause += ": the ping could not even be sent (the server is not reading)"
	}
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
