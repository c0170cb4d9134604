-- The specification's websocket.connect example, pointed at WS_URL.
local client, err = websocket.connect(os.getenv("WS_URL") or "ws://127.0.0.1:9001/", {
    headers = { ["User-Agent"] = "Lua WebSocket Client" },
    dial_timeout = "5s",
    read_timeout = "30s",
    write_timeout = "10s"
})
if not client then
    error("Connection failed: " .. err)
end

-- (not in the spec) show the result and release the connection
print("Connected:", tostring(client))
client:close()
