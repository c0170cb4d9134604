package scheduler_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/scheduler"
)

// installDouble registers double(x): an Await-based Go function returning
// 2*x, "" or nil, err when x is negative.
func installDouble(L *lua.LState, calls *atomic.Int32) {
	L.SetGlobal("double", L.NewFunction(func(L *lua.LState) int {
		x := L.CheckInt(1)
		return scheduler.Await(L, func(ctx context.Context) any {
			calls.Add(1)
			if x < 0 {
				return errors.New("negative")
			}
			return x * 2
		}, func(L *lua.LState, r any) int {
			if err, ok := r.(error); ok {
				L.Push(lua.LNil)
				L.Push(lua.LString(err.Error()))
				return 2
			}
			L.Push(lua.LNumber(r.(int)))
			return 1
		})
	}))
}

func TestAwaitWithoutScheduler(t *testing.T) {
	L, rec := newState(t)
	var calls atomic.Int32
	installDouble(L, &calls)
	require.NoError(t, L.DoString(`
		local v = double(21)
		emit(v, double(-1))
		emit(pcall(double, 4))`))
	require.Equal(t, []string{"42 nil negative", "true 8"}, rec.get())
	require.EqualValues(t, 3, calls.Load())
}

func TestAwaitUnderRun(t *testing.T) {
	L, rec := newState(t)
	var calls atomic.Int32
	installDouble(L, &calls)
	gate := make(chan struct{})
	L.SetGlobal("wait_gate", L.NewFunction(func(L *lua.LState) int {
		return scheduler.Await(L, func(ctx context.Context) any {
			select {
			case <-gate:
				return "opened"
			case <-ctx.Done():
				return "cancelled"
			}
		}, func(L *lua.LState, r any) int {
			L.Push(lua.LString(r.(string)))
			return 1
		})
	}))
	L.SetGlobal("open_gate", L.NewFunction(func(L *lua.LState) int {
		close(gate)
		return 0
	}))
	err := runScript(t, L, `
		coroutine.spawn(function() emit("gate", wait_gate()) end)
		coroutine.yield()
		emit("main still runs")
		local a, b, c = double(5)
		emit(a, b, c)
		emit(double(-3))
		emit(pcall(double, 7))
		open_gate()`)
	require.NoError(t, err)
	require.Equal(t, []string{"main still runs", "10 nil nil", "nil negative", "true 14", "gate opened"}, rec.get())
}

func TestAwaitNonYieldableRunsSynchronously(t *testing.T) {
	L, rec := newState(t)
	var calls atomic.Int32
	installDouble(L, &calls)
	err := runScript(t, L, `
		local t = {3, 1, 2}
		table.sort(t, function(a, b) return double(a) < double(b) end)
		emit(table.concat(t, ","))`)
	require.NoError(t, err)
	require.Equal(t, []string{"1,2,3"}, rec.get())
	require.Positive(t, calls.Load())
}

func TestAwaitErrors(t *testing.T) {
	cases := []struct {
		name string
		work func(ctx context.Context) any
		done func(L *lua.LState, r any) int
		want []string // emitted by the pcall
		msg  string   // Run's error message
	}{
		{
			name: "done raises in the coroutine at the call",
			work: func(ctx context.Context) any { return "bad" },
			done: func(L *lua.LState, r any) int { L.RaiseError("done failed: %v", r); return 0 },
			want: []string{"<string>:3: done failed: bad"},
			msg:  "<string>:4: done failed: bad",
		},
		{
			name: "work panics",
			work: func(ctx context.Context) any { panic("boom") },
			done: func(L *lua.LState, r any) int { return 0 },
			want: []string{"<string>:3: await: work panicked: boom"},
			msg:  "<string>:4: await: work panicked: boom",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			L, rec := newState(t)
			L.SetGlobal("op", L.NewFunction(func(L *lua.LState) int {
				return scheduler.Await(L, tc.work, tc.done)
			}))
			err := runScript(t, L, `
				coroutine.spawn(function()
					emit(select(2, pcall(op)))
					op()
				end)`)
			var cerr *scheduler.CoroutineError
			require.ErrorAs(t, err, &cerr)
			require.Equal(t, tc.msg, cerr.Message)
			require.Equal(t, tc.want, rec.get())
		})
	}
}

func TestAwaitContextCancelledWhenRunEnds(t *testing.T) {
	L, _ := newState(t)
	var sawCancel atomic.Bool
	started := make(chan struct{})
	L.SetGlobal("hang", L.NewFunction(func(L *lua.LState) int {
		return scheduler.Await(L, func(ctx context.Context) any {
			close(started)
			<-ctx.Done()
			sawCancel.Store(true)
			return nil
		}, func(L *lua.LState, r any) int { return 0 })
	}))
	L.SetGlobal("fail_soon", L.NewFunction(func(L *lua.LState) int {
		return scheduler.Await(L, func(ctx context.Context) any {
			<-started
			return nil
		}, func(L *lua.LState, r any) int { L.RaiseError("stop"); return 0 })
	}))
	err := runScript(t, L, `
		coroutine.spawn(hang)
		fail_soon()`)
	requireErrContains(t, err, "main chunk failed", "stop")
	require.True(t, sawCancel.Load(), "Run returned before the Await goroutine finished")
}
