-- The specification's client:close example, with a connection around it.
local client = assert(websocket.connect(os.getenv("WS_URL") or "ws://127.0.0.1:9001/"))
local ch = client:receive()

local ok, err = client:close(websocket.CLOSE_CODES.NORMAL, "Goodbye")
if not ok then
    print("Close error:", err)
end

-- (not in the spec) the channel delivers the final close message, then ends
local msg = ch:receive()
print("Final message:", msg.type, msg.code)
print("Channel open:", select(2, ch:receive()))
