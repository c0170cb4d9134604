package scheduler

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"
)

// Await work runs on a few kept workers: a script awaiting in sequence
// does not start a goroutine per call, concurrent awaits each get a worker
// (none waits behind another's blocked work), and the workers end with the
// Run.
func TestAwaitWorkersReused(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	s := Install(L)
	L.SetGlobal("work", L.NewFunction(func(L *lua.LState) int {
		n := L.CheckInt(1)
		return Await(L, func(context.Context) any { return n + 1 }, func(L *lua.LState, r any) int {
			L.Push(lua.LNumber(r.(int)))
			return 1
		})
	}))
	const calls = 500
	err := RunString(context.Background(), L, `
		local sum = 0
		for i = 1, 500 do sum = sum + work(i) end
		assert(sum == 500 * 501 / 2 + 500, "sum " .. sum)`)
	require.NoError(t, err)
	started := s.workersStarted.Load()
	require.Positive(t, started)
	require.Less(t, started, int64(calls/10), "workers started for %d sequential awaits", calls)

	// Concurrent awaits that only finish together: each needs its own
	// worker, beyond the idle limit.
	const parallel = 3 * maxIdleWorkers
	var arrived sync.WaitGroup
	arrived.Add(parallel)
	release := make(chan struct{})
	go func() { arrived.Wait(); close(release) }()
	L.SetGlobal("meet", L.NewFunction(func(L *lua.LState) int {
		return Await(L, func(context.Context) any {
			arrived.Done()
			<-release
			return nil
		}, func(L *lua.LState, _ any) int { return 0 })
	}))
	err = RunString(context.Background(), L, `
		local done = channel.new(64)
		for i = 1, `+itoa(parallel)+` do
			coroutine.spawn(function() meet(); done:send(i) end)
		end
		for i = 1, `+itoa(parallel)+` do done:receive() end`)
	require.NoError(t, err)
	require.Zero(t, s.idleWorkers.Load(), "workers left after the Run")
}

func itoa(n int) string { return lua.LNumber(n).String() }
