package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// wslua runs ordinary Lua 5.1 code that gopher-lua's default options stop
// (issue 10, item 3): its state comes from lua.NewState.
func TestInterpreterLimits(t *testing.T) {
	p := writeScript(t, `
		local t = {}
		for i = 1, 200000 do t[i] = "x" end
		print(#table.concat(t, ","))
		local u = {}
		for i = 1, 5000 do u[i] = i end
		print(select('#', unpack(u)))
		local function depth(n) if n == 0 then return 0 end return 1 + depth(n - 1) end
		print(depth(10000))
		coroutine.spawn(function() print(depth(900)) end) -- scheduler.CoroutineCallStackSize
	`)
	code, out, errOut := runCmd(t, p)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "399999\n5000\n10000\n900\n", out)
}

// wslua installs the json module.
func TestJSONInstalled(t *testing.T) {
	p := writeScript(t, `
		local v = assert(json.decode('{"a": [1, 2]}'))
		print(json.encode(v), require("json") == json)
	`)
	code, out, errOut := runCmd(t, p)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "{\"a\":[1,2]}\ttrue\n", out)
}
