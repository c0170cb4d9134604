package testserver

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"time"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// session is one accepted WebSocket connection running a script.
type session struct {
	h   *ConnHandler
	ctx context.Context
	c   *protocol.Conn
	nc  net.Conn
	// The request's path and query, for CloseEvent: the session does not
	// keep the *http.Request (see ServeHTTP).
	path, query string

	// copyBuf is the echo's copy buffer, reused for every message.
	copyBuf []byte

	// Set when a raw read saw the client's close frame.
	gotClose    bool
	closeCode   protocol.StatusCode
	closeReason string
}

// Report is the JSON text message /ping and /pingflood send once the pongs
// they wait for have arrived (or Options.ScriptTimeout has passed).
type Report struct {
	// Count is the number of pongs received.
	Count int `json:"count"`
	// Pongs holds the hex-encoded pong payloads, in order (/ping only).
	Pongs []string `json:"pongs,omitempty"`
	// InOrder reports whether the pong payloads equal the ping payloads,
	// one for one and in order.
	InOrder bool `json:"inorder"`
}

// writeRaw writes b verbatim to the connection.
func (s *session) writeRaw(b []byte) error {
	_, err := s.nc.Write(b)
	return err
}

// writeFrame writes one unmasked frame.
func (s *session) writeFrame(fin bool, rsv byte, op framing.Opcode, payload []byte) error {
	return s.writeRaw(framing.AppendFrame(nil, framing.Header{Fin: fin, Rsv: rsv, Opcode: op}, payload))
}

// echoBufferSize is the size of the echo's copy buffer.
const echoBufferSize = 32 << 10

// echo sends every message back unchanged, streaming it, until the
// connection ends; the error says how it ended.
func (s *session) echo() error {
	for {
		typ, r, err := s.c.Reader(s.ctx)
		if err != nil {
			return err
		}
		w, err := s.c.Writer(s.ctx, typ)
		if err != nil {
			return err
		}
		if s.copyBuf == nil {
			s.copyBuf = make([]byte, echoBufferSize)
		}
		if _, err := io.CopyBuffer(w, r, s.copyBuf); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
}

// writeMessage sends one whole message through protocol.Conn.
func (s *session) writeMessage(typ protocol.MessageType, p []byte) error {
	return s.c.Write(s.ctx, typ, p)
}

// waitPongs reads raw frames until n pongs have arrived or the script
// timeout passes. Pings are answered, data frames discarded; a close frame
// is answered with the same code and ends the session (errClientClosed).
// want, if not nil, holds the expected pong payloads; keep says whether to
// put the pong payloads in the report.
func (s *session) waitPongs(n int, want [][]byte, keep bool) (Report, error) {
	rep := Report{InOrder: true}
	if err := s.nc.SetReadDeadline(time.Now().Add(s.h.opts.scriptTimeout())); err != nil {
		return rep, err
	}
	rr := &rawReader{r: s.nc}
	for rep.Count < n {
		h, err := rr.header()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			return rep, err
		}
		switch h.Opcode {
		case framing.OpPong:
			p, err := rr.payload(h, framing.MaxControlPayload)
			if err != nil && err != errTooLong {
				return rep, err
			}
			if want != nil && (rep.Count >= len(want) || !bytes.Equal(p, want[rep.Count])) {
				rep.InOrder = false
			}
			if keep {
				rep.Pongs = append(rep.Pongs, hex.EncodeToString(p))
			}
			rep.Count++
		case framing.OpPing:
			p, err := rr.payload(h, framing.MaxControlPayload)
			if err != nil && err != errTooLong {
				return rep, err
			}
			if err := s.writeFrame(true, 0, framing.OpPong, p); err != nil {
				return rep, err
			}
		case framing.OpClose:
			if err := s.rawClientClose(rr, h, true); err != nil {
				return rep, err
			}
			return rep, errClientClosed
		default:
			if err := rr.discard(h); err != nil {
				return rep, err
			}
		}
	}
	if rep.Count < len(want) {
		rep.InOrder = false
	}
	return rep, s.nc.SetReadDeadline(time.Time{})
}

// rawClientClose reads the payload of the client's close frame h, records
// it, and, if reply, answers with a close frame carrying the same code.
func (s *session) rawClientClose(rr *rawReader, h framing.Header, reply bool) error {
	p, err := rr.payload(h, framing.MaxControlPayload)
	if err != nil && err != errTooLong {
		return err
	}
	s.gotClose = true
	s.closeCode, s.closeReason = parseClose(p)
	if !reply {
		return nil
	}
	var rp []byte
	if len(p) >= 2 {
		rp = p[:2]
	}
	return s.writeFrame(true, 0, framing.OpClose, rp)
}

// sendReport sends rep as a JSON text message.
func (s *session) sendReport(rep Report) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	return s.writeMessage(protocol.MessageText, b)
}
