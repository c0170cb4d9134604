-- The specification's client:receive example, with a connection around it.
local client = assert(websocket.connect(os.getenv("WS_URL") or "ws://127.0.0.1:9001/"))

local ch = client:receive()
coroutine.spawn(function()
    while true do
        local msg, ok = ch:receive()
        if not ok then
            print("Connection closed or error occurred")
            break
        end

        if msg.type == websocket.TYPE_TEXT then
            print("Received text:", msg.data)
        elseif msg.type == websocket.TYPE_CLOSE then
            print("Server closed connection:", msg.code, msg.reason)
            break
        end
    end
end)

-- (not in the spec) something to receive, then the end of the connection.
-- Echoes still in flight when close() is called are delivered before the
-- server's close message.
client:send("one")
client:send("two")
client:close(websocket.CLOSE_CODES.NORMAL, "done")
