package lua

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCollectGarbage: NewState's collectgarbage takes Lua 5.1's options
// (gopher-lua's ignores them: "count" returned nothing).
func TestCollectGarbage(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	tests := []struct{ expr, want string }{
		{`collectgarbage()`, "0"},
		{`collectgarbage("collect")`, "0"},
		{`type(collectgarbage("count"))`, "number"},
		{`collectgarbage("count") > 0`, "true"},
		{`collectgarbage("step")`, "true"},
		{`collectgarbage("setpause", 300)`, "200"},
		{`collectgarbage("setpause", 200)`, "300"},
		{`collectgarbage("setstepmul", 400)`, "200"},
		{`collectgarbage("setstepmul", 200)`, "400"},
		{`collectgarbage("stop")`, "0"},
		{`collectgarbage("setpause", 150)`, "200"}, // applies at restart
		{`collectgarbage("restart")`, "0"},
		{`collectgarbage("setpause", 200)`, "150"},
		{`select(2, pcall(collectgarbage, "bogus"))`, "<string>:1: bad argument #1 to 'collectgarbage' (invalid option 'bogus')"},
	}
	L := NewState()
	defer L.Close()
	for _, tc := range tests {
		require.NoError(t, L.DoString("result = "+tc.expr), tc.expr)
		require.Equal(t, tc.want, L.GetGlobal("result").String(), tc.expr)
	}
	require.Equal(t, 100, debug.SetGCPercent(100), "setpause 200 is GOGC 100")
}

// TestCollectGarbageCountFollowsTheHeap: "count" grows with what a script
// holds and falls once it lets go.
func TestCollectGarbageCountFollowsTheHeap(t *testing.T) {
	L := NewState()
	defer L.Close()
	require.NoError(t, L.DoString(`
		collectgarbage()
		local base = collectgarbage("count")
		local held = {}
		for i = 1, 100000 do held[i] = {i} end
		local grown = collectgarbage("count")
		assert(grown - base > 4000, "100,000 tables should cost more than 4 MB: " .. (grown - base))
		held = nil
		collectgarbage()
		local after = collectgarbage("count")
		assert(grown - after > 4000, "the tables should be collected: " .. (grown - after))
	`))
}
