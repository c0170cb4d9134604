package framing

// Opcode is the 4-bit frame type of RFC 6455, section 5.2.
type Opcode byte

// Opcodes defined by RFC 6455. The values 0x3-0x7 and 0xB-0xF are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether o is a control opcode (close, ping, pong or a
// reserved control value): its most significant bit is set.
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// IsReserved reports whether o is one of the opcodes RFC 6455 reserves for
// future use (0x3-0x7 and 0xB-0xF) or is not a 4-bit value at all.
func (o Opcode) IsReserved() bool {
	switch o {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the opcode's name as used in RFC 6455.
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	const hex = "0123456789abcdef"
	s := "reserved(0x"
	if o > 0xF { // not a 4-bit value: name it whole, not by its low bits
		s += hex[o>>4 : o>>4+1]
	}
	return s + hex[o&0xF:o&0xF+1] + ")"
}
