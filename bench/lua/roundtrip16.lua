-- Round trips of a 16-byte text message on one connection, send then
-- receive, as BenchmarkRoundTrip16 does in Go.
--
--   wslua bench/lua/roundtrip16.lua ws://127.0.0.1:9001/echo [count [warm-up count]]
--
-- Prints one line in `go test -bench` format (ns/op and ops/s) so that
-- cmd/benchtable can put it next to the Node and Go figures.
local url = arg and arg[1] or "ws://127.0.0.1:9001/echo"
local n = tonumber(arg and arg[2]) or 20000
local msg = "0123456789abcdef"

local client, err = websocket.connect(url)
if not client then error("connect: " .. tostring(err)) end
local ch = client:receive()

local function run(k)
    for _ = 1, k do
        local ok, serr = client:send(msg)
        if not ok then error("send: " .. tostring(serr)) end
        local m, open = ch:receive()
        if not open then error("connection closed") end
        if m.data ~= msg then error("echo differs") end
    end
end

run(tonumber(arg and arg[3]) or math.max(100, math.floor(n / 10))) -- warm-up
local t0 = os.clock()                  -- gopher-lua: wall time
run(n)
local dt = os.clock() - t0
print(string.format("BenchmarkScriptRoundTrip16/client=%s\t", os.getenv("WSBENCH_CLIENT") or "lua") .. string.format("%d\t%.1f ns/op\t%.0f ops/s", n, dt * 1e9 / n, n / dt))
client:close()
