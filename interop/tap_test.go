package interop

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"

	"github.com/wslua/wslua/framing"
)

// frameTap wraps a client's net.Conn and decodes the frame headers that go
// through it in both directions (after the HTTP handshake), so a test can
// tell how many frames a message was really sent in: fragmentation is
// checked on the wire, not assumed.
//
// The locks are held across the network call and the decoding, so that the
// decoding order is the wire order even when several goroutines write (with
// coder, net/http's writeLoop goroutine writes the upgrade request and may
// return from it only after the client's first frames went out).
type frameTap struct {
	net.Conn
	rmu, wmu sync.Mutex
	in       tapStream // server to client
	out      tapStream // client to server
}

func (c *frameTap) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	n, err := c.Conn.Read(p)
	c.in.feed(p[:n])
	return n, err
}

func (c *frameTap) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	n, err := c.Conn.Write(p)
	c.out.feed(p[:n])
	return n, err
}

// tapDialer returns a dial function for the client libraries that wraps
// every connection in a frameTap and hands it to got.
func tapDialer(got func(*frameTap)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := &frameTap{Conn: nc}
		got(tc)
		return tc, nil
	}
}

// tapStream decodes one direction of a connection: first the HTTP message
// (up to the blank line), then frame headers, skipping payloads.
type tapStream struct {
	mu        sync.Mutex
	httpDone  bool
	crlf      int // how much of "\r\n\r\n" was just seen
	hdr       [framing.MaxHeaderSize]byte
	hdrN      int
	remaining int64
	msgFrames int        // frames of the data message in progress
	msgs      []int      // frame counts of the completed data messages, in order
	head      []byte     // the HTTP message, up to maxTapHead bytes
	cur       tapMessage // the data message in progress
	msgInfo   []tapMessage
	controls  []framing.Opcode
	// interleaved counts the control frames sent between two fragments of
	// a data message.
	interleaved int
	err         error
}

// feed consumes bytes as they went over the connection.
func (s *tapStream) feed(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(p) > 0 && s.err == nil {
		switch {
		case !s.httpDone:
			c := p[0]
			p = p[1:]
			if len(s.head) < maxTapHead {
				s.head = append(s.head, c)
			}
			if (s.crlf%2 == 0 && c == '\r') || (s.crlf%2 == 1 && c == '\n') {
				s.crlf++
			} else if c == '\r' {
				s.crlf = 1
			} else {
				s.crlf = 0
			}
			s.httpDone = s.crlf == 4
		case s.remaining > 0:
			n := int64(len(p))
			if n > s.remaining {
				n = s.remaining
			}
			p = p[n:]
			s.remaining -= n
		default:
			s.hdr[s.hdrN] = p[0]
			s.hdrN++
			p = p[1:]
			h, _, err := framing.ParseHeader(s.hdr[:s.hdrN])
			if errors.Is(err, framing.ErrShortHeader) {
				continue
			}
			if err != nil {
				s.err = err
				return
			}
			s.hdrN = 0
			s.remaining = h.Length
			s.record(h)
		}
	}
}

func (s *tapStream) record(h framing.Header) {
	if h.Opcode.IsControl() {
		s.controls = append(s.controls, h.Opcode)
		if s.msgFrames > 0 {
			s.interleaved++
		}
		return
	}
	if h.Opcode == framing.OpContinuation {
		s.msgFrames++
	} else {
		s.msgFrames = 1
		s.cur = tapMessage{rsv1: h.Rsv&framing.Rsv1 != 0}
	}
	s.cur.frames = s.msgFrames
	s.cur.wire += h.Length
	if h.Fin {
		s.msgs = append(s.msgs, s.msgFrames)
		s.msgFrames = 0
		s.msgInfo = append(s.msgInfo, s.cur)
	}
}

// maxTapHead bounds the HTTP message a tapStream keeps.
const maxTapHead = 16 << 10

// tapMessage describes a complete data message as it went over the wire.
type tapMessage struct {
	frames int
	rsv1   bool  // RSV1 on the first frame: the message is compressed
	wire   int64 // payload bytes of all its frames (compressed size)
}

// messages returns the complete data messages seen so far, in order, and
// any decoding error.
func (s *tapStream) messages() ([]tapMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]tapMessage(nil), s.msgInfo...), s.err
}

// header returns the values of the HTTP header field name in the HTTP
// message (request or response) that opened the stream, joined by ", ".
func (s *tapStream) header(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var vals []string
	for _, line := range strings.Split(string(s.head), "\r\n")[1:] {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			vals = append(vals, strings.TrimSpace(v))
		}
	}
	return strings.Join(vals, ", ")
}

// interleavedControls returns how many control frames went between two
// fragments of a data message.
func (s *tapStream) interleavedControls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.interleaved
}

// lastMessageFrames returns the frame count of the last complete data
// message, or 0 if there is none, and any decoding error.
func (s *tapStream) lastMessageFrames() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.msgs) == 0 {
		return 0, s.err
	}
	return s.msgs[len(s.msgs)-1], s.err
}
