package lua

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// callsPrelude is the Lua the calling-form tests share: show renders a
// result list as "count:v1,v2,..." (booleans by value, everything else by
// type, so that error texts and positions do not matter, only the values'
// number and kinds), pack keeps trailing nils.
const callsPrelude = `
local function show(...)
	local n = select('#', ...)
	local parts = {}
	for i = 1, n do
		local v = select(i, ...)
		if type(v) == "boolean" then parts[i] = tostring(v) else parts[i] = type(v) end
	end
	return n .. ":" .. table.concat(parts, ",")
end
local function pack(...) return {n = select('#', ...), ...} end
`

// callOp is one function that may suspend: setup is the body of a Lua
// function returning the function to call and its arguments (a table),
// want its documented results when called directly.
type callOp struct {
	name  string
	setup string
	want  []string
}

// callForm is one way of calling the function: expr is a Lua expression
// producing show(...) of what the caller sees, with f and a (arguments) in
// scope; wrap says how the form changes the direct results.
type callForm struct {
	name string
	expr string
	wrap func(want []string) []string
}

func prefix(p ...string) func([]string) []string {
	return func(w []string) []string { return append(append([]string{}, p...), w...) }
}

// fixed3 is what `local x, y, z = f()` sees: the first three results,
// padded with nil.
func fixed3(w []string) []string {
	out := append([]string{}, w...)
	for len(out) < 3 {
		out = append(out, "nil")
	}
	return out[:3]
}

var callForms = []callForm{
	{"direct", `show(f(unpack(a, 1, a.n)))`, prefix()},
	{"fixed results", `(function() local x, y, z = f(unpack(a, 1, a.n)) return show(x, y, z) end)()`, fixed3},
	{"pcall", `show(pcall(f, unpack(a, 1, a.n)))`, prefix("true")},
	{"xpcall", `show(xpcall(function() return f(unpack(a, 1, a.n)) end, debug.traceback))`, prefix("true")},
	{"tail call in pcall", `show(pcall(function(...) return f(...) end, unpack(a, 1, a.n)))`, prefix("true")},
	{"call in pcall", `show(pcall(function(...) local r = pack(f(...)) return unpack(r, 1, r.n) end, unpack(a, 1, a.n)))`, prefix("true")},
	{"nested pcall", `show(pcall(pcall, f, unpack(a, 1, a.n)))`, prefix("true", "true")},
	{"nested pcall of functions", `show(pcall(function() return pcall(function() return f(unpack(a, 1, a.n)) end) end))`, prefix("true", "true")},
	{"xpcall in pcall", `show(pcall(xpcall, function() return f(unpack(a, 1, a.n)) end, print))`, prefix("true", "true")},
	{"spawn", `(function()
		local out = channel.new(1)
		coroutine.spawn(function() out:send(pack(f(unpack(a, 1, a.n)))) end)
		local r = out:receive()
		return show(unpack(r, 1, r.n))
	end)()`, prefix()},
	{"pcall in spawn", `(function()
		local out = channel.new(1)
		coroutine.spawn(function() out:send(pack(pcall(f, unpack(a, 1, a.n)))) end)
		local r = out:receive()
		return show(unpack(r, 1, r.n))
	end)()`, prefix("true")},
	{"spawn of a tail call", `(function()
		local out = channel.new(1)
		local function g() return f(unpack(a, 1, a.n)) end
		coroutine.spawn(function() out:send(pack(g())) end)
		local r = out:receive()
		return show(unpack(r, 1, r.n))
	end)()`, prefix()},
}

// callOps lists every function of the module and the scheduler that may
// suspend the calling coroutine, in their success and failure cases.
var callOps = []callOp{
	{"connect", `return websocket.connect, {n = 1, WS .. "/"}`, []string{"userdata"}},
	{"connect refused", `return websocket.connect, {n = 1, "ws://127.0.0.1:1/"}`, []string{"nil", "string"}},
	{"connect empty URL", `return websocket.connect, {n = 1, ""}`, []string{"nil", "string"}},
	{"connect bad option", `return websocket.connect, {n = 2, WS .. "/", {dial_timeout = "soon"}}`, []string{"nil", "string"}},
	{"send", `local c = assert(websocket.connect(WS .. "/")) return c.send, {n = 2, c, "hi"}`, []string{"true"}},
	{"send 4 MiB", `local c = assert(websocket.connect(WS .. "/")) return c.send, {n = 3, c, string.rep("x", 4 * 1024 * 1024), websocket.TYPE_BINARY}`, []string{"true"}},
	{"send after close", `local c = assert(websocket.connect(WS .. "/")) assert(c:close()) return c.send, {n = 2, c, "hi"}`, []string{"false", "string"}},
	{"ping", `local c = assert(websocket.connect(WS .. "/")) return c.ping, {n = 2, c, "p"}`, []string{"true"}},
	{"close", `local c = assert(websocket.connect(WS .. "/")) return c.close, {n = 3, c, 1000, "bye"}`, []string{"true"}},
	{"close twice", `local c = assert(websocket.connect(WS .. "/")) assert(c:close()) return c.close, {n = 1, c}`, []string{"true"}},
	{"close bad code", `local c = assert(websocket.connect(WS .. "/")) return c.close, {n = 2, c, 1005}`, []string{"false", "string"}},
	{"time.sleep", `return time.sleep, {n = 1, 1}`, nil},
	{"time.sleep 0", `return time.sleep, {n = 1, 0}`, nil},
	{"coroutine.yield", `return coroutine.yield, {n = 0}`, nil},
	{"ch:send buffered", `local ch = channel.new(1) return ch.send, {n = 2, ch, "v"}`, nil},
	{"ch:send blocking", `local ch = channel.new()
		coroutine.spawn(function() time.sleep(1) ch:receive() end)
		return ch.send, {n = 2, ch, "v"}`, nil},
	{"ch:receive ready", `local ch = channel.new(1) ch:send("v") return ch.receive, {n = 1, ch}`, []string{"string", "true"}},
	{"ch:receive blocking", `local ch = channel.new()
		coroutine.spawn(function() time.sleep(1) ch:send("v") end)
		return ch.receive, {n = 1, ch}`, []string{"string", "true"}},
	{"ch:receive closed", `local ch = channel.new() ch:close() return ch.receive, {n = 1, ch}`, []string{"nil", "false"}},
	{"ch:receive of a message", `local c = assert(websocket.connect(WS .. "/")) assert(c:send("m"))
		local ch = c:receive() return ch.receive, {n = 1, ch}`, []string{"table", "true"}},
	{"client:read", `local c = assert(websocket.connect(WS .. "/")) assert(c:send("m")) return c.read, {n = 2, c, "5s"}`, []string{"table"}},
	{"client:read timeout", `local c = assert(websocket.connect(WS .. "/")) return c.read, {n = 2, c, 1}`, []string{"nil", "string"}},
	{"client:read closed", `local c = assert(websocket.connect(WS .. "/")) assert(c:close()) assert(c:read().type == "close")
		return c.read, {n = 1, c}`, []string{"nil", "string"}},
	{"select ready", `local ch = channel.new(1) ch:send(1) return channel.select, {n = 1, {ch:case_receive()}}`, []string{"table"}},
	{"select blocking", `local ch = channel.new()
		coroutine.spawn(function() time.sleep(1) ch:send(1) end)
		return channel.select, {n = 2, ch:case_receive(), time.after(10000):case_receive()}`, []string{"table"}},
	{"select default", `local ch = channel.new() return channel.select, {n = 1, {ch:case_receive(), default = true}}`, []string{"table"}},
}

// TestSuspendingCallsReturnTheirValues checks that every function that may
// suspend returns exactly its documented values whichever way it is called
// (issue 10, item 1: pcall(websocket.connect, url) returned true, nil, nil
// and a direct failing connect four values).
func TestSuspendingCallsReturnTheirValues(t *testing.T) {
	s := newServer(t, nil)
	for _, op := range callOps {
		t.Run(op.name, func(t *testing.T) {
			var src strings.Builder
			src.WriteString(callsPrelude)
			for i, form := range callForms {
				fmt.Fprintf(&src, "do local f, a = (function() %s end)() print(%q, %s) end\n", op.setup, callForms[i].name, form.expr)
			}
			out, err := runLua(t, nil, s.URL(), src.String())
			require.NoError(t, err, "output so far:\n%s", out)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			require.Len(t, lines, len(callForms), "output:\n%s", out)
			for i, form := range callForms {
				want := form.wrap(op.want)
				wantLine := fmt.Sprintf("%s\t%d:%s", form.name, len(want), strings.Join(want, ","))
				assert.Equal(t, wantLine, lines[i], "%s called as %q", op.name, form.name)
			}
		})
	}
}
