package scheduler

import (
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// ErrClosed is returned by Channel.SendGo when the channel is (or becomes)
// closed before the value was accepted.
var ErrClosed = errors.New("scheduler: send on closed channel")

// ErrStopped is returned by Channel.SendGo when the Run that the channel's
// scheduler was executing has ended (or had already ended) before the value
// was accepted.
var ErrStopped = errors.New("scheduler: scheduler stopped")

// ErrRunning is returned by Run when a Run is already active on the state.
var ErrRunning = errors.New("scheduler: Run is already active on this Lua state")

// CoroutineError is the error Run returns when a coroutine (the main chunk
// or a spawned one) raised a Lua error that nothing caught.
type CoroutineError struct {
	// Coroutine names the coroutine: "main chunk" or
	// "coroutine #N (function at source:line)".
	Coroutine string
	// Message is the Lua error value as a string (it carries the
	// "source:line:" prefix when the error was raised with a position).
	Message string
	// Traceback is the Lua stack traceback at the point of the error
	// ("stack traceback:\n\t..."); it may be empty for Go panics.
	Traceback string
}

// Error implements error.
func (e *CoroutineError) Error() string {
	var b strings.Builder
	b.WriteString("scheduler: ")
	b.WriteString(e.Coroutine)
	b.WriteString(" failed: ")
	b.WriteString(e.Message)
	if e.Traceback != "" {
		b.WriteByte('\n')
		b.WriteString(e.Traceback)
	}
	return b.String()
}

// Blocked describes one coroutine in a DeadlockError.
type Blocked struct {
	// Coroutine names the coroutine, as in CoroutineError.
	Coroutine string
	// Op is the blocking operation: "channel receive", "channel send" or
	// "channel.select".
	Op string
	// Where is the "source:line" of the call that blocks (empty when the
	// coroutine was returning the operation's results as a tail call).
	Where string
}

// DeadlockError is the error Run returns when every live coroutine is
// blocked and nothing (no timer, no Await in flight, no live Go producer of a
// channel being received from) could ever wake one of them.
type DeadlockError struct {
	// Blocked lists the blocked coroutines in the order they were created.
	Blocked []Blocked
}

// Error implements error.
func (e *DeadlockError) Error() string {
	var b strings.Builder
	b.WriteString("scheduler: deadlock: all coroutines are blocked")
	for _, bl := range e.Blocked {
		b.WriteString("\n\t")
		b.WriteString(bl.Coroutine)
		b.WriteString(": blocked in ")
		b.WriteString(bl.Op)
		if bl.Where != "" {
			b.WriteString(" at ")
			b.WriteString(bl.Where)
		}
	}
	return b.String()
}

// errorValue extracts the Lua error value from an error returned by
// gopher-lua.
func errorValue(err error) lua.LValue {
	var aerr *lua.ApiError
	if errors.As(err, &aerr) && aerr.Object != nil {
		return aerr.Object
	}
	return lua.LString(err.Error())
}

// errorString renders a Lua error value as the standalone lua interpreter
// does: a string (or number) as it is, a table's string "message" field,
// the result of a __tostring metamethod (called in a protected call on L,
// the VM's state, if not nil), and otherwise "(error object is a T value)"
// rather than an address that says nothing.
func errorString(L *lua.LState, v lua.LValue) string {
	switch v := v.(type) {
	case nil:
		return "(error object is a nil value)"
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	case *lua.LTable:
		if msg, ok := v.RawGetString("message").(lua.LString); ok {
			return string(msg)
		}
	}
	if L != nil {
		if mt := L.GetMetaField(v, "__tostring"); mt != lua.LNil {
			if err := L.CallByParam(lua.P{Fn: mt, NRet: 1, Protect: true}, v); err == nil {
				res := L.Get(-1)
				L.Pop(1)
				if s, ok := res.(lua.LString); ok {
					return string(s)
				}
			}
		}
	}
	return "(error object is a " + v.Type().String() + " value)"
}

// maxTraceback bounds the number of frames listed in a traceback.
const maxTraceback = 22

// traceback renders th's call stack like Lua's debug.traceback. It must run
// on the VM goroutine while th is not running on another goroutine.
func traceback(th *lua.LState) string {
	var lines []string
	var prev *lua.Debug
	for level := 0; ; level++ {
		dbg, ok := th.GetStack(level)
		if !ok {
			break
		}
		if _, err := th.GetInfo("nSl", dbg, lua.LNil); err != nil {
			break
		}
		if dbg.Source == bootChunkName {
			// The scheduler's bootstrap, at the bottom of every thread: not
			// shown, and the function it called is not named after its
			// parameter.
			if prev != nil {
				prev.Name = ""
				lines[len(lines)-1] = frameLine(prev)
			}
			break
		}
		lines = append(lines, frameLine(dbg))
		prev = dbg
		if dbg.What == "main" || level > 1000 {
			break // the bottom frame of a thread reports What == "main"
		}
	}
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > maxTraceback {
		head := lines[:maxTraceback/2]
		tail := lines[len(lines)-maxTraceback/2:]
		lines = append(append(append([]string{}, head...), "\t..."), tail...)
	}
	return "stack traceback:\n" + strings.Join(lines, "\n")
}

func frameLine(dbg *lua.Debug) string {
	loc := "[G]:"
	if dbg.What != "G" {
		if dbg.CurrentLine > 0 {
			loc = fmt.Sprintf("%s:%d:", dbg.Source, dbg.CurrentLine)
		} else {
			loc = dbg.Source + ":"
		}
	}
	var name string
	switch {
	case dbg.What != "G" && dbg.LineDefined == 0:
		// gopher-lua calls the bottom frame of every thread "main"; only
		// a chunk (defined at line 0) is one.
		name = "main chunk"
	case dbg.Name != "" && dbg.Name != "?" && dbg.Name[0] != '<' && dbg.Name[0] != '(':
		name = "function '" + dbg.Name + "'"
	case dbg.What == "G":
		name = "function " + orDefault(dbg.Name, "?")
	default:
		name = fmt.Sprintf("function <%s:%d>", dbg.Source, dbg.LineDefined)
	}
	return "\t" + loc + " in " + name
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// location returns "source:line" of the call th is suspended in, or "".
func location(th *lua.LState) string {
	dbg, ok := th.GetStack(0)
	if !ok {
		return ""
	}
	if _, err := th.GetInfo("Sl", dbg, lua.LNil); err != nil || dbg.What == "G" || dbg.Source == bootChunkName {
		return ""
	}
	if dbg.CurrentLine <= 0 {
		return dbg.Source
	}
	return fmt.Sprintf("%s:%d", dbg.Source, dbg.CurrentLine)
}
