package lua

import (
	"fmt"
	"time"

	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/scheduler"
)

// Results of client:read besides a message.
const (
	readTimeout = "timeout" // no message within the timeout; the connection stays open
	readClosed  = "closed"  // the final close message was read and the channel is closed
)

// clientRead is client:read([timeout]): the next message of the receive
// channel (the same messages as client:receive(), which it shares), or nil
// and "timeout" when none arrived within timeout (the connection stays
// open: a later read gets the next message), or nil and "closed" once the
// final close message has been read and the channel is closed. timeout is
// a number of milliseconds or a Go duration string; nil waits without
// limit, 0 (or less) takes only a message already waiting. A bad timeout
// returns nil and an error message; an extra argument raises an error.
func clientRead(L *glua.LState) int {
	c := checkClient(L)
	fail := func(format string, args ...any) int {
		L.Push(glua.LNil)
		L.Push(glua.LString(fmt.Sprintf(format, args...)))
		return 2
	}
	scheduler.MaxArgs(L, 1, 2, "client:read([timeout])", "")
	timeout := time.Duration(-1)
	if v := L.Get(2); v != glua.LNil {
		d, err := scheduler.ParseDuration(v)
		if err != nil {
			return fail("websocket: read timeout: %v", err)
		}
		timeout = max(d, 0)
	}
	return c.ch.Receive(L, timeout, pushRead)
}

// pushRead pushes the results of client:read for r.
func pushRead(L *glua.LState, r scheduler.Received) int {
	switch {
	case r.OK:
		L.Push(r.Value)
		return 1
	case r.TimedOut:
		L.Push(glua.LNil)
		L.Push(glua.LString(readTimeout))
	default:
		L.Push(glua.LNil)
		L.Push(glua.LString(readClosed))
	}
	return 2
}
