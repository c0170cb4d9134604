-- A long-lived client: keepalive on, a timed receive loop (client:read),
-- reconnection with backoff when the connection is lost (1006), and a clean
-- end.
--
--   wslua --serve examples/longlived.lua [URL [COUNT [TICK_MS]]]
--
-- When nothing arrived for TICK_MS (default 1000) it sends "tick N" (N: the
-- number of the next message it expects; one tick at a time) and prints
-- what comes back (the test server at WS_URL echoes it). After COUNT
-- messages received (default: no limit) it closes with 1000 and ends. When
-- the connection is lost it reconnects, waiting 100 ms, then twice as long
-- after each failure, up to 5 s. Ctrl-C stops it: wslua closes the
-- connection with 1001 (going away) and exits.
local url = arg[1]
if url == nil or url == "" then
    url = os.getenv("WS_URL") or "ws://127.0.0.1:9001/"
end
local count = tonumber(arg[2]) -- nil: run until stopped
local tick = tonumber(arg[3]) or 1000

local OPTIONS = {
    ping_interval = "5s", -- keepalive: a dead peer is noticed within 5 s + pong_timeout
    pong_timeout = "5s",
    dial_timeout = "5s",
}
local FIRST_BACKOFF, MAX_BACKOFF = 100, 5000 -- milliseconds

-- session runs one connection until it ends; it returns true when the
-- program should end (a normal close), false to reconnect.
local received = 0
local function session(client)
    local waiting = false -- a tick was sent and its answer has not come yet
    while true do
        -- The next message, or nil and "timeout" when none came within a
        -- tick (the connection stays open), or nil and "closed" once the
        -- final close message was read.
        local msg, err = client:read(tick)
        if err == "timeout" then
            -- Quiet for a tick: say something, one tick at a time (a lost
            -- tick is sent again on the next connection; a failed send
            -- shows in the close message that follows).
            if not waiting then
                waiting = client:send("tick " .. (received + 1))
            end
        elseif not msg then
            return false
        elseif msg.type == websocket.TYPE_TEXT then
            waiting = false
            received = received + 1
            print("received", msg.data)
            if count and received >= count then
                client:close(websocket.CLOSE_CODES.NORMAL, "done")
            end
        elseif msg.type == websocket.TYPE_CLOSE then
            print(("closed: %d %s (started by the %s)"):format(msg.code, msg.reason, msg.initiator))
            return msg.code ~= websocket.CLOSE_CODES.ABNORMAL_CLOSURE
        end
    end
end

local backoff = FIRST_BACKOFF
while true do
    local client, err = websocket.connect(url, OPTIONS)
    if client then
        print("connected")
        if session(client) then
            return
        end
        backoff = FIRST_BACKOFF -- it worked for a while: start over
    else
        print("connect failed: " .. err)
    end
    print(("reconnecting in %d ms"):format(backoff))
    time.sleep(backoff)
    backoff = math.min(backoff * 2, MAX_BACKOFF)
end
