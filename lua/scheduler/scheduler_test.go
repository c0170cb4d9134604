package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/scheduler"
)

type scriptCase struct {
	name string
	code string
	want []string // emitted lines, in order
	err  []string // substrings of Run's error; nil means success
}

func runCases(t *testing.T, cases []scriptCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			L, rec := newState(t)
			err := runScript(t, L, tc.code)
			if tc.err == nil {
				require.NoError(t, err)
			} else {
				requireErrContains(t, err, tc.err...)
			}
			if tc.want != nil {
				require.Equal(t, tc.want, rec.get())
			}
		})
	}
}

func TestCoroutines(t *testing.T) {
	runCases(t, []scriptCase{
		{
			name: "spawn runs later with arguments",
			code: `
				coroutine.spawn(function(a, b, c) emit("spawned", a, b, c) end, 1, "two", nil)
				emit("main")`,
			want: []string{"main", "spawned 1 two nil"},
		},
		{
			name: "spawn returns nothing",
			code: `emit(select('#', coroutine.spawn(function() end)))`,
			want: []string{"0"},
		},
		{
			name: "yield interleaves coroutines",
			code: `
				for _, name in ipairs{"a", "b"} do
					coroutine.spawn(function()
						for i = 1, 3 do emit(name .. i) coroutine.yield() end
					end)
				end`,
			want: []string{"a1", "b1", "a2", "b2", "a3", "b3"},
		},
		{
			name: "yield returns nothing to a multi-value site",
			code: `local a, b = coroutine.yield() emit(a, b, select('#', coroutine.yield()))`,
			want: []string{"nil nil 0"},
		},
		{
			name: "coroutine.create still works inside a scheduled coroutine",
			code: `
				local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
				emit(gen(), gen(), gen())`,
			want: []string{"1 2 3"},
		},
		{
			name: "many coroutines reuse threads correctly",
			code: `
				local results = channel.new(10)
				for i = 1, 300 do
					coroutine.spawn(function(n)
						local t = {}
						for j = 1, n % 7 do t[j] = j end
						results:send(n * 2 + #t - n % 7)
					end, i)
				end
				local sum = 0
				for i = 1, 300 do sum = sum + results:receive() end
				emit(sum)`,
			want: []string{fmt.Sprint(300 * 301)},
		},
		{
			name: "spawn outside a function argument is an error",
			code: `coroutine.spawn(42)`,
			err:  []string{"main chunk failed", "bad argument #1"},
		},
	})
}

func TestChannels(t *testing.T) {
	runCases(t, []scriptCase{
		{
			name: "unbuffered ping-pong",
			code: `
				local ping, pong = channel.new(), channel.new()
				coroutine.spawn(function()
					while true do
						local v, ok = ping:receive()
						if not ok then pong:close() return end
						pong:send(v .. "-pong")
					end
				end)
				for i = 1, 3 do
					ping:send("ping" .. i)
					emit((pong:receive()))
				end
				ping:close()
				emit(pong:receive())`,
			want: []string{"ping1-pong", "ping2-pong", "ping3-pong", "nil false"},
		},
		{
			name: "unbuffered send blocks until received",
			code: `
				local ch = channel.new()
				coroutine.spawn(function() emit("receiver start") emit("got", ch:receive()) end)
				emit("before send")
				ch:send("x")
				emit("after send")`,
			want: []string{"before send", "receiver start", "got x true", "after send"},
		},
		{
			name: "buffered channel keeps order and does not block while space",
			code: `
				local ch = channel.new(3)
				ch:send(1) ch:send(2) ch:send(3)
				emit(#ch, ch:len(), ch:cap())
				coroutine.spawn(function() ch:send(4) emit("sent 4") ch:close() end)
				local got = {}
				while true do
					local v, ok = ch:receive()
					if not ok then break end
					got[#got + 1] = v
				end
				emit(table.concat(got, ","))`,
			want: []string{"3 3 3", "sent 4", "1,2,3,4"},
		},
		{
			name: "close delivers buffered values then nil false",
			code: `
				local ch = channel.new(2)
				ch:send("a") ch:send(false)
				ch:close()
				emit(ch:receive()) emit(ch:receive()) emit(ch:receive()) emit(ch:receive())`,
			want: []string{"a true", "false true", "nil false", "nil false"},
		},
		{
			name: "close wakes every blocked receiver",
			code: `
				local ch = channel.new()
				local done = channel.new(3)
				for i = 1, 3 do
					coroutine.spawn(function() local v, ok = ch:receive() done:send(tostring(v) .. tostring(ok)) end)
				end
				coroutine.yield()
				ch:close()
				for i = 1, 3 do emit(done:receive()) end`,
			want: []string{"nilfalse true", "nilfalse true", "nilfalse true"},
		},
		{
			name: "nil is a value",
			code: `local ch = channel.new(1) ch:send(nil) emit(ch:receive())`,
			want: []string{"nil true"},
		},
		{
			name: "results padded for the call site",
			code: `
				local ch = channel.new()
				coroutine.spawn(function() ch:send(1) ch:send(2) ch:send(3) end)
				local a, b, c, d = ch:receive()
				emit(a, b, c, d, c == nil)
				emit(select('#', ch:receive()))
				local t = {ch:receive()}
				emit(#t)`,
			want: []string{"1 true nil nil true", "2", "2"},
		},
		{
			name: "tail-called receive returns its results",
			code: `
				local ch = channel.new()
				local function get() return ch:receive() end
				coroutine.spawn(function() ch:send("v1") ch:send("v2") ch:close() end)
				emit(get())
				local ok, v, more = pcall(function() return ch:receive() end)
				emit(ok, v, more)
				emit(get())`,
			want: []string{"v1 true", "true v2 true", "nil false"},
		},
		{
			name: "coroutine ending on a tail-called send still sends",
			code: `
				local ch = channel.new()
				coroutine.spawn(function() return ch:send("last") end)
				emit(ch:receive())`,
			want: []string{"last true"},
		},
		{
			name: "send on closed channel raises",
			code: `
				local ch = channel.new(1)
				ch:close()
				ch:send(1)`,
			err: []string{"<string>:4: send on closed channel"},
		},
		{
			name: "blocked sender fails when the channel is closed",
			code: `
				local ch = channel.new()
				coroutine.spawn(function() coroutine.yield() ch:close() end)
				local ok, err = pcall(ch.send, ch, "x")
				emit(ok, err)`,
			want: []string{"false <string>:4: send on closed channel"},
		},
		{
			name: "close twice raises",
			code: `
				local ch = channel.new()
				ch:close()
				ch:close()`,
			err: []string{"<string>:4: close of closed channel"},
		},
		{
			name: "invalid size",
			code: `channel.new(-1)`,
			err:  []string{"bad argument #1", "channel size must be an integer"},
		},
		{
			name: "method on a non-channel",
			code: `local ch = channel.new() ch.receive({})`,
			err:  []string{"channel expected, got table"},
		},
		{
			name: "channel global replaces gopher-lua's",
			code: `emit(type(channel.new), type(channel.select), package.loaded.channel == channel, type(channel.make))`,
			want: []string{"function function true nil"},
		},
	})
}

func TestSelect(t *testing.T) {
	runCases(t, []scriptCase{
		{
			name: "ready receive",
			code: `
				local a, b = channel.new(1), channel.new(1)
				b:send("B")
				local r = channel.select{ a:case_receive(), b:case_receive() }
				emit(r.channel == b, r.value, r.ok, r.index, r.default)`,
			want: []string{"true B true 2 nil"},
		},
		{
			name: "default when nothing is ready",
			code: `
				local a = channel.new()
				local r = channel.select{ a:case_receive(), default = true }
				emit(r.default, r.channel, r.value)
				r = channel.select{ a:case_receive(), default = function() return "fallback" end }
				emit(r.default, r.value)
				r = channel.select{ default = true }
				emit(r.default)`,
			want: []string{"true nil nil", "true fallback", "true"},
		},
		{
			name: "blocks until a case is ready",
			code: `
				local a, b = channel.new(), channel.new()
				coroutine.spawn(function() emit("sender") b:send(7) end)
				local r = channel.select{ a:case_receive(), b:case_receive() }
				emit(r.channel == b, r.value, r.ok)`,
			want: []string{"sender", "true 7 true"},
		},
		{
			name: "send case",
			code: `
				local a = channel.new()
				coroutine.spawn(function() emit("got", a:receive()) end)
				local r = channel.select{ a:case_send("hello") }
				emit(r.channel == a, r.value, r.ok, r.index)`,
			want: []string{"got hello true", "true hello true 1"},
		},
		{
			name: "varargs form",
			code: `
				local a, b = channel.new(), channel.new(1)
				local r = channel.select(a:case_receive(), b:case_send(5))
				emit(r.index, r.value, b:receive())`,
			want: []string{"2 5 5 true"},
		},
		{
			name: "closed channel reports ok false",
			code: `
				local a = channel.new()
				coroutine.spawn(function() a:close() end)
				local r = channel.select{ a:case_receive() }
				emit(r.value, r.ok)`,
			want: []string{"nil false"},
		},
		{
			name: "timeout with time.after",
			code: `
				local never = channel.new()
				local timeout = time.after(5)
				local r = channel.select{ never:case_receive(), timeout:case_receive() }
				emit(r.channel == timeout, type(r.value), r.ok)`,
			want: []string{"true number true"},
		},
		{
			name: "value beats a longer timeout",
			code: `
				local ch = channel.new()
				coroutine.spawn(function() time.sleep(1) ch:send("data") end)
				local r = channel.select{ ch:case_receive(), time.after("10s"):case_receive() }
				emit(r.value)`,
			want: []string{"data"},
		},
		{
			name: "random fair choice among ready cases",
			code: `
				local a, b = channel.new(1), channel.new(1)
				local seen = {0, 0}
				for i = 1, 200 do
					if #a == 0 then a:send("a") end
					if #b == 0 then b:send("b") end
					local r = channel.select{ a:case_receive(), b:case_receive() }
					seen[r.index] = seen[r.index] + 1
				end
				emit(seen[1] > 0, seen[2] > 0, seen[1] + seen[2])`,
			want: []string{"true true 200"},
		},
		{
			name: "a select does not match itself",
			code: `
				local a = channel.new()
				coroutine.spawn(function() coroutine.yield() emit("recv", a:receive()) end)
				local r = channel.select{ a:case_send(1), a:case_receive() }
				emit("select", r.index, r.value)`,
			want: []string{"recv 1 true", "select 1 1"},
		},
		{
			name: "losing cases are withdrawn",
			code: `
				local a, b = channel.new(), channel.new()
				coroutine.spawn(function() a:send("A") end)
				local r = channel.select{ a:case_receive(), b:case_receive() }
				emit(r.value)
				coroutine.spawn(function() b:send("B") end)
				emit(b:receive())`,
			want: []string{"A", "B true"},
		},
		{
			name: "send case on closed channel raises",
			code: `
				local a = channel.new()
				a:close()
				channel.select{ a:case_send(1) }`,
			err: []string{"send on closed channel"},
		},
		{
			name: "no cases",
			code: `channel.select{}`,
			err:  []string{"channel.select: no cases"},
		},
		{
			name: "bad case",
			code: `channel.select{ 42 }`,
			err:  []string{"case #1 is a number, not a channel case"},
		},
	})
}

func TestTime(t *testing.T) {
	runCases(t, []scriptCase{
		{
			name: "sleep ordering",
			code: `
				local done = channel.new()
				for _, d in ipairs{150, 50, 100} do
					coroutine.spawn(function() time.sleep(d) emit(d) done:send(true) end)
				end
				for i = 1, 3 do done:receive() end`,
			want: []string{"50", "100", "150"},
		},
		{
			name: "sleep accepts duration strings and zero",
			code: `time.sleep("1ms") time.sleep(0) time.sleep(-5) time.sleep("0s") emit("ok")`,
			want: []string{"ok"},
		},
		{
			name: "sleeping coroutine lets others run",
			code: `
				coroutine.spawn(function() emit("other") end)
				time.sleep(1)
				emit("main")`,
			want: []string{"other", "main"},
		},
		{
			name: "invalid duration string",
			code: `time.sleep("soon")`,
			err:  []string{"bad argument #1", `invalid duration "soon"`},
		},
		{
			name: "invalid duration type",
			code: `time.after({})`,
			err:  []string{"bad argument #1", "got table"},
		},
		{
			name: "many abandoned timeouts",
			code: `
				local ch = channel.new(1)
				for i = 1, 2000 do
					ch:send(i)
					local r = channel.select{ ch:case_receive(), time.after("1h"):case_receive() }
					assert(r.value == i)
				end
				emit("done")`,
			want: []string{"done"},
		},
		{
			name: "pending timeouts nobody waits on do not hide a deadlock",
			code: `
				local t = time.after("1h")
				local never = channel.new()
				channel.select{ never:case_receive(), never:case_send(1) }`,
			err: []string{"deadlock", "main chunk: blocked in channel.select at <string>:4"},
		},
		{
			name: "os.time untouched",
			code: `emit(type(os.time()), type(time.sleep), type(time.after))`,
			want: []string{"number function function"},
		},
	})
}

func TestProtectedCalls(t *testing.T) {
	runCases(t, []scriptCase{
		{
			name: "pcall around a blocking call",
			code: `
				local ch = channel.new()
				coroutine.spawn(function() ch:send("x") end)
				emit(pcall(function() local v = ch:receive() return v .. "!" end))`,
			want: []string{"true x!"},
		},
		{
			name: "pcall catches an error raised after blocking",
			code: `
				local ch = channel.new(1)
				ch:send(1)
				local ok, err = pcall(function() ch:receive() error("oops") end)
				emit(ok, err)`,
			want: []string{"false <string>:4: oops"},
		},
		{
			name: "pcall of a Go function and of a non-function",
			code: `
				emit(pcall(error, "plain"))
				emit(pcall(42))
				emit(pcall(string.rep, "ab", 2))`,
			want: []string{"false <string>:2: plain", "false attempt to call a number value", "true abab"},
		},
		{
			name: "nested pcall with blocking",
			code: `
				local ch = channel.new()
				coroutine.spawn(function() ch:send(1) ch:send(2) end)
				emit(pcall(function()
					local a = ch:receive()
					return pcall(function() return a + ch:receive() end)
				end))`,
			want: []string{"true true 3"},
		},
		{
			name: "xpcall handler sees the error before unwinding",
			code: `
				local ch = channel.new(1)
				ch:send(1)
				local ok, msg = xpcall(function() ch:receive() error("bad") end,
					function(e) return "handled: " .. e .. " | " .. (debug.traceback() ~= nil and "tb" or "") end)
				emit(ok, msg)`,
			want: []string{"false handled: <string>:4: bad | tb"},
		},
		{
			name: "pcall outside coroutines behaves as usual",
			code: `
				local ok, err = pcall(error, {code = 1})
				emit(ok, type(err), err.code)`,
			want: []string{"false table 1"},
		},
	})
}

func TestNonYieldable(t *testing.T) {
	runCases(t, []scriptCase{
		{
			name: "inside table.sort comparator",
			code: `
				local ch = channel.new(1)
				ch:send(1)
				table.sort({3, 2, 1}, function(a, b) ch:receive() return a < b end)`,
			err: []string{"channel receive: blocking call from a non-yieldable context"},
		},
		{
			name: "inside a metamethod",
			code: `
				local ch = channel.new(1)
				local t = setmetatable({}, {__index = function() return ch:receive() end})
				local v = t.x`,
			err: []string{"blocking call from a non-yieldable context"},
		},
		{
			name: "inside a for-in iterator",
			code: `
				local ch = channel.new(2)
				ch:send(1)
				for v in function() return (ch:receive()) end do break end`,
			err: []string{"blocking call from a non-yieldable context"},
		},
		{
			name: "inside coroutine.wrap",
			code: `
				local ch = channel.new(1)
				ch:send(1)
				coroutine.wrap(function() ch:receive() end)()`,
			err: []string{"blocking call from a non-yieldable context"},
		},
		{
			name: "sleep and select too",
			code: `
				local ok1, e1 = pcall(table.sort, {2, 1}, function(a, b) time.sleep(1) return a < b end)
				local ch = channel.new()
				local ok2, e2 = pcall(table.sort, {2, 1}, function(a, b) channel.select{ch:case_receive()} return a < b end)
				local ok3 = pcall(table.sort, {2, 1}, function(a, b) channel.select{ch:case_receive(), default = true} return a < b end)
				emit(ok1, e1:find("non%-yieldable") ~= nil, ok2, e2:find("non%-yieldable") ~= nil, ok3)`,
			want: []string{"false true false true true"},
		},
	})
}

func TestErrors(t *testing.T) {
	t.Run("error in spawned coroutine fails Run with traceback", func(t *testing.T) {
		L, rec := newState(t)
		err := runScript(t, L, `
local function inner()
	error("kaput")
end
local function outer() inner() end
coroutine.spawn(function()
	time.sleep(1)
	outer()
end)
emit("main done")
`)
		var cerr *scheduler.CoroutineError
		require.ErrorAs(t, err, &cerr)
		require.Equal(t, "coroutine #1 (function at <string>:6)", cerr.Coroutine)
		require.Equal(t, "<string>:3: kaput", cerr.Message)
		require.Contains(t, cerr.Traceback, "stack traceback:")
		require.Contains(t, cerr.Traceback, "<string>:3: in function 'inner'")
		require.Contains(t, cerr.Traceback, "<string>:5: in function 'outer'")
		require.Contains(t, err.Error(), "coroutine #1 (function at <string>:6) failed: <string>:3: kaput")
		require.Equal(t, []string{"main done"}, rec.get())
	})
	t.Run("error stops the other coroutines", func(t *testing.T) {
		L, rec := newState(t)
		err := runScript(t, L, `
coroutine.spawn(function() while true do emit("tick") coroutine.yield() end end)
coroutine.yield()
error({message = "table error"})
`)
		requireErrContains(t, err, "main chunk failed: table error")
		require.Equal(t, []string{"tick"}, rec.get())
	})
	t.Run("runtime error in main chunk", func(t *testing.T) {
		L, _ := newState(t)
		err := runScript(t, L, "local x = nil\nlocal y = x.field\n")
		var cerr *scheduler.CoroutineError
		require.ErrorAs(t, err, &cerr)
		require.Equal(t, "main chunk", cerr.Coroutine)
		require.Contains(t, cerr.Message, "<string>:2:")
		require.Contains(t, cerr.Traceback, "stack traceback:")
	})
	t.Run("error values that are not strings", func(t *testing.T) {
		for _, tc := range []struct{ raise, want string }{
			{`error({code = 1})`, "(error object is a table value)"},
			{`error(nil)`, "(error object is a nil value)"},
			{`error(true)`, "(error object is a boolean value)"},
			{`error(42)`, "42"},
			{`error(setmetatable({}, {__tostring = function() return "custom" end}))`, "custom"},
			{`error(setmetatable({}, {__tostring = function() error("inner") end}))`, "(error object is a table value)"},
			{`coroutine.spawn(function() error(function() end) end)`, "(error object is a function value)"},
		} {
			L, _ := newState(t)
			var cerr *scheduler.CoroutineError
			require.ErrorAs(t, runScript(t, L, tc.raise), &cerr, tc.raise)
			require.Equal(t, tc.want, cerr.Message, tc.raise)
		}
	})
	t.Run("syntax error from RunString", func(t *testing.T) {
		L, _ := newState(t)
		require.Error(t, runScript(t, L, "this is not lua"))
	})
}

func TestDeadlock(t *testing.T) {
	cases := []struct {
		name    string
		code    string
		blocked []scheduler.Blocked
	}{
		{
			name: "main waits forever",
			code: "local ch = channel.new()\nlocal v = ch:receive()\n",
			blocked: []scheduler.Blocked{
				{Coroutine: "main chunk", Op: "channel receive", Where: "<string>:2"},
			},
		},
		{
			name: "two coroutines wait for each other",
			code: `local a, b = channel.new(), channel.new()
coroutine.spawn(function()
	a:receive()
end)
coroutine.spawn(function()
	b:send(1)
end)
local c = channel.new(); channel.select{c:case_receive(), c:case_send(1)}
`,
			blocked: []scheduler.Blocked{
				{Coroutine: "main chunk", Op: "channel.select", Where: "<string>:8"},
				{Coroutine: "coroutine #1 (function at <string>:2)", Op: "channel receive", Where: "<string>:3"},
				{Coroutine: "coroutine #2 (function at <string>:5)", Op: "channel send", Where: "<string>:6"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			L, _ := newState(t)
			err := runScript(t, L, tc.code)
			var derr *scheduler.DeadlockError
			require.ErrorAs(t, err, &derr)
			require.Equal(t, tc.blocked, derr.Blocked)
			require.Contains(t, err.Error(), "deadlock")
			require.Contains(t, err.Error(), tc.blocked[0].Where)
		})
	}
}

func TestContextCancellation(t *testing.T) {
	cases := []struct {
		name string
		code string
	}{
		{"blocked on a fed channel", `started() local v = feed():receive()`},
		{"sleeping", `started() time.sleep("1h")`},
		{"busy loop", `started() while true do end`},
		{"busy loop inside pcall", `started() pcall(function() while true do end end) while true do end`},
		{"busy coroutines", `
			coroutine.spawn(function() while true do coroutine.yield() end end)
			started()
			while true do coroutine.yield() end`},
		{"waiting for Await", `started() hang()`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			L, _ := newState(t)
			s := scheduler.Install(L)
			closed := make(chan struct{})
			var feeds []*scheduler.Channel
			L.SetGlobal("feed", L.NewFunction(func(L *lua.LState) int {
				ch := scheduler.NewChannel(L, 0, func(L *lua.LState, v any) lua.LValue { return lua.LString(fmt.Sprint(v)) })
				feeds = append(feeds, ch)
				L.Push(ch.LValue())
				return 1
			}))
			start := make(chan struct{})
			L.SetGlobal("started", L.NewFunction(func(L *lua.LState) int { close(start); return 0 }))
			L.SetGlobal("hang", L.NewFunction(func(L *lua.LState) int {
				return scheduler.Await(L, func(ctx context.Context) any { <-ctx.Done(); return nil },
					func(L *lua.LState, r any) int { return 0 })
			}))
			s.RegisterCloser(closerFunc(func() error { close(closed); return nil }))
			ctx, cancel := context.WithCancel(context.Background())
			unregistered := false
			unreg := s.RegisterCloser(closerFunc(func() error { unregistered = true; return nil }))
			unreg()
			unreg()
			errc := make(chan error, 1)
			go func() { errc <- scheduler.RunString(ctx, L, tc.code) }()
			<-start
			cancel()
			err := <-errc
			require.ErrorIs(t, err, context.Canceled)
			select {
			case <-closed:
			default:
				t.Fatal("closer not closed when Run returned")
			}
			require.False(t, unregistered)
			require.ErrorIs(t, s.Context().Err(), context.Canceled)
			for _, f := range feeds {
				require.ErrorIs(t, f.SendGo(context.Background(), 1), scheduler.ErrStopped)
			}
		})
	}
}

func TestRunTwiceAndNested(t *testing.T) {
	L, rec := newState(t)
	L.SetGlobal("nested", L.NewFunction(func(L *lua.LState) int {
		err := scheduler.RunString(context.Background(), L, `emit("never")`)
		L.Push(lua.LBool(errors.Is(err, scheduler.ErrRunning)))
		return 1
	}))
	require.NoError(t, runScript(t, L, `emit("first", nested())`))
	require.NoError(t, runScript(t, L, `
		local ch = channel.new()
		coroutine.spawn(function() ch:send("second") end)
		emit(ch:receive())`))
	require.Equal(t, []string{"first true", "second true"}, rec.get())
	require.Nil(t, L.Context(), "Run restores the state's context")
	require.NoError(t, L.DoString(`emit(pcall(error, "plain"))`))
	require.Equal(t, "false <string>:1: plain", rec.get()[2], "gopher-lua's own pcall outside Run")
	require.True(t, strings.HasPrefix(rec.get()[0], "first"))
}

func TestSpawnOutsideRun(t *testing.T) {
	L, _ := newState(t)
	scheduler.Install(L)
	err := L.DoString(`coroutine.spawn(function() end)`)
	requireErrContains(t, err, "no scheduler is running")
}

func TestFrom(t *testing.T) {
	L, _ := newState(t)
	require.Nil(t, scheduler.From(L))
	s := scheduler.Install(L)
	require.Same(t, s, scheduler.Install(L))
	require.Same(t, s, scheduler.From(L))
	var fromThread *scheduler.Scheduler
	L.SetGlobal("probe", L.NewFunction(func(L *lua.LState) int {
		fromThread = scheduler.From(L)
		return 0
	}))
	require.NoError(t, runScript(t, L, `coroutine.spawn(probe)`))
	require.Same(t, s, fromThread)
	require.Error(t, s.Spawn(nil))
}

func TestSpawnFromGo(t *testing.T) {
	L, rec := newState(t)
	L.SetGlobal("go_spawn", L.NewFunction(func(L *lua.LState) int {
		require.NoError(t, scheduler.From(L).Spawn(L.CheckFunction(1), lua.LString("from go")))
		return 0
	}))
	require.NoError(t, runScript(t, L, `go_spawn(function(arg) emit(arg) end)`))
	require.Equal(t, []string{"from go"}, rec.get())
}

func TestClosersClosedHowEverRunEnds(t *testing.T) {
	cases := []struct {
		name string
		code string
		ok   bool
	}{
		{"normal end", `register() emit("done")`, true},
		{"coroutine error", `register() coroutine.spawn(function() error("x") end)`, false},
		{"deadlock", `register() channel.new():receive()`, false},
		{"closer registered by a spawned coroutine", `coroutine.spawn(register)`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			L, _ := newState(t)
			var order []string
			L.SetGlobal("register", L.NewFunction(func(L *lua.LState) int {
				s := scheduler.From(L)
				s.RegisterCloser(closerFunc(func() error { order = append(order, "first"); return nil }))
				s.RegisterCloser(closerFunc(func() error { order = append(order, "second"); return errors.New("ignored") }))
				return 0
			}))
			err := runScript(t, L, tc.code)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
			require.Equal(t, []string{"second", "first"}, order, "closed most recent first, exactly once")
			require.NoError(t, runScript(t, L, `emit("next run")`))
			require.Len(t, order, 2, "closers are not closed again by the next Run")
		})
	}
}

// A coroutine left blocked by a failed Run must not receive values sent
// during the next Run.
func TestRunFailureDetachesBlockedCoroutines(t *testing.T) {
	L, rec := newState(t)
	err := runScript(t, L, `
		shared = channel.new()
		sel = channel.new()
		coroutine.spawn(function() emit("stale receiver got", shared:receive()) end)
		coroutine.spawn(function() channel.select{ sel:case_receive(), shared:case_receive() } emit("stale select") end)
		coroutine.yield()
		error("first run fails")`)
	requireErrContains(t, err, "first run fails")
	err = runScript(t, L, `
		coroutine.spawn(function() emit("fresh receiver got", shared:receive()) end)
		coroutine.spawn(function() emit("fresh select got", channel.select{ sel:case_receive() }.value) end)
		shared:send("v1")
		sel:send("v2")`)
	require.NoError(t, err)
	require.Equal(t, []string{"fresh receiver got v1 true", "fresh select got v2"}, rec.get())
}

func TestRunFile(t *testing.T) {
	L, rec := newState(t)
	path := t.TempDir() + "/script.lua"
	require.NoError(t, os.WriteFile(path, []byte("coroutine.spawn(function() emit('from file') end)\nerror('at line 2')\n"), 0o600))
	ctx := context.Background()
	err := scheduler.RunFile(ctx, L, path)
	requireErrContains(t, err, "script.lua:2: at line 2")
	require.Error(t, scheduler.RunFile(ctx, L, path+".missing"))
	require.Error(t, scheduler.Run(ctx, L, nil))
	require.Empty(t, rec.get(), "the failing main chunk stops the spawned coroutine before it runs")
}
