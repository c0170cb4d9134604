// Package lua is the gopher-lua binding of the WebSocket client: the
// `websocket` module described in the user's specification
// (/work/shared/spec/lua-websocket-module.md).
//
// Open installs the module as the global `websocket` and as
// package.preload["websocket"], so scripts use it directly or through
// require("websocket"). Loader is the same module for LState.PreloadModule.
//
// # Threads
//
// An LState is not goroutine-safe. Every Lua value is created and touched on
// the goroutine that runs the VM; network goroutines (one reader per
// connection, plus the protocol's own) hand plain Go values to the VM through
// scheduler channels, whose conversion function builds the Lua tables on the
// VM goroutine. Blocking calls (connect, send, ping, close) go through
// scheduler.Await: inside the scheduler they suspend only the calling
// coroutine; in plain gopher-lua they block the calling goroutine.
//
// # Lifetime
//
// The host context (L.Context(), or the context given to scheduler.Run)
// bounds every blocking call. Each connection registers itself with the
// scheduler as a closer, so when the host stops the script the connection is
// closed (status 1001, going away) and its goroutines end. Whenever a
// connection ends, for whatever reason, its receive channel delivers exactly
// one final message of type "close" and is then closed.
//
// # Backpressure
//
// The reader goroutine starts at connect time, so pings are answered and the
// end of the connection is noticed even by a script that never calls
// client:receive(). Messages wait in the receive channel (channel_capacity,
// default 64); when it is full the reader stops reading and TCP flow control
// pushes back on the peer. A script that never drains the channel therefore
// stops reading after channel_capacity messages; that is by design.
//
// # Read-only constants
//
// websocket, websocket.CLOSE_CODES are read-only proxy tables: assignment
// raises an error, and their metatables are protected. gopher-lua's pairs
// does not honour __pairs, so Open wraps the global pairs with a version that
// does (Lua 5.2 semantics; plain tables behave exactly as before), which
// keeps `for name, code in pairs(websocket.CLOSE_CODES)` working. next(),
// rawget and the length operator see an empty proxy.
package lua
