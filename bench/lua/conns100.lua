-- Many connections from one script: 100 connections (arg 3), each owned by
-- a coroutine doing 16-byte text round trips, send then receive; n round
-- trips in all (arg 2), shared evenly. As BenchmarkConns1000 does in Go, and
-- bench/node/bench.js conns100 with Node's ws.
--
--   wslua bench/lua/conns100.lua ws://127.0.0.1:9001/echo [n [conns]]
--
-- Every connection is opened and warmed up (10% of its share, at least
-- 10 round trips) before the clock starts. Prints one line in `go test
-- -bench` format: ns/op is the wall time per round trip of all connections
-- together, msgs/s their total.
local url = arg and arg[1] or "ws://127.0.0.1:9001/echo"
local n = tonumber(arg and arg[2]) or 100000
local conns = tonumber(arg and arg[3]) or 100
local msg = "0123456789abcdef"
local per = math.max(1, math.floor(n / conns))
local warm = math.max(10, math.floor(per / 10))

local ready, done = channel.new(conns), channel.new(conns)
local start = channel.new()

local function loop(client, ch, k)
    for _ = 1, k do
        local ok, serr = client:send(msg)
        if not ok then error("send: " .. tostring(serr)) end
        local m, open = ch:receive()
        if not open then error("connection closed") end
        if m.data ~= msg then error("echo differs") end
    end
end

for i = 1, conns do
    coroutine.spawn(function()
        local client, err = websocket.connect(url)
        if not client then error("connect " .. i .. ": " .. tostring(err)) end
        local ch = client:receive()
        loop(client, ch, warm)
        ready:send(true)
        start:receive() -- nil, false once closed: go
        loop(client, ch, per)
        done:send(true)
        client:close()
    end)
end
for _ = 1, conns do ready:receive() end
local t0 = os.clock() -- gopher-lua: wall time
start:close()
for _ = 1, conns do done:receive() end
local dt = os.clock() - t0
local total = per * conns
print(string.format("BenchmarkScriptConns100/client=%s\t", os.getenv("WSBENCH_CLIENT") or "lua") .. string.format("%d\t%.1f ns/op\t%.0f msgs/s",
    total, dt * 1e9 / total, total / dt))
