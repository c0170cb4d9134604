package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/scheduler"
)

// msgConv builds a message table, as the WebSocket module will.
func msgConv(L *lua.LState, v any) lua.LValue {
	t := L.NewTable()
	t.RawSetString("type", lua.LString("text"))
	t.RawSetString("data", lua.LString(fmt.Sprint(v)))
	return t
}

func TestSendGoBackpressurePlain(t *testing.T) {
	L, _ := newState(t)
	ch := scheduler.NewChannel(L, 1, msgConv)
	L.SetGlobal("ch", ch.LValue())
	ctx := context.Background()

	require.NoError(t, ch.SendGo(ctx, "first"), "fits in the buffer")

	// The buffer is full and nobody receives: SendGo must wait, so it can
	// only end through its context.
	blockedCtx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- ch.SendGo(blockedCtx, "dropped") }()
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)

	// A waiting producer resumes once a receiver drains the channel.
	done := make(chan error, 1)
	go func() { done <- ch.SendGo(ctx, "second") }()
	require.NoError(t, L.DoString(`
		local m, ok = ch:receive()
		assert(ok and m.type == "text" and m.data == "first", "first")
		m, ok = ch:receive()
		assert(ok and m.data == "second", "second")
	`))
	require.NoError(t, <-done)
}

func TestSendGoBackpressureUnderRun(t *testing.T) {
	L, rec := newState(t)
	const total = 20
	var accepted, attempting atomic.Int32
	var wg sync.WaitGroup
	L.SetGlobal("feed", L.NewFunction(func(L *lua.LState) int {
		ch := scheduler.NewChannel(L, 2, msgConv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer ch.CloseGo()
			for i := 1; i <= total; i++ {
				attempting.Store(int32(i))
				if err := ch.SendGo(context.Background(), i); err != nil {
					return
				}
				accepted.Add(1)
			}
		}()
		L.Push(ch.LValue())
		return 1
	}))
	// stalled() waits (through Await, so the VM keeps running) until the
	// producer tries to send a value the full buffer cannot take, then
	// reports how many values were accepted.
	L.SetGlobal("stalled", L.NewFunction(func(L *lua.LState) int {
		return scheduler.Await(L, func(ctx context.Context) any {
			for attempting.Load() < 3 && ctx.Err() == nil {
				pause()
			}
			return int(accepted.Load())
		}, func(L *lua.LState, r any) int {
			L.Push(lua.LNumber(r.(int)))
			return 1
		})
	}))
	err := runScript(t, L, `
		local ch = feed()
		emit("accepted before draining", stalled())
		local n, sum = 0, 0
		while true do
			local m, ok = ch:receive()
			if not ok then break end
			n = n + 1
			sum = sum + tonumber(m.data)
		end
		emit(n, sum)`)
	require.NoError(t, err)
	wg.Wait()
	require.Equal(t, []string{"accepted before draining 2", fmt.Sprint(total, " ", total*(total+1)/2)}, rec.get())
}

func TestCloseGoWakesBlockedReceiver(t *testing.T) {
	L, rec := newState(t)
	var wg sync.WaitGroup
	var ch *scheduler.Channel
	L.SetGlobal("feed", L.NewFunction(func(L *lua.LState) int {
		// A conv makes the channel count as fed until CloseGo.
		ch = scheduler.NewChannel(L, 0, func(L *lua.LState, v any) lua.LValue { return lua.LString(fmt.Sprintf("%s", v)) })
		L.Push(ch.LValue())
		return 1
	}))
	// close_later sends two values and closes from another goroutine; the
	// receiver is already parked when it starts.
	L.SetGlobal("close_later", L.NewFunction(func(L *lua.LState) int {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = ch.SendGo(context.Background(), "a")
			_ = ch.SendGo(context.Background(), []byte("b"))
			ch.CloseGo()
			ch.CloseGo() // later calls are no-ops
		}()
		return 0
	}))
	err := runScript(t, L, `
		local ch = feed()
		coroutine.spawn(function()
			while true do
				local v, ok = ch:receive()
				emit(v, ok)
				if not ok then break end
			end
			ch:close() -- closing what Go closed is harmless
		end)
		coroutine.yield()
		close_later()`)
	require.NoError(t, err)
	wg.Wait()
	require.Equal(t, []string{"a true", "b true", "nil false"}, rec.get())
	require.ErrorIs(t, ch.SendGo(context.Background(), 1), scheduler.ErrClosed)
}

func TestCloseGoFailsBlockedSenders(t *testing.T) {
	L, rec := newState(t)
	var ch *scheduler.Channel
	goErr := make(chan error, 1)
	L.SetGlobal("setup", L.NewFunction(func(L *lua.LState) int {
		ch = scheduler.NewChannel(L, 0, msgConv) // fed (and closed) from Go
		go func() { goErr <- ch.SendGo(context.Background(), "never received") }()
		L.Push(ch.LValue())
		return 1
	}))
	L.SetGlobal("close_it", L.NewFunction(func(L *lua.LState) int {
		go ch.CloseGo()
		return 0
	}))
	err := runScript(t, L, `
		local ch = setup()
		coroutine.spawn(function()
			coroutine.yield()
			close_it()
		end)
		emit(pcall(ch.send, ch, "lua"))`)
	require.NoError(t, err)
	require.Len(t, rec.get(), 1)
	require.Contains(t, rec.get()[0], "false")
	require.Contains(t, rec.get()[0], "send on closed channel")
	require.ErrorIs(t, <-goErr, scheduler.ErrClosed)
}

func TestProducerAccounting(t *testing.T) {
	cases := []struct {
		name     string
		conv     func(*lua.LState, any) lua.LValue
		add      int // AddProducer calls
		release  func(ch *scheduler.Channel)
		deadlock bool
	}{
		{name: "conv channel is fed until CloseGo, which ends the wait", conv: msgConv,
			release: func(ch *scheduler.Channel) { ch.CloseGo() }},
		{name: "explicit producer gone without closing is a deadlock", add: 1,
			release: func(ch *scheduler.Channel) { ch.ProducerDone(); ch.ProducerDone() }, deadlock: true},
		{name: "conv channel whose producer stops without closing", conv: msgConv,
			release: func(ch *scheduler.Channel) { ch.AddProducer(); ch.ProducerDone(); ch.CloseGo() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			L, rec := newState(t)
			var wg sync.WaitGroup
			L.SetGlobal("feed", L.NewFunction(func(L *lua.LState) int {
				ch := scheduler.NewChannel(L, 0, tc.conv)
				for i := 0; i < tc.add; i++ {
					ch.AddProducer()
				}
				L.Push(ch.LValue())
				L.Push(L.NewFunction(func(L *lua.LState) int {
					wg.Add(1)
					go func() { defer wg.Done(); tc.release(ch) }()
					return 0
				}))
				return 2
			}))
			err := runScript(t, L, `
				local ch, release = feed()
				coroutine.spawn(function() emit("waiting") release() end)
				emit("got", ch:receive())`)
			wg.Wait()
			if tc.deadlock {
				var derr *scheduler.DeadlockError
				require.ErrorAs(t, err, &derr)
				require.Equal(t, "channel receive", derr.Blocked[0].Op)
				return
			}
			require.NoError(t, err)
			require.Equal(t, []string{"waiting", "got nil false"}, rec.get())
		})
	}
}

func TestSendGoBetweenRuns(t *testing.T) {
	L, _ := newState(t)
	s := scheduler.Install(L)
	ch := scheduler.NewChannel(L, 1, nil)
	// Before the first Run the channel buffers as usual.
	require.NoError(t, ch.SendGo(context.Background(), "early"))
	L.SetGlobal("ch", ch.LValue())
	require.NoError(t, runScript(t, L, `local v = ch:receive() assert(v == "early")`))
	require.ErrorIs(t, ch.SendGo(context.Background(), "late"), scheduler.ErrStopped)
	require.Error(t, s.Context().Err())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, ch.SendGo(ctx, "cancelled"), context.Canceled)
}

func TestPlainReceive(t *testing.T) {
	t.Run("blocks until a goroutine sends", func(t *testing.T) {
		L, rec := newState(t)
		ch := scheduler.NewChannel(L, 0, nil)
		L.SetGlobal("ch", ch.LValue())
		errc := make(chan error, 1)
		go func() { errc <- ch.SendGo(context.Background(), "hello") }()
		require.NoError(t, L.DoString(`emit(ch:receive())`))
		require.NoError(t, <-errc)
		require.Equal(t, []string{"hello true"}, rec.get())
	})
	t.Run("wakes on CloseGo", func(t *testing.T) {
		L, rec := newState(t)
		ch := scheduler.NewChannel(L, 0, nil)
		L.SetGlobal("ch", ch.LValue())
		go ch.CloseGo()
		require.NoError(t, L.DoString(`emit(ch:receive())`))
		require.Equal(t, []string{"nil false"}, rec.get())
	})
	t.Run("honours the state's context", func(t *testing.T) {
		L, _ := newState(t)
		ch := scheduler.NewChannel(L, 0, nil)
		L.SetGlobal("ch", ch.LValue())
		ctx, cancel := context.WithCancel(context.Background())
		L.SetContext(ctx)
		errc := make(chan error, 1)
		go func() { errc <- L.DoString(`ch:receive()`) }()
		cancel()
		// Whether the VM or the parked receive notices first, the
		// cancellation surfaces as a Lua error.
		requireErrContains(t, <-errc, "context canceled")
	})
	t.Run("send that would block raises", func(t *testing.T) {
		L, _ := newState(t)
		ch := scheduler.NewChannel(L, 1, nil)
		L.SetGlobal("ch", ch.LValue())
		require.NoError(t, L.DoString(`ch:send(1)`))
		requireErrContains(t, L.DoString(`ch:send(2)`), "would block forever")
		require.NoError(t, L.DoString(`assert(ch:receive() == 1) ch:close()`))
		requireErrContains(t, L.DoString(`ch:close()`), "close of closed channel")
	})
	t.Run("select and time without Run", func(t *testing.T) {
		L, rec := newState(t)
		scheduler.Install(L)
		ch := scheduler.NewChannel(L, 0, nil)
		L.SetGlobal("ch", ch.LValue())
		go func() { _ = ch.SendGo(context.Background(), "via select") }()
		require.NoError(t, L.DoString(`
			local r = channel.select{ ch:case_receive() }
			emit(r.value, r.ok)
			time.sleep(1)
			local t = time.after(1)
			emit(type(t:receive()))
			r = channel.select{ ch:case_receive(), default = true }
			emit(r.default)`))
		require.Equal(t, []string{"via select true", "number", "true"}, rec.get())
	})
}

func TestDefaultConversions(t *testing.T) {
	L, rec := newState(t)
	ch := scheduler.NewChannel(L, 16, nil)
	L.SetGlobal("ch", ch.LValue())
	values := []any{nil, true, "s", []byte("b"), 1, int64(2), uint8(3), 1.5, float32(2.5),
		errors.New("e"), lua.LString("lv"), struct{ A int }{7}}
	for _, v := range values {
		require.NoError(t, ch.SendGo(context.Background(), v))
	}
	ch.CloseGo()
	require.NoError(t, L.DoString(`
		while true do
			local v, ok = ch:receive()
			if not ok then break end
			emit(type(v), tostring(v))
		end`))
	require.Equal(t, []string{"nil nil", "boolean true", "string s", "string b", "number 1", "number 2",
		"number 3", "number 1.5", "number 2.5", "string e", "string lv", "string {7}"}, rec.get())
}

func TestConvErrorRaisedInReceiver(t *testing.T) {
	L, _ := newState(t)
	var ch *scheduler.Channel
	L.SetGlobal("feed", L.NewFunction(func(L *lua.LState) int {
		ch = scheduler.NewChannel(L, 0, func(L *lua.LState, v any) lua.LValue {
			L.RaiseError("cannot convert %v", v)
			return nil
		})
		go func() { _ = ch.SendGo(context.Background(), "x"); ch.CloseGo() }()
		L.Push(ch.LValue())
		return 1
	}))
	err := runScript(t, L, `
		local ch = feed()
		local ok, err = pcall(ch.receive, ch)
		assert(not ok and err:find("cannot convert x"), err)
		error("reached: " .. err)`)
	requireErrContains(t, err, "reached:", "cannot convert x")
}

// signalCtx reports when SendGo starts waiting on it (SendGo only asks for
// Done once the value is queued).
type signalCtx struct {
	context.Context
	once  sync.Once
	asked chan struct{}
}

func (c *signalCtx) Done() <-chan struct{} {
	c.once.Do(func() { close(c.asked) })
	return c.Context.Done()
}

func TestSendGoGivesUp(t *testing.T) {
	t.Run("context cancelled while waiting", func(t *testing.T) {
		L, _ := newState(t)
		ch := scheduler.NewChannel(L, 0, nil)
		inner, cancel := context.WithCancel(context.Background())
		ctx := &signalCtx{Context: inner, asked: make(chan struct{})}
		errc := make(chan error, 1)
		go func() { errc <- ch.SendGo(ctx, "v") }()
		<-ctx.asked
		cancel()
		require.ErrorIs(t, <-errc, context.Canceled)
		L.SetGlobal("ch", ch.LValue())
		ch.CloseGo()
		require.NoError(t, L.DoString(`local v, ok = ch:receive() assert(v == nil and not ok, "withdrawn value delivered")`))
	})
	t.Run("Run ends while waiting", func(t *testing.T) {
		L, rec := newState(t)
		errc := make(chan error, 1)
		L.SetGlobal("feed", L.NewFunction(func(L *lua.LState) int {
			ch := scheduler.NewChannel(L, 0, msgConv)
			go func() {
				for i := 1; ; i++ {
					if err := ch.SendGo(context.Background(), i); err != nil {
						errc <- err
						return
					}
				}
			}()
			L.Push(ch.LValue())
			return 1
		}))
		require.NoError(t, runScript(t, L, `local ch = feed() emit(ch:receive().data, tostring(ch):match("^channel%(0%)") ~= nil)`))
		require.ErrorIs(t, <-errc, scheduler.ErrStopped)
		require.Equal(t, []string{"1 true"}, rec.get())
	})
}

// TestNewChannelSafe: a channel whose conv never raises (NewChannelSafe)
// delivers what NewChannel delivers to a coroutine parked before the values
// arrive (the scheduler then converts without a protected call), and to it
// when it finds them waiting.
func TestNewChannelSafe(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(L *lua.LState, size int, conv func(*lua.LState, any) lua.LValue) *scheduler.Channel
	}{{"NewChannel", scheduler.NewChannel}, {"NewChannelSafe", scheduler.NewChannelSafe}} {
		t.Run(tc.name, func(t *testing.T) {
			L, rec := newState(t)
			var wg sync.WaitGroup
			var ch *scheduler.Channel
			L.SetGlobal("feed", L.NewFunction(func(L *lua.LState) int {
				ch = tc.make(L, 4, func(L *lua.LState, v any) lua.LValue {
					t := L.CreateTable(0, 1)
					t.RawSetString("n", lua.LNumber(v.(int)))
					return t
				})
				L.Push(ch.LValue())
				return 1
			}))
			L.SetGlobal("send", L.NewFunction(func(L *lua.LState) int {
				from, to := L.CheckInt(1), L.CheckInt(2)
				wg.Go(func() {
					for i := from; i <= to; i++ {
						_ = ch.SendGo(context.Background(), i)
					}
					if to == 6 {
						ch.CloseGo()
					}
				})
				return 0
			}))
			err := runScript(t, L, `
				local ch = feed()
				local done = channel.new()
				coroutine.spawn(function()
					while true do
						local v, ok = ch:receive()
						if not ok then break end
						emit(v.n)
					end
					done:close()
				end)
				coroutine.yield() -- parked before anything arrives
				send(1, 6)
				done:receive()`)
			require.NoError(t, err)
			wg.Wait()
			require.Equal(t, []string{"1", "2", "3", "4", "5", "6"}, rec.get())
		})
	}
}
