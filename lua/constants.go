package lua

import (
	"github.com/wslua/wslua/protocol"
)

// Message type names as seen by Lua scripts (websocket.TYPE_*).
const (
	typeText   = "text"
	typeBinary = "binary"
	typePing   = "ping"
	typePong   = "pong"
	typeClose  = "close"
)

// messageTypes lists the websocket.TYPE_* constants.
var messageTypes = []struct {
	name  string
	value string
}{
	{"TYPE_TEXT", typeText},
	{"TYPE_BINARY", typeBinary},
	{"TYPE_PING", typePing},
	{"TYPE_PONG", typePong},
	{"TYPE_CLOSE", typeClose},
}

// closeCodes lists websocket.CLOSE_CODES, all sixteen names of the spec.
var closeCodes = []struct {
	name string
	code protocol.StatusCode
}{
	{"NORMAL", protocol.StatusNormalClosure},
	{"GOING_AWAY", protocol.StatusGoingAway},
	{"PROTOCOL_ERROR", protocol.StatusProtocolError},
	{"UNSUPPORTED_DATA", protocol.StatusUnsupportedData},
	{"RESERVED", protocol.StatusReserved},
	{"NO_STATUS", protocol.StatusNoStatusRcvd},
	{"ABNORMAL_CLOSURE", protocol.StatusAbnormalClosure},
	{"INVALID_PAYLOAD", protocol.StatusInvalidFramePayloadData},
	{"POLICY_VIOLATION", protocol.StatusPolicyViolation},
	{"MESSAGE_TOO_BIG", protocol.StatusMessageTooBig},
	{"MANDATORY_EXTENSION", protocol.StatusMandatoryExtension},
	{"INTERNAL_ERROR", protocol.StatusInternalError},
	{"SERVICE_RESTART", protocol.StatusServiceRestart},
	{"TRY_AGAIN_LATER", protocol.StatusTryAgainLater},
	{"BAD_GATEWAY", protocol.StatusBadGateway},
	{"TLS_HANDSHAKE", protocol.StatusTLSHandshake},
}

// sendableCloseCode reports whether an endpoint may put code in a close
// frame (RFC 6455, section 7.4): 1000-1003, 1007-1014 and 3000-4999.
// 1004-1006 and 1015 are reserved for local use, 1016-2999 for future
// protocol revisions.
func sendableCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
