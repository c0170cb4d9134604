package lua

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"unicode/utf8"
	"unsafe"

	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/protocol"
)

// message is one item of a receive channel, as plain Go values: network
// goroutines build it, the VM goroutine turns it into a Lua table
// (messageToLua).
type message struct {
	typ    string // typeText, typeBinary, typePing, typePong or typeClose
	data   []byte // payload; for close messages the reason
	code   int    // close messages only
	reason string // close messages only
	// initiator is who started the end, close messages only: initServer
	// (its close frame came first, or the connection was cut from its side)
	// or initClient (client:close(), a violation or timeout this end
	// detected, the host stopping the script).
	initiator string
	// early marks a final close message delivered before the connection
	// fails, so that the failure waits for the script (see failorder.go).
	early bool
}

// The values of the initiator field of close messages.
const (
	initClient = "client"
	initServer = "server"
)

// messageToLua is the channel's conversion function: it builds
// {type=, data=, code=, reason=} on the VM goroutine.
func messageToLua(L *glua.LState, v any) glua.LValue {
	m, ok := v.(message)
	if !ok {
		return glua.LNil
	}
	if m.typ != typeClose {
		if t := dataTable(typeValue(m.typ), glua.LString(ownedString(m.data))); t != nil {
			return t
		}
	}
	t := L.CreateTable(0, 4)
	t.RawSetString("type", typeValue(m.typ))
	t.RawSetString("data", glua.LString(ownedString(m.data)))
	if m.typ == typeClose {
		t.RawSetString("code", glua.LNumber(m.code))
		t.RawSetString("reason", glua.LString(m.reason))
		t.RawSetString("initiator", glua.LString(m.initiator))
	}
	return t
}

// ownedString returns b's bytes as a string without copying them. A
// message owns its data (a fresh slice from protocol's Read, a clone of a
// control payload, a reason built for it) and nothing writes to it once it
// is handed over, so the Lua string may share it.
func ownedString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// The message types as Lua values, boxed once rather than per message.
var (
	lvText   glua.LValue = glua.LString(typeText)
	lvBinary glua.LValue = glua.LString(typeBinary)
)

// typeValue returns typ as a Lua value.
func typeValue(typ string) glua.LValue {
	switch typ {
	case typeText:
		return lvText
	case typeBinary:
		return lvBinary
	}
	return glua.LString(typ)
}

// maxLocalReason bounds the reason of a close message made up locally from
// an error (a peer's reason is at most 123 bytes anyway).
const maxLocalReason = 256

// finalMessage is the close message delivered when the connection ends with
// err (the error of the reader's last Read):
//   - a close frame from the peer: its code (1005 for an empty frame) and
//     reason;
//   - this end failed the connection (protocol error, invalid UTF-8, message
//     too big, ...): the code it sent, the reason naming the cause;
//   - no close frame from the peer (network drop, timeouts, a close
//     handshake the peer never answered, host stop): 1006 and a reason
//     naming the cause.
//
// The initiator is initServer when the peer's close frame came before any
// of ours, or the connection was cut from the other side (end of stream,
// reset); initClient otherwise: this end closed, failed the connection, or
// gave up waiting (timeouts).
//
// closeInitiated says that this end sent a close frame with client:close()
// (or on host stop): then a CloseError without Remote means the peer never
// answered, hence 1006.
func finalMessage(err error, closeInitiated bool) message {
	m := message{typ: typeClose, code: int(protocol.StatusAbnormalClosure), initiator: initClient}
	var ce *protocol.CloseError
	switch {
	case errors.As(err, &ce) && ce.Received:
		m.code, m.reason = int(ce.Code), ce.Reason
		if !closeInitiated {
			m.initiator = initServer
		}
	case errors.As(err, &ce) && !closeInitiated && ce.Code != protocol.StatusAbnormalClosure:
		// This end failed the connection with ce.Code.
		m.code, m.reason = int(ce.Code), ce.Reason
		if ce.Err != nil {
			cause := causeText(ce.Err)
			if m.reason == "" {
				m.reason = cause
			} else if !strings.Contains(cause, m.reason) {
				m.reason += ": " + cause
			} else {
				m.reason = cause
			}
		}
	case ce != nil:
		switch {
		case closeInitiated && ce.Err != nil && !errors.Is(ce.Err, protocol.ErrClosed):
			m.reason = causeText(ce.Err)
			if !strings.Contains(m.reason, "close frame") {
				m.reason = "no close frame from the peer: " + m.reason
			}
		case ce.Err != nil && !errors.Is(ce.Err, protocol.ErrClosed):
			m.reason = "connection lost: " + causeText(ce.Err)
			if !errors.Is(ce.Err, os.ErrDeadlineExceeded) {
				m.initiator = initServer // cut from the other side
			}
		case closeInitiated:
			m.reason = "no close frame from the peer"
		default:
			m.reason = "connection closed without a close frame"
		}
	case err != nil:
		m.reason = "connection lost: " + causeText(err)
		m.initiator = initServer
	default:
		m.reason = "connection closed without a close frame"
	}
	m.reason = truncateUTF8(m.reason, maxLocalReason)
	m.data = []byte(m.reason)
	return m
}

// causeText is the message of a cause without the "websocket: " prefix;
// network timeouts say which direction timed out.
func causeText(err error) string {
	text := strings.TrimPrefix(err.Error(), "websocket: ")
	var op *net.OpError
	if errors.Is(err, os.ErrDeadlineExceeded) && errors.As(err, &op) {
		return op.Op + " timeout: " + text
	}
	return text
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune, and
// replaces invalid UTF-8 so Lua always sees valid text.
func truncateUTF8(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// errorText is the message of err as returned to Lua (false, err).
func errorText(err error) string {
	var ce *protocol.CloseError
	if errors.As(err, &ce) {
		return fmt.Sprintf("websocket: connection closed (%d %s)", ce.Code, strings.TrimSpace(finalMessage(err, false).reason))
	}
	if errors.Is(err, protocol.ErrClosed) {
		return "websocket: connection closed"
	}
	return err.Error()
}
