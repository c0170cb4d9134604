package interop

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	glua "github.com/yuin/gopher-lua"

	wslua "github.com/wslua/wslua/lua"
	"github.com/wslua/wslua/lua/scheduler"
	"github.com/wslua/wslua/testserver"
)

// luaLoadScript is the Lua side of the load: N coroutines in one VM, each
// connecting its own client and doing MSGS echo round trips whose payload
// names the coroutine and the round, then reporting on `ready`; once the
// main coroutine has measured the heap (measure()) and closed `release`,
// each closes its client and reports on `finished`.
const luaLoadScript = `
local N, MSGS, URL = N, MSGS, URL
local ready, finished, release = channel.new(N), channel.new(N), channel.new()
for i = 1, N do
  coroutine.spawn(function(id)
    local c, err = websocket.connect(URL, { dial_timeout = "60s" })
    if not c then
      ready:send(false)
      finished:send("coroutine " .. id .. ": connect: " .. tostring(err))
      return
    end
    local ch = c:receive()
    local bad
    for j = 1, MSGS do
      local payload = string.format("lua conn %d msg %d ", id, j) .. string.rep(string.char(97 + j % 26), (id * 7 + j * 13) % 300)
      local ok, serr = c:send(payload)
      if not ok then bad = "send " .. j .. ": " .. tostring(serr); break end
      local msg, rok = ch:receive()
      if not rok then bad = "receive " .. j .. ": channel closed"; break end
      if msg.type ~= websocket.TYPE_TEXT or msg.data ~= payload then
        bad = string.format("message %d: got %s %q", j, tostring(msg.type), tostring(msg.data))
        break
      end
    end
    ready:send(bad == nil)
    release:receive() -- returns nil, false once the main coroutine closed it
    local ok, cerr = c:close(websocket.CLOSE_CODES.NORMAL, "load done")
    if bad == nil and not ok then bad = "close: " .. tostring(cerr) end
    if bad then finished:send("coroutine " .. id .. ": " .. bad) else finished:send(true) end
  end, i)
end
for i = 1, N do ready:receive() end
measure()
release:close()
local okc, errs = 0, {}
for i = 1, N do
  local v = finished:receive()
  if v == true then okc = okc + 1 else errs[#errs + 1] = v end
end
result(okc, table.concat(errs, "\n", 1, math.min(#errs, 10)))
`

// errLoad is returned by the Lua load when some coroutine failed.
var errLoad = errors.New("lua load failed")

// runLuaLoad runs luaLoadScript with n coroutines against url's /echo in
// one VM (lua.Open + scheduler.Run).
func runLuaLoad(url string, n int) (loadResult, error) {
	res := loadResult{conns: n}
	L := glua.NewState()
	defer L.Close()
	wslua.Open(L)
	L.SetGlobal("N", glua.LNumber(n))
	L.SetGlobal("MSGS", glua.LNumber(loadMessages))
	L.SetGlobal("URL", glua.LString(url+"/echo"))
	var okCount int
	var errText string
	L.SetGlobal("measure", L.NewFunction(func(L *glua.LState) int {
		res.open = readHeap()
		return 0
	}))
	L.SetGlobal("result", L.NewFunction(func(L *glua.LState) int {
		okCount = L.CheckInt(1)
		errText = L.CheckString(2)
		return 0
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	fn, err := L.LoadString(luaLoadScript)
	if err != nil {
		return res, err
	}
	res.before = readHeap()
	start := time.Now()
	err = scheduler.Run(ctx, L, fn)
	res.elapsed = time.Since(start)
	if err != nil {
		return res, err
	}
	res.echoed = okCount * loadMessages
	if okCount != n {
		return res, fmt.Errorf("%w: %d of %d coroutines succeeded; first errors:\n%s", errLoad, okCount, n, errText)
	}
	return res, nil
}

// TestLoad1000Lua is TestLoad1000 through the Lua module: one VM, 1,000
// coroutines (raceLoadConns under -race), each owning a client that does
// 100 echo round trips; every payload must come back intact, in order.
func TestLoad1000Lua(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped with -short")
	}
	srv := testserver.New(nil)
	defer srv.Close()
	n := testLoadConns(t, 2)
	res, err := runLuaLoad(srv.URL(), n)
	require.NoError(t, err)
	require.Equal(t, n*loadMessages, res.echoed)
	alloc, inuse := res.perConn()
	t.Logf("%d Lua clients × %d round trips in %v; heap %.0f B/conn (client and server in this process), in use %.0f B/conn",
		n, loadMessages, res.elapsed.Round(time.Millisecond), alloc, inuse)
}

// BenchmarkLoad1000Lua is BenchmarkLoad1000 through the Lua module, with
// the same metrics (B/conn includes the coroutine, the client userdata,
// its receive channel and its reader goroutine's heap).
func BenchmarkLoad1000Lua(b *testing.B) { benchLoad(b, runLuaLoad) }
