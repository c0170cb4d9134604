-- Chat: two users, each with an own connection and coroutine, talk in turns.
--
-- The test server only echoes, so every line comes back on its sender's
-- connection; a relay coroutine per user then hands it to the other user,
-- playing the part of a broadcast server.
--   wslua --serve examples/chat.lua
local url = os.getenv("WS_URL") or "ws://127.0.0.1:9001/"

local function join(name)
    local client, err = websocket.connect(url)
    if not client then
        error(name .. " could not connect: " .. err)
    end
    return { name = name, client = client, inbox = channel.new(8) }
end

-- relay forwards what the server sends on from's connection to to's inbox.
local function relay(from, to)
    coroutine.spawn(function()
        local ch = from.client:receive()
        while true do
            local msg, ok = ch:receive()
            if not ok or msg.type == websocket.TYPE_CLOSE then
                break
            end
            if msg.type == websocket.TYPE_TEXT then
                to.inbox:send(msg.data)
            end
        end
        to.inbox:close()
    end)
end

-- talk runs one user: say the first line (if any), then answer every line
-- received with the next one; close when there is nothing left to say.
local function talk(user, lines)
    coroutine.spawn(function()
        local i = 1
        if lines.first then
            assert(user.client:send(user.name .. ": " .. lines[1]))
            i = 2
        end
        while true do
            local line, ok = user.inbox:receive()
            if not ok then
                break
            end
            print("[" .. user.name .. " sees] " .. line)
            if lines[i] then
                assert(user.client:send(user.name .. ": " .. lines[i]))
                i = i + 1
            else
                break
            end
        end
        user.client:close(websocket.CLOSE_CODES.NORMAL, "leaving")
    end)
end

local alice, bob = join("alice"), join("bob")
relay(alice, bob)
relay(bob, alice)
talk(alice, { first = true, "hi bob", "fine, thanks. bye!" })
talk(bob, { "hi alice, how are you?", "bye!" })
