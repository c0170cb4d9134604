-- Wait for a message with a timeout: channel.select over the receive
-- channel and time.after.
--   wslua --serve examples/select_timeout.lua
local client = assert(websocket.connect(os.getenv("WS_URL") or "ws://127.0.0.1:9001/"))
local ch = client:receive()

-- receive_within returns the next message, or nil after timeout.
local function receive_within(timeout)
    local result = channel.select{ ch:case_receive(), time.after(timeout):case_receive() }
    if result.channel == ch then
        return result.value
    end
    return nil
end

-- Nothing was sent, so the echo server sends nothing: this times out.
local msg = receive_within(100)
print("first wait:", msg and msg.data or "timed out")

assert(client:send("hello"))
msg = receive_within("5s")
print("second wait:", msg and msg.data or "timed out")

client:close()
