-- The specification's client:send example, with a connection around it.
local client = assert(websocket.connect(os.getenv("WS_URL") or "ws://127.0.0.1:9001/"))

local ok, err = client:send("Hello, WebSocket!")
if not ok then
    print("Send failed:", err)
end

-- (not in the spec) the echo server sends the message back
local msg = client:receive():receive()
print("Echo:", msg.data)
client:close()
