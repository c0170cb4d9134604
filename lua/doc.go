// Package lua is the gopher-lua binding of the WebSocket client: the
// `websocket` module of the user's specification
// (../shared/spec/lua-websocket-module.md, relative to the repository root,
// as the README names it).
//
// Open installs the module as the global `websocket` and as
// package.preload/package.loaded["websocket"], so scripts use it directly or
// through require("websocket"). Loader is the same module for
// LState.PreloadModule. The command lua/cmd/wslua runs scripts with it and
// the scheduler.
//
// # Lua API
//
//	websocket.TYPE_TEXT, TYPE_BINARY, TYPE_PING, TYPE_PONG, TYPE_CLOSE
//	websocket.CLOSE_CODES.NORMAL (1000) ... TLS_HANDSHAKE (1015), sixteen names
//	websocket.connect(url [, options])   -> client | nil, err
//	client:send(data [, type])           -> true | false, err   (text by default)
//	client:ping([data])                  -> true | false, err
//	client:close([code [, reason]])      -> true | false, err   (code 1000 by default; sends
//	                                        already under way finish first, within close_timeout)
//	client:receive()                     -> channel (the same one on every call)
//	client:read([timeout])               -> message | nil, "timeout" | nil, "closed"
//	                                        (nil, err when timeout is not a duration)
//	client:protocol()                    -> negotiated subprotocol | nil
//	client:extensions()                  -> negotiated permessage-deflate parameters | nil
//	tostring(client)                     -> "websocket.client(ws://host/path, open)"
//	                                        (connecting, open, closing; closed after any end;
//	                                        then ", N pings/pongs not delivered" if any)
//
// Options of connect (durations: a number of milliseconds or a Go duration
// string such as "5s"; 0 means none, except for close_timeout where it means
// the default): headers (name = string or array of strings), protocols
// (array), dial_timeout (bounds TCP connect, proxy, TLS and the opening
// handshake together; default 45s, as gorilla/websocket's default dialer;
// dial_timeout = 0 means no timeout), read_timeout (idle timeout: the
// longest wait for the next frame; pair it with ping_interval on quiet
// connections), write_timeout (per frame), ping_interval (keepalive, see
// below), pong_timeout (default ping_interval), close_timeout (default 5s),
// max_message_size (bytes, default 16 MiB; larger messages fail the
// connection with 1009, reason "message exceeds max_message_size (N
// bytes)"), channel_capacity (default 64), tls = {insecure_skip_verify,
// ca_file, server_name, cert_file, key_file} (used for wss:// and https
// proxies), proxy (http, https, socks5 or socks5h URL; false for a direct
// connection; by default HTTP_PROXY/HTTPS_PROXY/NO_PROXY), origin,
// compression and http2 (true or "prefer": over an HTTP/2 connection,
// RFC 8441, falling back to HTTP/1.1; "require": no fallback; tostring
// then ends with ", http/2"). An unknown option name or a bad value makes connect return
// nil and an error naming the option; nothing is silently ignored.
//
// Messages on the receive channel are tables {type=, data=} and, for
// type "close", also code=, reason= (data then holds the reason too) and
// initiator=, which says who started the end: "server" when the server's
// close frame came first or the connection was cut from its side (end of
// stream, reset), "client" when this end did (client:close(), a protocol
// violation, invalid UTF-8 or a message too big that this end detected,
// a read, pong or close timeout).
// Pings are answered automatically and also delivered (type "ping"), as
// are the pongs answering client:ping() and unsolicited pongs, but only
// when the receive channel has room: a ping or pong that finds it full is
// not delivered (the pong answering a ping has gone out all the same), so
// that control messages never hold up the reader; a script that only sends
// thus survives a server that pings it. tostring(client) then ends with
// ", N pings/pongs not delivered". With channel_capacity = 0 none is
// delivered. Data messages and the final close message wait for room.
//
// Keepalive: with ping_interval the client sends a ping at that interval
// (none while one is unanswered) and ends the connection with 1006 ("no
// pong within pong_timeout") when pong_timeout passes after the ping went
// out without a pong and without a byte from the peer (a pong is only late
// while it waits behind a long message of the peer's). While the ping
// itself waits behind a long send of ours, bytes going out count as well
// (the peer is reading); a peer that stops reading is still found out, and
// so is one that reads but never answers pings, since what we send after
// the ping proves nothing. The automatic pings carry "wslua
// keepalive N". The
// pongs answering these automatic pings are not delivered to the script, so
// a client that only sends never fills its receive channel with them, and
// keepalive never ends a healthy connection. Data messages do wait for
// room in the channel: a script that never receives should close it
// (client:receive():close()) so that the reader discards them; otherwise
// the reader stops reading once the channel is full of them, and if the
// connection then dies (a pong timeout, the peer giving up) the reason of
// the final close message says "the script is not reading its receive
// channel".
//
// Whenever the connection ends, exactly one final "close"
// message is delivered, then the channel is closed (ch:receive() returns
// nil, false): the code of the peer's close frame (1005 when it carried
// none); or the code this end sent when it failed the connection (1002
// protocol error, 1007 invalid UTF-8, 1009 too big), with the cause as
// reason; or 1006 with a reason naming the cause when no close frame came
// (network drop, read/write/pong timeout, a close handshake the peer never
// answered). Messages the server sent before its close reply are still
// delivered after client:close(); pings and pongs arriving then are not.
//
// Failing in stream order: when a frame that fails the connection (a
// reserved bit or opcode, a continuation with nothing to continue, a
// message over max_message_size) arrives right behind valid messages, the
// valid messages are delivered first, then the final close message (1002
// or 1009); the close frame goes out only once the script has received
// that message, so that what it sent in answer to the messages before
// (an echo) reaches the peer first. A script that does not receive holds
// the failure up for close_timeout at most. This holds on every
// connection (ws://, wss://, through a proxy). Failures found inside a
// payload (invalid UTF-8, a bad close frame) are not held back.
//
// Failures are returned as values (nil/false, message) as the
// specification asks; only mistakes in the script itself raise an error:
// calling a method on something that is not a client (client.send(x)
// instead of client:send(x)), or giving a function more arguments than it
// takes (client:receive(100), client:send(data, type, extra),
// websocket.connect(url, options, extra)): no argument is silently ignored.
//
// # Threads
//
// An LState is not goroutine-safe. Every Lua value is created and touched on
// the goroutine that runs the VM; network goroutines (one reader per
// connection, plus the protocol's own) hand plain Go values to the VM through
// scheduler channels, whose conversion function builds the Lua tables on the
// VM goroutine. Blocking calls (connect, send, ping, close) go through
// scheduler.Await: inside the scheduler they suspend only the calling
// coroutine; in plain gopher-lua they block the calling goroutine, and
// ch:receive() blocks until a message or the close.
//
// # Lifetime
//
// The host context (L.Context() of the main state, or the context given to
// scheduler.Run) bounds every blocking call. Each connection registers itself
// with the scheduler as a closer and watches the main state's context, so
// when the host stops the script (or Run ends because the script finished
// or failed) the connection is closed with 1001 (going away) and its
// goroutines end before Run returns. The final close message is not
// delivered then: the script is being stopped. Without a scheduler and
// without a context, a client the script never closes lives until the peer
// closes it, like an unclosed net.Conn.
//
// # Backpressure
//
// The reader goroutine starts at connect time, so pings are answered and the
// end of the connection is noticed even by a script that never calls
// client:receive(). Messages wait in the receive channel (channel_capacity,
// default 64); when it is full the reader stops reading at the next data
// message (pings and pongs are dropped instead, see above) and TCP flow
// control pushes back on the peer. A script that never drains the channel
// therefore stops reading after channel_capacity messages; client:close()
// then completes within close_timeout.
//
// # Read-only constants
//
// websocket and websocket.CLOSE_CODES are read-only proxy tables: assignment
// raises an error and their metatables are protected. gopher-lua's pairs
// does not honour __pairs, so Open (and Loader) wrap the global pairs with a
// version that does (Lua 5.2 semantics; other tables behave exactly as
// before), which keeps `for name, code in pairs(websocket.CLOSE_CODES)`
// working. next(), rawget and # see an empty proxy.
package lua
