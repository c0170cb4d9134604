package protocol

import "strconv"

// StatusCode is a close status code (RFC 6455, section 7.4).
type StatusCode int

// Close status codes registered by RFC 6455 (section 7.4.1) and IANA.
// 1004, 1005, 1006 and 1015 are never sent in a close frame: 1005 and 1006
// only appear in a CloseError to say that no code was received or that the
// connection ended without a close frame.
const (
	StatusNormalClosure           StatusCode = 1000
	StatusGoingAway               StatusCode = 1001
	StatusProtocolError           StatusCode = 1002
	StatusUnsupportedData         StatusCode = 1003
	StatusReserved                StatusCode = 1004
	StatusNoStatusRcvd            StatusCode = 1005
	StatusAbnormalClosure         StatusCode = 1006
	StatusInvalidFramePayloadData StatusCode = 1007
	StatusPolicyViolation         StatusCode = 1008
	StatusMessageTooBig           StatusCode = 1009
	StatusMandatoryExtension      StatusCode = 1010
	StatusInternalError           StatusCode = 1011
	StatusServiceRestart          StatusCode = 1012
	StatusTryAgainLater           StatusCode = 1013
	StatusBadGateway              StatusCode = 1014
	StatusTLSHandshake            StatusCode = 1015
)

// String returns the code's name as registered, or its number.
func (s StatusCode) String() string {
	switch s {
	case StatusNormalClosure:
		return "normal closure"
	case StatusGoingAway:
		return "going away"
	case StatusProtocolError:
		return "protocol error"
	case StatusUnsupportedData:
		return "unsupported data"
	case StatusReserved:
		return "reserved"
	case StatusNoStatusRcvd:
		return "no status received"
	case StatusAbnormalClosure:
		return "abnormal closure"
	case StatusInvalidFramePayloadData:
		return "invalid frame payload data"
	case StatusPolicyViolation:
		return "policy violation"
	case StatusMessageTooBig:
		return "message too big"
	case StatusMandatoryExtension:
		return "mandatory extension"
	case StatusInternalError:
		return "internal error"
	case StatusServiceRestart:
		return "service restart"
	case StatusTryAgainLater:
		return "try again later"
	case StatusBadGateway:
		return "bad gateway"
	case StatusTLSHandshake:
		return "TLS handshake"
	}
	return "status " + strconv.Itoa(int(s))
}

// validWireCode reports whether code may appear in a close frame, sent or
// received: 1000-1003 and 1007-1014 (defined by RFC 6455 and the IANA
// registry), 3000-3999 (registered by libraries and frameworks) and
// 4000-4999 (private use). 1004-1006 and 1015 are reserved for local use.
func validWireCode(code StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003,
		code >= 1007 && code <= 1014,
		code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// maxCloseReason is the longest reason a close frame can carry: a control
// payload holds 125 bytes, two of which are the code.
const maxCloseReason = 123
