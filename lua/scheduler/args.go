package scheduler

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// maxArgs raises a Lua error when the running Go function was given more
// than max arguments: no function of the package silently ignores an
// argument it does not take (ch:receive(100) used to block forever, the 100
// ignored). self is 1 for a method (its receiver is not counted in the
// message), 0 otherwise; call shows how the function is called and hint,
// when not empty, what to use instead.
func maxArgs(L *lua.LState, self, max int, call, hint string) {
	n := L.GetTop()
	if n <= max {
		return
	}
	takes := "no arguments"
	switch max - self {
	case 0:
	case 1:
		takes = "at most 1 argument"
	default:
		takes = fmt.Sprintf("at most %d arguments", max-self)
	}
	msg := fmt.Sprintf("%s takes %s, got %d", call, takes, n-self)
	if hint != "" {
		msg += " (" + hint + ")"
	}
	L.RaiseError("%s", msg)
}

// MaxArgs raises a Lua error when the running Go function was given more
// than max arguments, worded as the scheduler's own functions word it:
// "call takes at most N arguments, got M (hint)". self is 1 for a method
// (its receiver is not counted in the message), 0 otherwise; call shows how
// the function is called, e.g. "client:send(data [, type])", and hint, when
// not empty, what to use instead. Modules built on the scheduler use it so
// that none of their functions silently ignores an argument.
func MaxArgs(L *lua.LState, self, max int, call, hint string) {
	maxArgs(L, self, max, call, hint)
}
