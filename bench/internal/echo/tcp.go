package echo

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
)

// The TCP baseline frames a message as a 4-byte big-endian length followed by
// the payload: the least any message protocol over TCP must do. Its server
// and client use the same buffer sizes as the WebSocket implementations'
// defaults (4 KiB).

// TCPBufferSize is the size of the TCP baseline's bufio buffers.
const TCPBufferSize = 4096

// errTCPTooBig reports a length prefix above MaxMessage.
var errTCPTooBig = errors.New("echo: tcp message too big")

// TCPReadMessage reads one length-prefixed message from br into dst[:0] and
// returns it; dst is reused when large enough.
func TCPReadMessage(br *bufio.Reader, dst []byte) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return dst[:0], err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxMessage {
		return dst[:0], errTCPTooBig
	}
	if uint32(cap(dst)) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	_, err := io.ReadFull(br, dst)
	return dst, err
}

// TCPWriteMessage writes one length-prefixed message to bw and flushes it.
func TCPWriteMessage(bw *bufio.Writer, p []byte) error {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(p)))
	if _, err := bw.Write(hdr[:]); err != nil {
		return err
	}
	if _, err := bw.Write(p); err != nil {
		return err
	}
	return bw.Flush()
}

// serveTCP serves one TCP baseline connection.
func (s *Server) serveTCP(c net.Conn) {
	br := bufio.NewReaderSize(c, TCPBufferSize)
	bw := bufio.NewWriterSize(c, TCPBufferSize)
	mode, err := br.ReadByte()
	if err != nil {
		return
	}
	var buf []byte
	for n := 1; ; n++ {
		if buf, err = TCPReadMessage(br, buf); err != nil {
			return
		}
		switch mode {
		case TCPEcho:
			err = TCPWriteMessage(bw, buf)
		case TCPSink:
			if n%AckEvery == 0 {
				err = TCPWriteMessage(bw, Ack)
			}
		default:
			return
		}
		if err != nil {
			return
		}
	}
}
