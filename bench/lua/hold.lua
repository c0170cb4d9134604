-- Memory of connections held open: N connections, each owned by a coroutine
-- blocked in ch:receive(), measured from the process's own resident memory
-- (VmRSS in /proc/self/status, Linux). Then every connection echoes once
-- more and closes, so the figure only counts if all of them still work.
--
--   wslua --serve bench/lua/hold.lua [n]          server in this process (WS_URL)
--   wslua bench/lua/hold.lua n ws://host:port/echo  server in another process
--
-- The first 10% of the n connections (at least 50) are opened and held
-- before the baseline is read, so that one-time costs (the server's
-- listener, pools, the first coroutine threads) are not counted: rss-B/conn
-- is the growth per connection over the other 90%. rss-MB is the whole
-- process's resident memory with all n connections held. Prints one line in
-- `go test -bench` format.
local n = tonumber(arg and arg[1]) or 5000
local url = (arg and arg[2]) or os.getenv("WS_URL") or "ws://127.0.0.1:9001/"
local where = (arg and arg[2]) and "other" or "same"

local function rss()
    collectgarbage("collect") -- runtime.GC in gopher-lua
    collectgarbage("collect")
    local f = assert(io.open("/proc/self/status"))
    local s = f:read("*a")
    f:close()
    return tonumber(s:match("VmRSS:%s*(%d+) kB")) * 1024
end

local held = channel.new(n * 2)   -- one report per connection once it is held
local done = channel.new(n * 2)   -- one report per connection at the end
local clients = {}

local function hold(i)
    local c, err = websocket.connect(url, { dial_timeout = "120s" })
    if not c then
        held:send("connect " .. i .. ": " .. tostring(err))
        return
    end
    clients[i] = c
    local ch = c:receive()
    held:send(true)
    -- Parked in ch:receive() on a quiet connection until the main coroutine
    -- sends on this client: then the echo wakes it.
    local m, open = ch:receive()
    if not open or m.data ~= "held " .. i then
        done:send("echo " .. i .. ": " .. tostring(open and m.data or "closed"))
        return
    end
    c:close()
    done:send(true)
end

local function open(from, to)
    -- At most 100 dials in flight, so the listener's backlog never overflows.
    local batch = 100
    for b = from, to, batch do
        local last = math.min(b + batch - 1, to)
        for i = b, last do coroutine.spawn(hold, i) end
        for _ = b, last do
            local v = held:receive()
            if v ~= true then error(v) end
        end
    end
end

local warm = math.min(n - 1, math.max(50, math.floor(n / 10)))
open(1, warm)
local r0 = rss()
if measure then measure(0) end -- Go hosts (bench/lua_test.go) read the Go heap here
open(warm + 1, n)
local r1 = rss()
if measure then measure(n - warm) end

local failed = 0
for i = 1, n do
    local ok, err = clients[i]:send("held " .. i)
    if not ok then error("send " .. i .. ": " .. tostring(err)) end
end
for _ = 1, n do
    local v = done:receive()
    if v ~= true then
        failed = failed + 1
        if failed <= 5 then io.stderr:write(tostring(v), "\n") end
    end
end
if failed > 0 then error(failed .. " connections failed to echo") end
print(string.format("BenchmarkScriptHold/server=%s/conns=%d\t1\t%.0f rss-B/conn\t%.1f rss-MB",
    where, n, (r1 - r0) / (n - warm), r1 / 1e6))
