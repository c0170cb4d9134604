package lua

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/scheduler"
)

// limitScripts are ordinary Lua 5.1 code that reference Lua runs and that
// gopher-lua's default options stop (issue 10, item 3).
var limitScripts = []struct {
	name, body   string
	defaultFails bool // with gopher-lua's default options
	mainOnly     bool // beyond scheduler.CoroutineCallStackSize: the main chunk only
}{
	{"table.concat of 200,000 strings", `
		local t = {}
		for i = 1, 200000 do t[i] = "x" end
		assert(#table.concat(t, ",") == 399999)`, true, false},
	{"unpack of 5,000 values", `
		local t = {}
		for i = 1, 5000 do t[i] = i end
		assert(select('#', unpack(t)) == 5000)
		assert(math.max(unpack(t)) == 5000)`, false, false},
	{"unpack of 200,000 values", `
		local t = {}
		for i = 1, 200000 do t[i] = i end
		assert(select('#', unpack(t)) == 200000)`, true, false},
	{"recursion 10,000 deep", `
		local function depth(n) if n == 0 then return 0 end return 1 + depth(n - 1) end
		assert(depth(10000) == 10000)`, true, true},
	{"recursion 900 deep", `
		local function depth(n) if n == 0 then return 0 end return 1 + depth(n - 1) end
		assert(depth(900) == 900)`, true, false},
}

// limitPlaces are where the code runs: every kind of thread the scheduler
// makes (the main chunk, a spawned coroutine, a pcall child thread).
var limitPlaces = []struct{ name, wrap string }{
	{"main chunk", "%s"},
	{"spawned coroutine", "coroutine.spawn(function() %s end)"},
	{"pcall in a coroutine", "coroutine.spawn(function() assert(pcall(function() %s end)) end)"},
}

func TestNewStateRunsOrdinaryLua(t *testing.T) {
	for _, sc := range limitScripts {
		for _, pl := range limitPlaces {
			if sc.mainOnly && pl.name != "main chunk" {
				continue
			}
			t.Run(sc.name+"/"+pl.name, func(t *testing.T) {
				L := NewState()
				defer L.Close()
				ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
				defer cancel()
				require.NoError(t, scheduler.RunString(ctx, L, fmt.Sprintf(pl.wrap, sc.body)))
			})
		}
	}
}

// TestDefaultStateHitsLimits shows what NewState fixes: the same scripts
// fail in a state made with gopher-lua's defaults.
func TestDefaultStateHitsLimits(t *testing.T) {
	for _, sc := range limitScripts {
		if !sc.defaultFails {
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			L := glua.NewState()
			defer L.Close()
			ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
			defer cancel()
			require.Error(t, scheduler.RunString(ctx, L, sc.body))
		})
	}
}

func TestNewStateLimitsStayFinite(t *testing.T) {
	L := NewState()
	defer L.Close()
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	err := scheduler.RunString(ctx, L, `local function f() return 1 + f() end f()`)
	require.ErrorContains(t, err, "stack overflow")
}

// coroutineHeap returns the Go heap, in bytes, that n parked coroutines of
// a state made by newState hold (measured with runtime.MemStats after a GC,
// divided by n).
func coroutineHeap(t testing.TB, newState func() *glua.LState, n int) float64 {
	L := newState()
	defer L.Close()
	L.SetGlobal("N", glua.LNumber(n))
	measured := false
	var before runtime.MemStats
	var per float64
	L.SetGlobal("measure", L.NewFunction(func(L *glua.LState) int {
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		per = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
		measured = true
		return 0
	}))
	L.SetGlobal("start", L.NewFunction(func(L *glua.LState) int {
		runtime.GC()
		runtime.ReadMemStats(&before)
		return 0
	}))
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	require.NoError(t, scheduler.RunString(ctx, L, `
		local gate = channel.new()
		start()
		for i = 1, N do coroutine.spawn(function() gate:receive() end) end
		coroutine.yield() -- every coroutine runs and parks on the gate
		measure()
		gate:close()`))
	require.True(t, measured)
	return per
}

// TestCoroutineHeap reports the Go heap per parked coroutine in a state
// made with gopher-lua's default options and with StateOptions, and checks
// that both stay small: the scheduler gives spawned coroutines a growable
// value stack and a call stack of scheduler.CoroutineCallStackSize frames
// whatever the state's (it used to copy the state's options: about 100 KB
// per coroutine with gopher-lua's defaults, 19 KB with StateOptions, 12 KB
// of which reserved for 12,000 nested calls).
//
//	go test -run TestCoroutineHeap -v ./lua/
func TestCoroutineHeap(t *testing.T) {
	const n = 2000
	def := coroutineHeap(t, func() *glua.LState { return glua.NewState() }, n)
	ours := coroutineHeap(t, NewState, n)
	t.Logf("Go heap per parked coroutine: gopher-lua defaults %.0f B, StateOptions %.0f B", def, ours)
	require.Less(t, def, float64(maxCoroutineHeap), "gopher-lua defaults")
	require.Less(t, ours, float64(maxCoroutineHeap), "StateOptions")
}

// maxCoroutineHeap bounds the Go heap of a parked coroutine (measured: about
// 4.2 KB with StateOptions, 3.3 KB with gopher-lua's defaults).
const maxCoroutineHeap = 7 << 10

// TestCoroutineCallStackSize: a spawned coroutine nests up to
// scheduler.CoroutineCallStackSize calls, and beyond that gets a Lua error
// ("stack overflow"), not a crash; the main chunk keeps the state's limit.
func TestCoroutineCallStackSize(t *testing.T) {
	L := NewState()
	defer L.Close()
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	err := scheduler.RunString(ctx, L, fmt.Sprintf(`
		local function depth(n) if n == 0 then return 0 end return 1 + depth(n - 1) end
		assert(depth(%d) == %[1]d)
		local ok, err = true, nil
		coroutine.spawn(function() ok, err = pcall(depth, %d) end)
		coroutine.yield()
		assert(not ok and tostring(err):find("stack overflow"), tostring(err))`, CallStackSize-100, scheduler.CoroutineCallStackSize))
	require.NoError(t, err)
}

// TestReplacedFunctions: the functions NewState replaces (table.concat,
// unpack) behave as Lua 5.1's.
func TestReplacedFunctions(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`table.concat({1, 2.5, "a"}, "-")`, "1-2.5-a"},
		{`table.concat({})`, ""},
		{`table.concat({"a", "b", "c"}, ",", 2)`, "b,c"},
		{`table.concat({"a", "b", "c"}, ",", 2, 2)`, "b"},
		{`table.concat({"a", "b"}, ",", 3)`, ""},
		{`table.concat({"a", "b"}, 0)`, "a0b"},
		{`select("#", unpack({1, 2, 3}))`, "3"},
		{`select("#", unpack({1, 2, 3}, 2))`, "2"},
		{`select("#", unpack({1, nil, 3}, 1, 3))`, "3"},
		{`select("#", unpack({}, 5, 1))`, "0"},
		{`table.concat({unpack({"a", "b", "c"}, 2, 3)}, ",")`, "b,c"},
		{`select(2, pcall(unpack, {}, 1, 1e8))`, "<string>:1: too many results to unpack"},
		{`select(2, pcall(unpack, {}, -2147483648, 2147483647))`, "<string>:1: too many results to unpack"},
		{`select(2, pcall(table.concat, {1, {}, 3}))`, "<string>:1: invalid value (at index 2) in table for concat"},
		{`select(2, pcall(table.concat, {1, 2}, ",", 1, 3))`, "<string>:1: invalid value (at index 3) in table for concat"},
		{`select(2, pcall(function() local s = table.concat({1, 2}, {}) return s end))`, "<string>:1: bad argument #2 to concat (string expected, got table)"},
	}
	L := NewState()
	defer L.Close()
	for _, tc := range tests {
		require.NoError(t, L.DoString("result = "+tc.expr), tc.expr)
		require.Equal(t, tc.want, L.GetGlobal("result").String(), tc.expr)
	}
}
