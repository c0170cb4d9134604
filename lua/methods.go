package lua

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
	"unsafe"

	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/scheduler"
	"github.com/wslua/wslua/protocol"
)

// clientTypeName names the client metatable in the registry.
const clientTypeName = "websocket.client"

// maxControlPayload is the largest ping or pong payload (RFC 6455, 5.5).
const maxControlPayload = 125

// maxCloseReason is the largest close reason: 125 bytes minus the code.
const maxCloseReason = 123

// errClosedText is returned by send, ping and friends once the client is
// closing or closed.
const errClosedText = "websocket: connection closed"

var clientMethods = map[string]glua.LGFunction{
	"send":       clientSend,
	"ping":       clientPing,
	"close":      clientClose,
	"receive":    clientReceive,
	"read":       clientRead,
	"protocol":   clientProtocol,
	"extensions": clientExtensions,
}

// registerClientType creates the client metatable of L.
func registerClientType(L *glua.LState) {
	mt := L.NewTypeMetatable(clientTypeName)
	mt.RawSetString("__index", L.SetFuncs(L.NewTable(), clientMethods))
	mt.RawSetString("__tostring", L.NewFunction(clientToString))
	mt.RawSetString("__metatable", glua.LString(clientTypeName))
}

// newClientValue wraps c in a userdata with the client metatable.
func newClientValue(L *glua.LState, c *client) *glua.LUserData {
	ud := L.NewUserData()
	ud.Value = c
	L.SetMetatable(ud, L.GetTypeMetatable(clientTypeName))
	return ud
}

// checkClient returns the client given as argument 1 (the method receiver),
// raising an argument error for anything else: calling a method with "."
// instead of ":" is a bug in the script, not a run-time failure.
func checkClient(L *glua.LState) *client {
	if ud, ok := L.Get(1).(*glua.LUserData); ok {
		if c, ok := ud.Value.(*client); ok {
			return c
		}
	}
	L.ArgError(1, "websocket client expected (use client:method(...))")
	return nil
}

// pushFail pushes false, msg and returns 2.
func pushFail(L *glua.LState, format string, args ...any) int {
	L.Push(glua.LFalse)
	L.Push(glua.LString(fmt.Sprintf(format, args...)))
	return 2
}

// awaitResult finishes an Await whose work returns an error or nil: true,
// or false and the error's text.
func awaitResult(L *glua.LState, result any) int {
	if err, ok := result.(error); ok && err != nil {
		return pushFail(L, "%s", errorText(err))
	}
	L.Push(glua.LTrue)
	return 1
}

// luaBytes reads argument n as bytes: a string (or a number, converted as
// Lua does). A string's bytes are shared, not copied: the result must only
// be read (the protocol's writes copy or mask it into their own buffers and
// never modify their argument), and Lua strings are immutable.
func luaBytes(L *glua.LState, n int, what string, optional bool) ([]byte, error) {
	switch v := L.Get(n).(type) {
	case glua.LString:
		return unsafe.Slice(unsafe.StringData(string(v)), len(v)), nil
	case glua.LNumber:
		return []byte(v.String()), nil
	case *glua.LNilType:
		if optional {
			return nil, nil
		}
	}
	return nil, fmt.Errorf("%s must be a string, got %s", what, L.Get(n).Type())
}

// clientSend is client:send(data [, type]): a text message by default, or
// TYPE_BINARY, TYPE_PING, TYPE_PONG. It returns true, or false and an error.
func clientSend(L *glua.LState) int {
	c := checkClient(L)
	scheduler.MaxArgs(L, 1, 3, "client:send(data [, type])", "")
	data, err := luaBytes(L, 2, "data", false)
	if err != nil {
		return pushFail(L, "websocket: %v", err)
	}
	typ := typeText
	switch v := L.Get(3).(type) {
	case *glua.LNilType:
	case glua.LString:
		typ = string(v)
	default:
		return pushFail(L, "websocket: message type must be a string, got %s", v.Type())
	}
	return send(L, c, typ, data)
}

// clientPing is client:ping([data]): send a ping (the pong arrives on the
// receive channel as a TYPE_PONG message).
func clientPing(L *glua.LState) int {
	c := checkClient(L)
	scheduler.MaxArgs(L, 1, 2, "client:ping([data])", "")
	data, err := luaBytes(L, 2, "ping data", true)
	if err != nil {
		return pushFail(L, "websocket: %v", err)
	}
	return send(L, c, typePing, data)
}

// send validates and sends one message or control frame.
func send(L *glua.LState, c *client, typ string, data []byte) int {
	var mt protocol.MessageType // data messages only: TryWrite first
	switch typ {
	case typeText, typeBinary:
		mt = protocol.MessageBinary
		if typ == typeText {
			if !utf8.Valid(data) {
				return pushFail(L, "websocket: invalid UTF-8 in text message (send it as websocket.TYPE_BINARY)")
			}
			mt = protocol.MessageText
		}
	case typePing, typePong:
		if len(data) > maxControlPayload {
			return pushFail(L, "websocket: %s payload is %d bytes, at most %d allowed", typ, len(data), maxControlPayload)
		}
	case typeClose:
		return pushFail(L, "websocket: use client:close(code, reason) to send a close frame")
	default:
		return pushFail(L, "websocket: unknown message type %q (want text, binary, ping or pong)", typ)
	}
	// Counted in flight from here: client:close() lets it finish before
	// its close frame.
	conn, ok := c.beginSend()
	if !ok {
		return pushFail(L, "%s", c.closedText())
	}
	if mt != 0 {
		// Most messages go out at once, without the hand-over to another
		// goroutine that a write which may block needs.
		if sent, err := conn.TryWrite(mt, data); sent || err != nil {
			if sent {
				// TryWrite writes to the socket directly, past the
				// frameGuard's count: the keepalive takes these bytes
				// as a sign of life too.
				c.wrote(len(data))
			}
			c.endSend()
			return awaitResult(L, c.sendResult(err))
		}
	}
	return scheduler.Await(L, func(ctx context.Context) any {
		defer c.endSend()
		return c.sendResult(write(ctx, conn, typ, mt, data))
	}, awaitResult)
}

// write sends a data message (mt not 0) or a ping or pong (typ), waiting as
// long as it takes. It is not a closure made up front: most sends complete
// with TryWrite and need no write at all.
func write(ctx context.Context, conn *protocol.Conn, typ string, mt protocol.MessageType, data []byte) error {
	switch {
	case mt != 0:
		return conn.Write(ctx, mt, data)
	case typ == typePing:
		return conn.Ping(ctx, data)
	}
	return conn.Pong(ctx, data)
}

// clientClose is client:close([code [, reason]]): the closing handshake,
// then the receive channel delivers the final close message and closes.
// Closing a client that is already closing or closed returns true.
func clientClose(L *glua.LState) int {
	c := checkClient(L)
	scheduler.MaxArgs(L, 1, 3, "client:close([code [, reason]])", "")
	code := int(protocol.StatusNormalClosure)
	switch v := L.Get(2).(type) {
	case *glua.LNilType:
	case glua.LNumber:
		f := float64(v)
		if f < 0 || f > 65535 || f != math.Trunc(f) || !sendableCloseCode(int(f)) {
			return pushFail(L, "websocket: close code %v may not be sent (use 1000-1003, 1007-1014 or 3000-4999)", v)
		}
		code = int(f)
	default:
		return pushFail(L, "websocket: close code must be a number, got %s", v.Type())
	}
	var reason string
	switch v := L.Get(3).(type) {
	case *glua.LNilType:
	case glua.LString:
		reason = string(v)
	default:
		return pushFail(L, "websocket: close reason must be a string, got %s", v.Type())
	}
	if len(reason) > maxCloseReason {
		return pushFail(L, "websocket: close reason is %d bytes, at most %d allowed", len(reason), maxCloseReason)
	}
	if !utf8.ValidString(reason) {
		return pushFail(L, "websocket: close reason is not valid UTF-8")
	}
	conn, ok := c.beginClose()
	if !ok {
		L.Push(glua.LTrue)
		return 1
	}
	return scheduler.Await(L, func(context.Context) any {
		// Sends already under way go out before the close frame (each
		// write is bounded by write_timeout); this wait by close_timeout.
		c.waitSends(c.closeTimeout())
		err := conn.Close(protocol.StatusCode(code), reason)
		// Close returns once the connection is shut down (handshake done or
		// timed out), even while the reader is still held up by a full
		// receive channel.
		c.markClosed()
		return closeResult(err)
	}, awaitResult)
}

// clientReceive is client:receive(): the receive channel, the same on every
// call.
func clientReceive(L *glua.LState) int {
	c := checkClient(L)
	scheduler.MaxArgs(L, 1, 1, "client:receive()", "to wait with a timeout use client:read(timeout)")
	L.Push(c.ch.LValue())
	return 1
}

// clientProtocol is client:protocol(): the subprotocol the server selected,
// or nil.
func clientProtocol(L *glua.LState) int {
	c := checkClient(L)
	scheduler.MaxArgs(L, 1, 1, "client:protocol()", "")
	c.mu.Lock()
	p := c.subprotocol
	c.mu.Unlock()
	if p == "" {
		L.Push(glua.LNil)
	} else {
		L.Push(glua.LString(p))
	}
	return 1
}

// clientToString is tostring(client): websocket.client(ws://host/path,
// open), followed by ", N pings/pongs not delivered" once pings or pongs
// found the receive channel full.
func clientToString(L *glua.LState) int {
	c := checkClient(L)
	var dropped string
	if n := c.controlDropped.Load(); n > 0 {
		dropped = fmt.Sprintf(", %d pings/pongs not delivered", n)
	}
	var transport string
	if c.overHTTP2 {
		transport = ", http/2"
	}
	L.Push(glua.LString(fmt.Sprintf("%s(%s, %s%s%s)", clientTypeName, c.url, c.currentState(), transport, dropped)))
	return 1
}

// sendResult maps the result of a write: a write that found the
// connection ended marks the client closed, and its error carries the
// reason of the final close message (which names causes only this client
// knows: a pong timeout, max_message_size).
func (c *client) sendResult(err error) error {
	if err == nil {
		return nil
	}
	var ce *protocol.CloseError
	if !errors.As(err, &ce) {
		return err
	}
	m := c.finalMessage(err)
	c.final.CompareAndSwap(nil, &m) // the reader computes the same message
	c.markClosed()
	return fmt.Errorf("websocket: connection closed (%d %s)", m.code, strings.TrimSpace(m.reason))
}

// closeResult maps the result of protocol.Conn.Close for client:close():
// ErrClosed means the connection was closed or closing meanwhile (the peer
// closed first, or the host stopped), which is not a failure of close.
func closeResult(err error) error {
	if err == nil || errors.Is(err, protocol.ErrClosed) {
		return nil
	}
	return err
}
