-- Reconnect with exponential backoff after the server drops the connection.
--
-- The first attempts go to the test server's /drop path, which drops the
-- TCP connection in the middle of a frame (the receive channel then
-- delivers a close message with code 1006, ABNORMAL_CLOSURE); then the
-- "server is back" and the echo path answers.
--   wslua --serve examples/reconnect.lua
local base = (os.getenv("WS_URL") or "ws://127.0.0.1:9001/"):gsub("/$", "")
local failing_attempts = 3

local function endpoint(attempt)
    if attempt <= failing_attempts then
        return base .. "/drop"
    end
    return base .. "/"
end

local backoff, max_backoff = 50, 1000 -- milliseconds
for attempt = 1, 10 do
    local client, err = websocket.connect(endpoint(attempt), { dial_timeout = "2s" })
    if not client then
        print(("attempt %d: connect failed: %s"):format(attempt, err))
    else
        local ch = client:receive()
        client:send("hello") -- may fail if the connection is already gone
        local msg = ch:receive()
        if msg.type == websocket.TYPE_CLOSE then
            local name = msg.code == websocket.CLOSE_CODES.ABNORMAL_CLOSURE and "ABNORMAL_CLOSURE" or tostring(msg.code)
            print(("attempt %d: connection lost (%s), retrying in %d ms"):format(attempt, name, backoff))
        else
            print(("attempt %d: connected, server said %q"):format(attempt, msg.data))
            client:close()
            return
        end
    end
    time.sleep(backoff)
    backoff = math.min(backoff * 2, max_backoff)
end
error("giving up")
