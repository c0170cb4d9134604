package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"
)

// A thread whose value stack grew is not pooled: gopher-lua never shrinks
// it, and a pooled thread would keep that memory for the life of the state.
func TestGrownThreadsAreNotPooled(t *testing.T) {
	require.True(t, regLayout.ok, "gopher-lua's registry layout changed")
	L := lua.NewState(lua.Options{RegistrySize: 256, RegistryMaxSize: 1 << 20, RegistryGrowStep: 4096})
	defer L.Close()
	s := Install(L)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, RunString(ctx, L, `
		local t = {}
		for i = 1, 20000 do t[i] = i end
		for i = 1, 4 do coroutine.spawn(function() return select('#', unpack(t)) end) end
		for i = 1, 4 do coroutine.spawn(function() return 1 end) end`))
	require.NotEmpty(t, s.pool, "threads of small coroutines are pooled")
	for _, th := range s.pool {
		require.LessOrEqual(t, registryCap(th), 256)
	}
}
