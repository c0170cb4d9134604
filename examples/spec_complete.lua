-- The specification's "Complete Example Usage", verbatim except for the URL:
-- it connects to WS_URL (run it with `wslua --serve examples/spec_complete.lua`
-- or point WS_URL at any echo server).

-- Connect to the WebSocket server
local client, err = websocket.connect(os.getenv("WS_URL") or "ws://127.0.0.1:9001/", {
    headers = { ["User-Agent"] = "Lua WebSocket Client" },
    dial_timeout = "5s",
    read_timeout = "30s",
    write_timeout = "10s",
    ping_interval = "15s",
    pong_timeout = "20s"
})
if not client then
    error("Connection failed: " .. err)
end

-- Start a receive loop in a coroutine
coroutine.spawn(function()
    local ch = client:receive()
    while true do
        local msg, ok = ch:receive()
        if not ok then
            print("Connection closed")
            break
        end

        if msg.type == websocket.TYPE_TEXT then
            print("Received:", msg.data)
        elseif msg.type == websocket.TYPE_CLOSE then
            print("Server closed connection:", msg.code, msg.reason)
            break
        elseif msg.type == websocket.TYPE_PING then
            -- Library handles pings automatically, but you can still observe them
            print("Received ping")
        end
    end
end)

-- Send a message
local ok, err = client:send("Hello")
if not ok then
    print("Send failed:", err)
end

-- Later, gracefully close the connection
client:close(websocket.CLOSE_CODES.NORMAL, "Goodbye")
