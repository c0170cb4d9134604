package protocol

import (
	"sync"
	"sync/atomic"
)

// frameLock is the frame lock: a mutex that can also be waited on in a
// select, with a context, a timeout or the Conn's closing. Taking it free
// costs what sync.Mutex costs (a channel used as a semaphore costs several
// times that on every frame); only a waiter pays for the channel.
//
// Waiters count themselves in waiters, then retry TryLock after every
// wake. Unlock hands a wake token (the channel holds one at most) to the
// waiters if there are any. No wake-up is lost: a waiter counts itself
// before its TryLock, and Unlock releases the mutex before it reads the
// count, so either the TryLock succeeds or the count is seen. A token
// left behind by a waiter that gave up costs a later waiter one extra
// TryLock.
type frameLock struct {
	mu      sync.Mutex
	waiters atomic.Int32
	wake    chan struct{}
}

func (l *frameLock) init() { l.wake = make(chan struct{}, 1) }

// tryLock takes the lock if it is free.
func (l *frameLock) tryLock() bool { return l.mu.TryLock() }

// unlock releases the lock and wakes a waiter, if any.
func (l *frameLock) unlock() {
	l.mu.Unlock()
	if l.waiters.Load() > 0 {
		l.wakeOne()
	}
}

// wakeOne leaves a wake token for the waiters, unless one is there.
func (l *frameLock) wakeOne() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}
