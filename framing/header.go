package framing

import (
	"bufio"
	"encoding/binary"
	"io"
)

// MaxHeaderSize is the largest encoded header: 2 fixed bytes, an 8-byte
// extended length and a 4-byte masking key.
const MaxHeaderSize = 14

// MaxControlPayload is the largest payload a control frame may carry.
const MaxControlPayload = 125

// Bits of the first header byte.
const (
	finBit = 0x80
	// Rsv1 is the first reserved bit (used by permessage-deflate).
	Rsv1 byte = 0x40
	// Rsv2 is the second reserved bit.
	Rsv2 byte = 0x20
	// Rsv3 is the third reserved bit.
	Rsv3    byte = 0x10
	maskBit      = 0x80
)

// Header is a decoded frame header.
type Header struct {
	Fin    bool    // final fragment of a message
	Rsv    byte    // reserved bits exactly as in the first byte: any of Rsv1|Rsv2|Rsv3
	Opcode Opcode  // frame type
	Masked bool    // payload is masked with Mask
	Mask   [4]byte // masking key, meaningful when Masked
	Length int64   // payload length in bytes
}

// Size returns the number of bytes the header occupies when encoded.
func (h *Header) Size() int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// Put encodes h into the start of b, which must be at least h.Size() (at most
// MaxHeaderSize) bytes long, and returns the number of bytes written. The
// shortest length form is always used. A negative Length is encoded as 0.
func (h *Header) Put(b []byte) int {
	b0 := h.Rsv&(Rsv1|Rsv2|Rsv3) | byte(h.Opcode&0xF)
	if h.Fin {
		b0 |= finBit
	}
	var b1 byte
	if h.Masked {
		b1 = maskBit
	}
	n := 2
	switch l := h.Length; {
	case l <= 0:
		b[1] = b1
	case l <= 125:
		b[1] = b1 | byte(l)
	case l <= 0xFFFF:
		b[1] = b1 | 126
		binary.BigEndian.PutUint16(b[2:4], uint16(l))
		n = 4
	default:
		b[1] = b1 | 127
		binary.BigEndian.PutUint64(b[2:10], uint64(l))
		n = 10
	}
	b[0] = b0
	if h.Masked {
		copy(b[n:n+4], h.Mask[:])
		n += 4
	}
	return n
}

// Append appends the encoded header to dst.
func (h *Header) Append(dst []byte) []byte {
	var buf [MaxHeaderSize]byte
	n := h.Put(buf[:])
	return append(dst, buf[:n]...)
}

// ParseHeader decodes the header at the start of b and returns it with the
// number of bytes it occupied. If b holds only part of a header it returns
// ErrShortHeader. The only rule checked here is the one that makes a header
// undecodable (a 64-bit length with its top bit set); use Check for the rest.
func ParseHeader(b []byte) (h Header, n int, err error) {
	if len(b) < 2 {
		return h, 0, ErrShortHeader
	}
	n = headerLen(b[0], b[1])
	if len(b) < n {
		return h, 0, ErrShortHeader
	}
	return decode(b[:n])
}

// headerLen returns the encoded size of a header from its first two bytes.
func headerLen(b0, b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&maskBit != 0 {
		n += 4
	}
	return n
}

// decode decodes a header from b, which holds exactly the header's bytes.
func decode(b []byte) (h Header, n int, err error) {
	b0, b1 := b[0], b[1]
	h.Fin = b0&finBit != 0
	h.Rsv = b0 & (Rsv1 | Rsv2 | Rsv3)
	h.Opcode = Opcode(b0 & 0xF)
	h.Masked = b1&maskBit != 0
	n = 2
	switch l := b1 & 0x7F; l {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(b[2:4]))
		n = 4
	case 127:
		v := binary.BigEndian.Uint64(b[2:10])
		if v>>63 != 0 {
			return h, 0, errLengthTopBit
		}
		h.Length = int64(v)
		n = 10
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// ReadHeader reads and decodes one frame header from br without allocating.
// It returns io.ErrUnexpectedEOF if the stream ends inside a header, io.EOF
// if it ends before the first byte.
func ReadHeader(br *bufio.Reader) (Header, error) {
	b, err := br.Peek(2)
	if err != nil {
		if len(b) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Header{}, err
	}
	size := headerLen(b[0], b[1])
	if b, err = br.Peek(size); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Header{}, err
	}
	h, n, err := decode(b)
	if err != nil {
		return h, err
	}
	_, _ = br.Discard(n) // cannot fail: the bytes are buffered
	return h, nil
}

// Check applies the rules of RFC 6455, section 5 that do not depend on
// connection state: no reserved opcode, no reserved bit outside allowedRsv
// (the bits negotiated extensions use), control frames unfragmented and at
// most 125 bytes long, and masking as the receiving side requires: frames a
// server receives must be masked (wantMasked true), frames a client receives
// must not be.
func (h *Header) Check(allowedRsv byte, wantMasked bool) error {
	switch {
	case h.Opcode.IsReserved():
		return errReservedOpcode
	case h.Rsv&^allowedRsv != 0:
		return errReservedBits
	case h.Opcode.IsControl() && h.Length > MaxControlPayload:
		return errControlTooLong
	case h.Opcode.IsControl() && !h.Fin:
		return errControlFragmented
	case h.Masked && !wantMasked:
		return errMaskedFromServer
	case !h.Masked && wantMasked:
		return errUnmaskedFromClient
	}
	return nil
}
