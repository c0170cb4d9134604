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
-- The pause lets the echoes arrive first: once client:close() has sent its
-- close frame, data still in flight from the server is discarded.
client:send("one")
client:send("two")
time.sleep(200)
client:close(websocket.CLOSE_CODES.NORMAL, "done")
