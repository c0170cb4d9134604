package testserver

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// errTooLong is returned by rawReader.payload for a payload above its bound.
var errTooLong = errors.New("testserver: frame payload too long to keep")

// errClientClosed ends a raw script when the client sent a close frame.
var errClientClosed = errors.New("testserver: client sent a close frame")

// rawReader reads frames from r without reading ahead when r is the bare
// net.Conn: exactly the bytes of each frame are consumed, so protocol.Conn
// can take over the connection afterwards.
type rawReader struct {
	r   io.Reader
	hdr [framing.MaxHeaderSize]byte
	buf []byte // scratch for streamed payloads
}

// header reads one frame header.
func (rr *rawReader) header() (framing.Header, error) {
	if _, err := io.ReadFull(rr.r, rr.hdr[:2]); err != nil {
		return framing.Header{}, err
	}
	n := 2
	switch rr.hdr[1] & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if rr.hdr[1]&0x80 != 0 {
		n += 4
	}
	if _, err := io.ReadFull(rr.r, rr.hdr[2:n]); err != nil {
		return framing.Header{}, noEOF(err)
	}
	h, _, err := framing.ParseHeader(rr.hdr[:n])
	return h, err
}

// payload reads the payload of h, unmasked. A payload longer than max is
// discarded and errTooLong returned, so nothing is allocated from an
// untrusted length beyond max.
func (rr *rawReader) payload(h framing.Header, max int) ([]byte, error) {
	if h.Length > int64(max) {
		if err := rr.discard(h); err != nil {
			return nil, err
		}
		return nil, errTooLong
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(rr.r, p); err != nil {
		return nil, noEOF(err)
	}
	if h.Masked {
		framing.Mask(h.Mask, 0, p)
	}
	return p, nil
}

// discard skips the payload of h.
func (rr *rawReader) discard(h framing.Header) error {
	n, err := io.CopyN(io.Discard, rr.r, h.Length)
	if err == io.EOF && n < h.Length {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// copyPayload streams the payload of h, unmasked, to w.
func (rr *rawReader) copyPayload(w io.Writer, h framing.Header) error {
	if rr.buf == nil {
		rr.buf = make([]byte, 32<<10)
	}
	pos := 0
	for left := h.Length; left > 0; {
		chunk := rr.buf
		if int64(len(chunk)) > left {
			chunk = chunk[:left]
		}
		if _, err := io.ReadFull(rr.r, chunk); err != nil {
			return noEOF(err)
		}
		if h.Masked {
			pos = framing.Mask(h.Mask, pos, chunk)
		}
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		left -= int64(len(chunk))
	}
	return nil
}

// noEOF turns io.EOF inside a frame into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseClose splits a close frame's payload into code and reason: 1005 for
// an empty payload, 1002 for a 1-byte one (which no valid close frame has).
func parseClose(p []byte) (protocol.StatusCode, string) {
	switch len(p) {
	case 0:
		return protocol.StatusNoStatusRcvd, ""
	case 1:
		return protocol.StatusProtocolError, ""
	}
	return protocol.StatusCode(binary.BigEndian.Uint16(p)), string(p[2:])
}

// closePayload encodes a close frame payload.
func closePayload(code uint16, reason string) []byte {
	p := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), code)
	return append(p, reason...)
}

// appendHeader appends a frame header announcing n payload bytes (any
// uint64, so undecodable lengths can be produced too), unmasked.
func appendHeader(dst []byte, fin bool, rsv byte, op framing.Opcode, n uint64) []byte {
	b0 := rsv&(framing.Rsv1|framing.Rsv2|framing.Rsv3) | byte(op&0xF)
	if fin {
		b0 |= 0x80
	}
	switch {
	case n <= 125:
		return append(dst, b0, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(dst, b0, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, b0, 127), n)
	}
}
