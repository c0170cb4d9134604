package scheduler_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/scheduler"
)

// Several Go producers feed two channels while Lua consumers select over
// them (with timeouts) and call Await; every value must arrive exactly once.
func TestStressProducersConsumers(t *testing.T) {
	const producers, perProducer = 4, 250
	L, rec := newState(t)
	var wg sync.WaitGroup
	L.SetGlobal("feeds", L.NewFunction(func(L *lua.LState) int {
		conv := func(L *lua.LState, v any) lua.LValue { return lua.LNumber(v.(int)) }
		chans := []*scheduler.Channel{scheduler.NewChannel(L, 0, conv), scheduler.NewChannel(L, 3, conv)}
		for _, ch := range chans {
			ch.AddProducer() // released when all producers are done, then CloseGo
		}
		var pwg sync.WaitGroup
		for p := 0; p < producers; p++ {
			pwg.Add(1)
			wg.Add(1)
			go func(p int) {
				defer wg.Done()
				defer pwg.Done()
				for i := 0; i < perProducer; i++ {
					v := p*perProducer + i + 1
					if err := chans[v%2].SendGo(context.Background(), v); err != nil {
						panic(err)
					}
				}
			}(p)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pwg.Wait()
			for _, ch := range chans {
				ch.CloseGo()
				ch.ProducerDone()
			}
		}()
		L.Push(chans[0].LValue())
		L.Push(chans[1].LValue())
		return 2
	}))
	L.SetGlobal("echo", L.NewFunction(func(L *lua.LState) int {
		v := L.CheckNumber(1)
		return scheduler.Await(L, func(ctx context.Context) any { return v }, func(L *lua.LState, r any) int {
			L.Push(r.(lua.LNumber))
			return 1
		})
	}))
	err := runScript(t, L, `
		local a, b = feeds()
		local totals = channel.new(8)
		for c = 1, 3 do
			coroutine.spawn(function()
				local sum, n, open = 0, 0, 2
				local cases = { a:case_receive(), b:case_receive() }
				while open > 0 do
					local r = channel.select{ cases[1], cases[2], time.after(1000):case_receive() }
					if r.index <= 2 then
						if not r.ok then
							open = open - 1
							table.remove(cases, r.index)
							cases[#cases + 1] = channel.new():case_receive() -- never ready
						else
							sum = sum + (n % 10 == 0 and echo(r.value) or r.value)
							n = n + 1
						end
					end
				end
				totals:send(sum)
			end)
		end
		local total = 0
		for c = 1, 3 do total = total + totals:receive() end
		emit(total)`)
	wg.Wait()
	require.NoError(t, err)
	n := producers * perProducer
	require.Equal(t, []string{fmt.Sprint(n * (n + 1) / 2)}, rec.get())
}

// TestProducerDoneWakesIdleScheduler repeats the race of a producer going
// away while the VM looks: the VM could handle the recheck event that
// ProducerDone posts before lowering the count, see the count still up, and
// wait for an event that never came, so a deadlock was reported only when
// the host's context ended (about 1 run in 100 under -race). Each run must
// report the deadlock well within its bound.
func TestProducerDoneWakesIdleScheduler(t *testing.T) {
	const runs, bound = 300, 5 * time.Second
	for i := range runs {
		L, _ := newState(t)
		var wg sync.WaitGroup
		L.SetGlobal("feed", L.NewFunction(func(L *lua.LState) int {
			ch := scheduler.NewChannel(L, 0, nil)
			ch.AddProducer()
			wg.Add(1)
			go func() { defer wg.Done(); ch.ProducerDone() }()
			L.Push(ch.LValue())
			return 1
		}))
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		err := scheduler.RunString(ctx, L, `feed():receive()`)
		cancel()
		wg.Wait()
		var derr *scheduler.DeadlockError
		require.ErrorAs(t, err, &derr, "run %d: want a deadlock report within %v", i, bound)
	}
}
