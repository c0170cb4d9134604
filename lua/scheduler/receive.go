package scheduler

import (
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Received is the outcome of Channel.Receive.
type Received struct {
	// Value is the value received: lua.LNil when the channel is closed or
	// the wait timed out.
	Value lua.LValue
	// OK is true when a value was received, false when the channel is
	// closed and drained or the wait timed out.
	OK bool
	// TimedOut is true when the timeout elapsed before a value arrived.
	TimedOut bool
}

// Receive is ch:receive() with a time limit, for Lua functions implemented
// in Go. The function's body ends with
//
//	return c.Receive(L, timeout, done)
//
// A negative timeout waits without limit; 0 takes only a value already
// waiting. done runs on the VM goroutine with the outcome and, like a
// lua.LGFunction body, pushes the Lua return values and returns their
// count. Like Await it suspends only the calling coroutine under a running
// scheduler (done then runs on the coroutine's thread in a protected call)
// and blocks the goroutine in plain gopher-lua (honouring L.Context()); a
// non-yieldable context raises the same error as ch:receive().
func (c *Channel) Receive(L *lua.LState, timeout time.Duration, done func(L *lua.LState, r Received) int) int {
	s := c.sched(L)
	var t *task
	if timeout != 0 {
		t = blockingTask(s, L, "channel receive")
	}
	c.mu.Lock()
	if it, ok, got := c.tryRecvLocked(nil); got {
		c.mu.Unlock()
		return done(L, Received{Value: c.toLua(L, it), OK: ok})
	}
	c.mu.Unlock()
	if timeout == 0 {
		return done(L, Received{Value: lua.LNil, TimedOut: true})
	}
	if t == nil {
		v, ok, timedOut := c.plainReceive(L, timeout)
		return done(L, Received{Value: v, OK: ok, TimedOut: timedOut})
	}
	cases := []selCase{{c: c}}
	if timeout > 0 {
		tc := newChannel(L, 1, nil, s)
		s.addTimer(timeout, nil, tc)
		cases = append(cases, selCase{c: tc})
	}
	return s.parkSelect(L, t, &selectOp{t: t, cases: cases, finish: func(L *lua.LState, idx int, v lua.LValue, ok bool) int {
		if idx > 0 {
			return done(L, Received{Value: lua.LNil, TimedOut: true})
		}
		return done(L, Received{Value: v, OK: ok})
	}})
}
