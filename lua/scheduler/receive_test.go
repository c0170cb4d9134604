package scheduler

import (
	"context"
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
