-- Echo of a 64 KiB binary message on one connection, send then receive, as
-- BenchmarkEcho64K does in Go.
--
--   wslua bench/lua/echo64k.lua ws://127.0.0.1:9001/echo [count [warm-up count]]
--
-- Prints one line in `go test -bench` format (ns/op, MB/s and ops/s).
local url = arg and arg[1] or "ws://127.0.0.1:9001/echo"
local n = tonumber(arg and arg[2]) or 5000
local size = 64 * 1024
local parts = {}
for i = 0, 255 do parts[#parts + 1] = string.char(i) end
local msg = string.rep(table.concat(parts), size / 256)

local client, err = websocket.connect(url)
if not client then error("connect: " .. tostring(err)) end
local ch = client:receive()

local function run(k)
    for _ = 1, k do
        local ok, serr = client:send(msg, websocket.TYPE_BINARY)
        if not ok then error("send: " .. tostring(serr)) end
        local m, open = ch:receive()
        if not open then error("connection closed") end
        if #m.data ~= size then error("echo differs") end
    end
end

run(tonumber(arg and arg[3]) or math.max(10, math.floor(n / 10))) -- warm-up
local t0 = os.clock()                 -- gopher-lua: wall time
run(n)
local dt = os.clock() - t0
print(string.format("BenchmarkScriptEcho64K/client=%s\t", os.getenv("WSBENCH_CLIENT") or "lua") .. string.format("%d\t%.1f ns/op\t%.2f MB/s\t%.0f ops/s",
    n, dt * 1e9 / n, size * n / dt / 1e6, n / dt))
client:close()
