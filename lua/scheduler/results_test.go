package scheduler_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/scheduler"
)

// TestProtectedCallResultCounts checks the number of values pcall and
// xpcall return when the protected function runs on a child thread of the
// coroutine: gopher-lua's Resume reports "no results" as one nil, which
// made pcall(function() end) return true, nil.
func TestProtectedCallResultCounts(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want string
	}{
		{"empty function", `pcall(function() end)`, "1 true"},
		{"one nil", `pcall(function() return nil end)`, "2 true nil"},
		{"two nils", `pcall(function() return nil, nil end)`, "3 true nil nil"},
		{"sleep then nothing", `pcall(function() time.sleep(1) end)`, "1 true"},
		{"Go function with no results", `pcall(ch.send, ch, 1)`, "1 true"},
		{"Go function tail-called", `pcall(function() return ch:send(1) end)`, "1 true"},
		{"yield", `pcall(coroutine.yield)`, "1 true"},
		{"xpcall empty", `xpcall(function() end, print)`, "1 true"},
		{"nested", `pcall(pcall, function() end)`, "2 true true"},
		{"nested after a sleep", `pcall(function() time.sleep(1) return pcall(function() end) end)`, "2 true true"},
		{"error", `pcall(error, "x", 0)`, "2 false x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := `
				local function count(...) emit(select('#', ...), ...) end
				local ch = channel.new(1)
				count(` + tc.expr + `)
				ch = channel.new(1)
				local out = channel.new(1)
				coroutine.spawn(function() out:send({n = select('#', ` + tc.expr + `)}) end)
				emit("spawned", out:receive().n)`
			L, rec := newState(t)
			require.NoError(t, runScript(t, L, code))
			n := tc.want[:1]
			require.Equal(t, []string{tc.want, "spawned " + n}, rec.get())
		})
	}
}

// TestAwaitDoneOnCapturedState checks that an Await done function that
// pushes its results onto the L its Go function was called with (captured
// by a closure, the mistake websocket.connect made) returns exactly those
// results: done runs on the waiting coroutine's thread.
func TestAwaitDoneOnCapturedState(t *testing.T) {
	L, rec := newState(t)
	L.SetGlobal("fails", L.NewFunction(func(L *lua.LState) int {
		outer := L
		return scheduler.Await(L, func(context.Context) any {
			return errors.New("refused")
		}, func(_ *lua.LState, r any) int {
			outer.Push(lua.LNil)
			outer.Push(lua.LString(r.(error).Error()))
			return 2
		})
	}))
	L.SetGlobal("raises", L.NewFunction(func(L *lua.LState) int {
		return scheduler.Await(L, func(context.Context) any { return nil }, func(L *lua.LState, _ any) int {
			L.RaiseError("done failed")
			return 0
		})
	}))
	require.NoError(t, runScript(t, L, `
		local function count(...) emit(select('#', ...), ...) end
		count(fails())
		count(pcall(fails))
		count(pcall(function() return fails() end))
		local a, b, c = fails()
		count(a, b, c)
		count(pcall(raises))
		count(pcall(function() return raises() end))
		count(pcall(function() local x = raises() return x end))`))
	require.Equal(t, []string{
		"2 nil refused",
		"3 true nil refused",
		"3 true nil refused",
		"3 nil refused nil",
		"2 false <string>:8: done failed",
		"2 false <string>:9: done failed",
		"2 false <string>:10: done failed",
	}, rec.get())
}

// TestTracebackHidesBootstrap checks that the bootstrap every coroutine
// starts in appears neither as a frame nor as the name of the function.
func TestTracebackHidesBootstrap(t *testing.T) {
	L, _ := newState(t)
	err := runScript(t, L, `
		local function f() error("boom") end
		coroutine.spawn(function() f() end)`)
	var cerr *scheduler.CoroutineError
	require.ErrorAs(t, err, &cerr)
	require.Contains(t, cerr.Traceback, "<string>:3: in function <<string>:3>")
	require.NotContains(t, cerr.Traceback, "[scheduler]")
	require.NotContains(t, cerr.Traceback, "callee")

	L2, _ := newState(t)
	err = runScript(t, L2, "local function f() error('boom') end\nf()")
	require.ErrorAs(t, err, &cerr)
	require.Contains(t, cerr.Traceback, "<string>:2: in main chunk")
	require.NotContains(t, cerr.Traceback, "[scheduler]")
}
