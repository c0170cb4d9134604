package framing

import "errors"

// ErrProtocol is matched (with errors.Is) by every error this package returns
// for a frame that breaks RFC 6455. The receiving endpoint should fail the
// connection with status 1002.
var ErrProtocol = errors.New("websocket: protocol error")

// ErrShortHeader is returned by ParseHeader when b does not yet hold a
// complete header. It is not a protocol error: read more bytes and retry.
var ErrShortHeader = errors.New("websocket: short frame header")

// ProtocolError describes which rule of RFC 6455 a frame header broke.
type ProtocolError struct {
	Reason string
}

// Error implements error.
func (e *ProtocolError) Error() string { return "websocket: protocol error: " + e.Reason }

// Is makes errors.Is(err, ErrProtocol) true for every ProtocolError.
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }

// Preallocated errors keep the failure path free of allocations too.
var (
	errReservedOpcode     = &ProtocolError{"reserved opcode"}
	errReservedBits       = &ProtocolError{"reserved bits set without a negotiated extension"}
	errControlTooLong     = &ProtocolError{"control frame payload longer than 125 bytes"}
	errControlFragmented  = &ProtocolError{"fragmented control frame"}
	errLengthTopBit       = &ProtocolError{"64-bit payload length with its most significant bit set"}
	errMaskedFromServer   = &ProtocolError{"masked frame from server"}
	errUnmaskedFromClient = &ProtocolError{"unmasked frame from client"}
)
