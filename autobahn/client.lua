-- Autobahn testsuite client driver, in Lua, for the wslua command.
--
--   wslua autobahn/client.lua URL [AGENT [FIRST [LAST]]]
--
-- URL is the fuzzingserver's base URL (ws://127.0.0.1:9001), AGENT the name
-- the results are filed under (default wslua-lua), FIRST and LAST the cases
-- to run, numbered from 1 (default: all; LAST defaults to the server's last
-- case, and a LAST beyond it is lowered to it).
--
-- It does what the Go driver (go run ./autobahn/client, package
-- autobahn/driver) does, step for step and with the same output: ask
-- /getCaseCount, run every selected case through
-- /runCase?case=N&agent=AGENT echoing each text and binary message back
-- unchanged with the same type until the connection ends, then call
-- /updateReports?agent=AGENT. One line per case goes to standard output;
-- failures of single cases are logged, not fatal. Exit status: 0 when every
-- case ran and the reports were updated, 1 when the run could not be
-- completed, 2 on bad usage.

local DEFAULT_AGENT = "wslua-lua"

-- The same limits as the Go driver's defaults: 64 MiB messages (Autobahn
-- section 9 sends 16 MiB ones), a 60 s idle read timeout, a 10 s dial
-- timeout.
local CONNECT_OPTIONS = {
    compression = true, -- permessage-deflate for sections 12 and 13
    max_message_size = 64 * 1024 * 1024,
    read_timeout = "60s",
    dial_timeout = "10s",
}

-- The /updateReports connection: the server answers only once it has
-- written every report file, which takes a while for hundreds of cases.
local UPDATE_OPTIONS = {
    max_message_size = CONNECT_OPTIONS.max_message_size,
    read_timeout = "10m",
    dial_timeout = CONNECT_OPTIONS.dial_timeout,
}

local TEXT = websocket.TYPE_TEXT
local BINARY = websocket.TYPE_BINARY
local CLOSE = websocket.TYPE_CLOSE
local ABNORMAL_CLOSURE = websocket.CLOSE_CODES.ABNORMAL_CLOSURE

local function log(fmt, ...)
    print(string.format(fmt, ...))
end

-- die reports a failed run (its messages start with "autobahn: ") and exits.
local function die(status, fmt, ...)
    io.stderr:write(string.format(fmt, ...) .. "\n")
    os.exit(status)
end

local function usage(fmt, ...)
    die(2, "autobahn client: " .. fmt .. "\nusage: wslua autobahn/client.lua URL [AGENT [FIRST [LAST]]]", ...)
end

-- query_escape encodes s for a URL query the way Go's url.QueryEscape does.
local function query_escape(s)
    local escaped = s:gsub("[^%w%-%._~ ]", function(c)
        return string.format("%%%02X", c:byte())
    end)
    return (escaped:gsub(" ", "+"))
end

-- case_number parses a command-line case number (an integer from 1).
local function case_number(s, what)
    if s == nil then
        return nil
    end
    if not s:match("^%d+$") or tonumber(s) < 1 then
        usage("%s must be a case number from 1, got %q", what, s)
    end
    return tonumber(s)
end

-- parse_args returns the base URL (without a trailing slash), the agent
-- and the case range (last is nil for "up to the server's last case").
local function parse_args()
    local url = arg[1]
    if url == nil or url == "" then
        usage("no fuzzingserver URL")
    end
    local scheme = url:match("^(%a+)://")
    if scheme ~= "ws" and scheme ~= "wss" and scheme ~= "http" and scheme ~= "https" then
        usage("URL scheme must be ws or wss, got %q", url)
    end
    if url:find("[?#]") or not url:match("^%a+://[^/]+") then
        usage("URL must be a base URL such as ws://127.0.0.1:9001, got %q", url)
    end
    if arg[5] ~= nil then
        usage("unexpected arguments after LAST")
    end
    local agent = arg[2]
    if agent == nil or agent == "" then
        agent = DEFAULT_AGENT
    end
    local first = case_number(arg[3], "FIRST") or 1
    local last = case_number(arg[4], "LAST")
    if last ~= nil and last < first then
        usage("empty case range %d-%d", first, last)
    end
    return (url:gsub("/$", "")), agent, first, last
end

-- wait_close receives until the connection's final close message (the
-- server closes after its answer; the library replies on its own) and
-- returns it.
local function wait_close(ch)
    while true do
        local msg, ok = ch:receive()
        if not ok then
            return nil
        end
        if msg.type == CLOSE then
            return msg
        end
    end
end

-- case_count asks the server for its number of cases.
local function case_count(base)
    local client, err = websocket.connect(base .. "/getCaseCount", CONNECT_OPTIONS)
    if not client then
        die(1, "autobahn: getting the case count: %s", err)
    end
    local ch = client:receive()
    local msg, ok = ch:receive()
    if not ok or msg.type == CLOSE then
        local why = ok and string.format("closed with %d (%s)", msg.code, msg.reason) or "connection ended"
        die(1, "autobahn: reading the case count: %s", why)
    end
    local s = msg.data:match("^%s*(.-)%s*$")
    local digits = s:match("^%+?(%d+)$")
    if msg.type ~= TEXT or digits == nil then
        die(1, "autobahn: bad case count %q (want a number in a text message)", s:sub(1, 40))
    end
    wait_close(ch)
    return tonumber(digits)
end

-- run_case runs case n: it echoes every message until the connection ends,
-- and logs what it saw.
local function run_case(base, agent, n)
    local url = base .. "/runCase?case=" .. n .. "&agent=" .. query_escape(agent)
    local client, err = websocket.connect(url, CONNECT_OPTIONS)
    if not client then
        log("case %d: connection failed: %s", n, err)
        return
    end
    local ch = client:receive()
    local messages, bytes, echo_err = 0, 0, nil
    local ending
    while true do
        local msg, ok = ch:receive()
        if not ok then
            ending = "ended: the receive channel closed"
            break
        end
        if msg.type == TEXT or msg.type == BINARY then
            -- After a failed echo keep receiving: the connection is closed
            -- or closing, so the final close message tells how it ended.
            local sent, send_err = client:send(msg.data, msg.type)
            if sent then
                messages = messages + 1
                bytes = bytes + #msg.data
            elseif echo_err == nil then
                echo_err = "echo: " .. tostring(send_err)
            end
        elseif msg.type == CLOSE then
            ending = string.format("closed with %d (%s)", msg.code, msg.reason)
            break
        end
        -- Pings and pongs: the library answers pings itself.
    end
    local line = string.format("case %d: echoed %d messages (%d bytes); %s", n, messages, bytes, ending)
    if echo_err ~= nil then
        line = line .. "; " .. echo_err
    end
    log("%s", line)
end

-- update_reports asks the server to write the reports of agent.
local function update_reports(base, agent)
    local client, err = websocket.connect(base .. "/updateReports?agent=" .. query_escape(agent), UPDATE_OPTIONS)
    if not client then
        die(1, "autobahn: updating the reports: %s", err)
    end
    local msg = wait_close(client:receive())
    if msg == nil or msg.code == ABNORMAL_CLOSURE then
        die(1, "autobahn: updating the reports: the server did not close the connection: %s",
            msg and msg.reason or "connection ended")
    end
end

local base, agent, first, last = parse_args()
local asked = first .. "-" .. (last or "")
local count = case_count(base)
if last == nil or last > count then
    last = count
end
if first > last then
    die(1, "autobahn: no case to run: the server has %d cases, asked for %s", count, asked)
end
log("autobahn: %d cases on the server; running %d-%d as agent %s", count, first, last, agent)
for n = first, last do
    run_case(base, agent, n)
end
update_reports(base, agent)
log("autobahn: reports updated for agent %s", agent)
