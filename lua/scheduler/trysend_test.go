package scheduler_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/lua/scheduler"
)

// TestTrySendGo: TrySendGo takes a value only when the buffer has room,
// never blocks, keeps the order of values, and reports a closed channel.
func TestTrySendGo(t *testing.T) {
	L, _ := newState(t)
	ch := scheduler.NewChannel(L, 2, msgConv)
	L.SetGlobal("ch", ch.LValue())

	for _, v := range []string{"a", "b"} {
		took, err := ch.TrySendGo(v)
		require.NoError(t, err)
		require.True(t, took, v)
	}
	took, err := ch.TrySendGo("full")
	require.NoError(t, err)
	require.False(t, took, "the buffer is full")

	// A SendGo waiting for room takes the room a receive makes.
	done := make(chan error, 1)
	go func() { done <- ch.SendGo(context.Background(), "c") }()
	require.NoError(t, L.DoString(`
		local m = ch:receive()
		assert(m.data == "a", m.data)
	`))
	require.NoError(t, <-done) // c took the room a left
	took, err = ch.TrySendGo("late")
	require.NoError(t, err)
	require.False(t, took)
	require.NoError(t, L.DoString(`
		assert(ch:receive().data == "b")
		assert(ch:receive().data == "c")
		assert(ch:len() == 0)
	`))
	took, err = ch.TrySendGo("d")
	require.NoError(t, err)
	require.True(t, took)
	require.NoError(t, L.DoString(`assert(ch:receive().data == "d")`))

	ch.CloseGo()
	took, err = ch.TrySendGo("closed")
	require.ErrorIs(t, err, scheduler.ErrClosed)
	require.False(t, took)
}

// TestTrySendGoUnbuffered: an unbuffered channel never has room.
func TestTrySendGoUnbuffered(t *testing.T) {
	L, _ := newState(t)
	ch := scheduler.NewChannel(L, 0, msgConv)
	took, err := ch.TrySendGo("x")
	require.NoError(t, err)
	require.False(t, took)
	ch.CloseGo()
}
