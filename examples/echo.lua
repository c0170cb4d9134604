-- Echo: text, binary, ping/pong and the final close message.
--   wslua --serve examples/echo.lua [message...]
local url = os.getenv("WS_URL") or "ws://127.0.0.1:9001/"

local client, err = websocket.connect(url, { dial_timeout = "5s", read_timeout = "10s" })
if not client then
    error("Connection failed: " .. err)
end
print("connected to", tostring(client))

local messages = { ... }
if #messages == 0 then
    messages = { "Hello", "WebSocket", "from Lua" }
end

local ch = client:receive()
for _, text in ipairs(messages) do
    assert(client:send(text))
    local msg = ch:receive()
    print(msg.type, msg.data)
end

assert(client:send("\0\1\2\255", websocket.TYPE_BINARY))
local msg = ch:receive()
print(msg.type, #msg.data .. " bytes")

assert(client:ping("are you there?"))
msg = ch:receive()
print(msg.type, msg.data)

assert(client:close(websocket.CLOSE_CODES.NORMAL, "bye"))
msg = ch:receive()
print(msg.type, msg.code)
print("channel closed:", not select(2, ch:receive()))
