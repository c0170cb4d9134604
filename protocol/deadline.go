package protocol

import (
	"context"
	"net"
	"sync"
	"time"
)

// aLongTimeAgo is a deadline in the past: setting it makes blocked network
// calls return at once.
var aLongTimeAgo = time.Unix(1, 0)

// deadlineGuard lets the cancellation of a context interrupt a blocked read
// or write by moving the connection's deadline into the past.
//
// Registering with context.AfterFunc allocates, so the registration is kept
// between calls: a caller that passes the same context (or one with the
// same Done channel) on every call registers once. The callback only acts
// while a call is under way (active); a cancellation between calls is seen
// by the next call's own check of ctx.Err().
type deadlineGuard struct {
	nc    net.Conn // whose read or write deadline is moved
	write bool     // the write deadline, else the read deadline

	mu     sync.Mutex
	done   <-chan struct{} // Done channel of the context registered
	stop   func() bool     // ends that registration
	active bool            // a call is under way
	moved  bool            // the callback moved the deadline during that call
}

// watch starts a call under ctx, whose Done channel must not be nil: if ctx
// is done before release, moving the deadline into the past interrupts the call. Calls
// under one guard do not overlap (the caller holds the read or frame lock).
func (g *deadlineGuard) watch(ctx context.Context) {
	done := ctx.Done()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done != done {
		if g.stop != nil {
			g.stop() // a callback already running finds g.done changed
		}
		g.done = done
		g.stop = context.AfterFunc(ctx, func() {
			g.mu.Lock()
			if g.done == done && g.active && !g.moved {
				g.set(aLongTimeAgo)
				g.moved = true
			}
			g.mu.Unlock()
		})
	}
	g.active = true
	// The registration may have fired before this call began: a context
	// done now must still interrupt it.
	if ctx.Err() != nil && !g.moved {
		g.set(aLongTimeAgo)
		g.moved = true
	}
}

// release ends the call that watch started and clears the deadline the
// cancellation moved, if it did.
func (g *deadlineGuard) release() {
	g.mu.Lock()
	g.active = false
	if g.moved {
		g.moved = false
		g.set(time.Time{})
	}
	g.mu.Unlock()
}

// forget drops the kept registration (the connection is closed), so that a
// long-lived context does not keep the Conn reachable.
func (g *deadlineGuard) forget() {
	g.mu.Lock()
	if g.stop != nil {
		g.stop()
	}
	g.done, g.stop = nil, nil
	g.mu.Unlock()
}

// set sets the guarded deadline.
func (g *deadlineGuard) set(t time.Time) {
	if g.write {
		_ = g.nc.SetWriteDeadline(t)
	} else {
		_ = g.nc.SetReadDeadline(t)
	}
}
