package scheduler

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"
)

// installRecv sets recv(ch, ms): Channel.Receive with a timeout of ms
// milliseconds (nil: none), returning value, ok, timedOut.
func installRecv(L *lua.LState) {
	L.SetGlobal("recv", L.NewFunction(func(L *lua.LState) int {
		c := checkChannel(L, 1)
		timeout := time.Duration(-1)
		if v, ok := L.Get(2).(lua.LNumber); ok {
			timeout = time.Duration(float64(v) * float64(time.Millisecond))
		}
		return c.Receive(L, timeout, func(L *lua.LState, r Received) int {
			L.Push(r.Value)
			L.Push(lua.LBool(r.OK))
			L.Push(lua.LBool(r.TimedOut))
			return 3
		})
	}))
}

func TestChannelReceiveTimeout(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	installRecv(L)
	var lines []string
	L.SetGlobal("emit", L.NewFunction(func(L *lua.LState) int {
		s := ""
		for i := 1; i <= L.GetTop(); i++ {
			s += L.ToStringMeta(L.Get(i)).String() + " "
		}
		lines = append(lines, s)
		return 0
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Nothing but the timer can wake the first receive: it must time out,
	// not be reported as a deadlock.
	require.NoError(t, RunString(ctx, L, `
		local ch = channel.new(1)
		emit(recv(ch, 10))
		emit(recv(ch, 0))
		ch:send("ready")
		emit(recv(ch, 0))
		coroutine.spawn(function() time.sleep(20) ch:send("later") end)
		emit(recv(ch, 5))
		emit(recv(ch, 5000))
		emit(pcall(recv, ch, 1))
		coroutine.spawn(function() time.sleep(5) ch:close() end)
		emit(recv(ch))`))
	require.Equal(t, []string{
		"nil false true ",
		"nil false true ",
		"ready true false ",
		"nil false true ",
		"later true false ",
		"true nil false true ",
		"nil false false ",
	}, lines)

	// Without a timeout and without anything to wake it: a deadlock.
	err := RunString(ctx, L, `recv(channel.new())`)
	require.ErrorContains(t, err, "deadlock")

	// Plain gopher-lua: the goroutine waits up to the timeout.
	require.NoError(t, L.DoString(`local ch = channel.new(1) assert(select(3, recv(ch, 5)) == true)
		ch:send(1) assert(recv(ch, 5) == 1)`))
}

// TestTimedReceiveSeesGoSends: a value a Go producer sends while a
// coroutine starts waiting with a timeout (Channel.Receive, and
// channel.select with a time.after case) wakes it. The value could land
// between the coroutine's look at the channel and its joining the
// channel's queue; nobody then woke it, and it waited for its timer.
func TestTimedReceiveSeesGoSends(t *testing.T) {
	const n = 3000
	for _, form := range []struct{ name, expr string }{
		{"Receive", `local v, ok, timedOut = recv(ch, 5000) assert(not timedOut, "timed out at " .. i) assert(v == i, v)`},
		{"select", `local r = channel.select(ch:case_receive(), time.after(5000):case_receive())
			assert(r.channel == ch, "timed out at " .. i) assert(r.value == i, r.value)`},
	} {
		t.Run(form.name, func(t *testing.T) {
			L := lua.NewState()
			defer L.Close()
			installRecv(L)
			done := make(chan error, 1)
			L.SetGlobal("feed", L.NewFunction(func(L *lua.LState) int {
				ch := NewChannel(L, 1, func(L *lua.LState, v any) lua.LValue { return lua.LNumber(v.(int)) })
				go func() {
					for i := 1; i <= n; i++ {
						if err := ch.SendGo(context.Background(), i); err != nil {
							done <- err
							return
						}
					}
					ch.CloseGo()
					done <- nil
				}()
				L.Push(ch.LValue())
				return 1
			}))
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			require.NoError(t, RunString(ctx, L, `local ch = feed() for i = 1, `+strconv.Itoa(n)+` do `+form.expr+` end`))
			require.NoError(t, <-done)
		})
	}
}
