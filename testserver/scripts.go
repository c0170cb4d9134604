package testserver

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// plan is what a route decides before the upgrade.
type plan struct {
	run          func(*session) error
	limit        int64 // read limit of the connection
	subprotocols bool  // offer Options.Subprotocols
}

// route validates a request's query and returns its plan; an error is
// answered with 400 before the upgrade.
type route func(h *ConnHandler, r *http.Request) (plan, error)

// script is one entry of the table of scripted paths: the path, a one-line
// summary (for Paths) and the route.
type script struct {
	path    string
	summary string
	route   route
}

// scripts lists the scripted paths, in the order Paths reports them, and
// routes maps each path to its route. Both are filled in init to break the
// initialization cycle through ServeHTTP.
var (
	scripts []script
	routes  map[string]route
)

func init() {
	scripts = []script{
		{"/", "echo every text and binary message (?limit=N lowers the read limit)", routeEcho},
		{"/echo", "the same as /", routeEcho},
		{"/ping", "send pings (?data=x&count=n&hex=..), wait for the pongs, report them as JSON, then echo", routePing},
		{"/pong", "send an unsolicited pong (?data=x), then echo", routePong},
		{"/fragmented", "send a message in fragments (?text=..&parts=n&ping=1&binary=1), then echo", routeFragmented},
		{"/close", "send a close frame (?code=1001&reason=bye&hex=..) and wait for the reply", routeClose},
		{"/masked", "send a masked frame (a server must not), then echo", routeMasked},
		{"/badutf8", "send text that is not UTF-8 (?frag=1: as a first fragment), then echo", routeBadUTF8},
		{"/oversize", "announce a huge frame (?n=N&huge=1&op=2&payload=1), then echo", routeOversize},
		{"/drop", "drop the TCP connection mid-frame (?after=header|payload|fragment)", routeDrop},
		{"/stall", "complete the handshake, then never send or read (?drain=1: read and discard)", routeStall},
		{"/noclose", "echo, but never answer a close frame", routeNoClose},
		{"/rsv", "send a frame with reserved bits set (?bit=1&bit=3&op=1), then echo", routeRSV},
		{"/opcode", "send a frame with a reserved opcode (?op=3&after=1), then echo", routeOpcode},
		{"/pingflood", "send many pings and some data (?n=1000&every=10), report the pongs, then echo", routePingFlood},
		{"/halfclose", "half-close TCP right after the handshake", routeHalfClose},
		{"/send", "send the given messages (?text=..&binary=.., repeatable), then echo", routeSend},
		{"/subprotocol", "echo, with subprotocols to choose from (chat, superchat)", routeSubprotocol},
		{"/headers", "send the request headers as JSON, then echo", routeHeaders},
		{"/raw", "write the given bytes verbatim (?hex=..), then echo", routeRaw},
	}
	routes = make(map[string]route, len(scripts))
	for _, sc := range scripts {
		routes[sc.path] = sc.route
	}
}

// Limits on script parameters.
const (
	maxPings      = 1000
	maxFloodPings = 10000
	maxParts      = 1000
	maxRawPayload = 64 << 20 // largest payload /oversize?payload=1 sends
)

// echoPlan returns a plan that runs pre (if any) and then echoes.
func (h *ConnHandler) echoPlan(pre func(*session) error) plan {
	return plan{
		limit: h.opts.maxMessageSize(),
		run: func(s *session) error {
			if pre != nil {
				if err := pre(s); err != nil {
					return err
				}
			}
			return s.echo()
		},
	}
}

// intParam parses the integer parameter name of q, within [min, max].
func intParam(q url.Values, name string, def, min, max int64) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min || n > max {
		return 0, fmt.Errorf("parameter %s=%q: want an integer in [%d, %d]", name, v, min, max)
	}
	return n, nil
}

// flagParam reports whether the parameter name is "1" or "true".
func flagParam(q url.Values, name string) bool {
	v := q.Get(name)
	return v == "1" || v == "true"
}

// bytesParam returns the bytes of hex parameter hexName if present, else of
// parameter name, else def.
func bytesParam(q url.Values, name, hexName string, def []byte) ([]byte, error) {
	if v, ok := q[hexName]; ok && len(v) > 0 {
		b, err := hex.DecodeString(v[0])
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %v", hexName, err)
		}
		return b, nil
	}
	if v, ok := q[name]; ok && len(v) > 0 {
		return []byte(v[0]), nil
	}
	return def, nil
}

func routeEcho(h *ConnHandler, r *http.Request) (plan, error) {
	p := h.echoPlan(nil)
	// ?limit= only lowers the read limit: MaxMessageSize stays the most a
	// client can make the server buffer.
	limit, err := intParam(r.URL.Query(), "limit", p.limit, 1, p.limit)
	p.limit = limit
	return p, err
}

func routeSubprotocol(h *ConnHandler, r *http.Request) (plan, error) {
	p := h.echoPlan(nil)
	p.subprotocols = true
	return p, nil
}

func routePing(h *ConnHandler, r *http.Request) (plan, error) {
	q := r.URL.Query()
	data, err := bytesParam(q, "data", "hex", nil)
	if err != nil {
		return plan{}, err
	}
	count, err := intParam(q, "count", 1, 1, maxPings)
	if err != nil {
		return plan{}, err
	}
	payloads := make([][]byte, count)
	for i := range payloads {
		p := data
		if count > 1 {
			p = strconv.AppendInt(append([]byte(nil), data...), int64(i), 10)
		}
		if len(p) > framing.MaxControlPayload {
			return plan{}, fmt.Errorf("ping payload of %d bytes: at most %d", len(p), framing.MaxControlPayload)
		}
		payloads[i] = p
	}
	return h.echoPlan(func(s *session) error {
		for _, p := range payloads {
			if err := s.writeFrame(true, 0, framing.OpPing, p); err != nil {
				return err
			}
		}
		rep, err := s.waitPongs(len(payloads), payloads, true)
		if err != nil {
			return err
		}
		return s.sendReport(rep)
	}), nil
}

func routePingFlood(h *ConnHandler, r *http.Request) (plan, error) {
	q := r.URL.Query()
	n, err := intParam(q, "n", 1000, 1, maxFloodPings)
	if err != nil {
		return plan{}, err
	}
	every, err := intParam(q, "every", 10, 1, maxFloodPings)
	if err != nil {
		return plan{}, err
	}
	return h.echoPlan(func(s *session) error {
		want := make([][]byte, n)
		bw := bufio.NewWriter(s.nc)
		var buf []byte
		for i := range n {
			want[i] = strconv.AppendInt(nil, i, 10)
			buf = framing.AppendFrame(buf[:0], framing.Header{Fin: true, Opcode: framing.OpPing}, want[i])
			if (i+1)%every == 0 || i == n-1 {
				buf = framing.AppendFrame(buf, framing.Header{Fin: true, Opcode: framing.OpText}, []byte("data-"+strconv.FormatInt(i, 10)))
			}
			if _, err := bw.Write(buf); err != nil {
				return err
			}
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		rep, err := s.waitPongs(int(n), want, false)
		if err != nil {
			return err
		}
		return s.sendReport(rep)
	}), nil
}

func routePong(h *ConnHandler, r *http.Request) (plan, error) {
	data, err := bytesParam(r.URL.Query(), "data", "hex", []byte("unsolicited"))
	if err != nil {
		return plan{}, err
	}
	if len(data) > framing.MaxControlPayload {
		return plan{}, fmt.Errorf("pong payload of %d bytes: at most %d", len(data), framing.MaxControlPayload)
	}
	return h.echoPlan(func(s *session) error {
		return s.writeFrame(true, 0, framing.OpPong, data)
	}), nil
}

func routeFragmented(h *ConnHandler, r *http.Request) (plan, error) {
	q := r.URL.Query()
	text, err := bytesParam(q, "text", "hex", []byte("fragmented message"))
	if err != nil {
		return plan{}, err
	}
	parts, err := intParam(q, "parts", 2, 1, maxParts)
	if err != nil {
		return plan{}, err
	}
	op := framing.OpText
	if flagParam(q, "binary") {
		op = framing.OpBinary
	}
	ping := flagParam(q, "ping")
	return h.echoPlan(func(s *session) error {
		var buf []byte
		for i := range parts {
			lo, hi := int64(len(text))*i/parts, int64(len(text))*(i+1)/parts
			fop := framing.OpContinuation
			if i == 0 {
				fop = op
			}
			last := i == parts-1
			buf = framing.AppendFrame(buf, framing.Header{Fin: last, Opcode: fop}, text[lo:hi])
			if ping && !last {
				buf = framing.AppendFrame(buf, framing.Header{Fin: true, Opcode: framing.OpPing}, []byte("frag-ping"))
			}
		}
		return s.writeRaw(buf)
	}), nil
}

func routeClose(h *ConnHandler, r *http.Request) (plan, error) {
	q := r.URL.Query()
	var payload []byte
	switch {
	case q.Has("hex"):
		b, err := hex.DecodeString(q.Get("hex"))
		if err != nil {
			return plan{}, fmt.Errorf("parameter hex: %v", err)
		}
		payload = b
	case q.Has("code"):
		code, err := intParam(q, "code", 0, 0, math.MaxUint16)
		if err != nil {
			return plan{}, err
		}
		payload = closePayload(uint16(code), q.Get("reason"))
	case q.Has("reason"):
		return plan{}, errors.New("parameter reason needs a code")
	}
	if len(payload) > framing.MaxControlPayload {
		return plan{}, fmt.Errorf("close payload of %d bytes: at most %d", len(payload), framing.MaxControlPayload)
	}
	return plan{
		limit: h.opts.maxMessageSize(),
		run: func(s *session) error {
			if err := s.writeFrame(true, 0, framing.OpClose, payload); err != nil {
				return err
			}
			// Wait for the client's close frame, then drop the TCP
			// connection (the server closes first, RFC 6455 section 7.1.1).
			if err := s.nc.SetReadDeadline(time.Now().Add(s.h.opts.scriptTimeout())); err != nil {
				return err
			}
			rr := &rawReader{r: bufio.NewReader(s.nc)}
			for {
				fh, err := rr.header()
				if err != nil {
					return err
				}
				if fh.Opcode == framing.OpClose {
					return s.rawClientClose(rr, fh, false)
				}
				if err := rr.discard(fh); err != nil {
					return err
				}
			}
		},
	}, nil
}

func routeMasked(h *ConnHandler, r *http.Request) (plan, error) {
	return h.echoPlan(func(s *session) error {
		hd := framing.Header{Fin: true, Opcode: framing.OpText, Masked: true, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}}
		return s.writeRaw(framing.AppendFrame(nil, hd, []byte("masked")))
	}), nil
}

// Default payloads of /badutf8: a Greek word followed by an encoded
// surrogate (U+D800), and, for frag=1, followed by F4 90, a prefix no valid
// UTF-8 sequence starts with (it would encode a code point above U+10FFFF).
var (
	badUTF8Message  = []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited")
	badUTF8Fragment = []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90")
)

func routeBadUTF8(h *ConnHandler, r *http.Request) (plan, error) {
	q := r.URL.Query()
	frag := flagParam(q, "frag")
	def := badUTF8Message
	if frag {
		def = badUTF8Fragment
	}
	payload, err := bytesParam(q, "", "hex", def)
	if err != nil {
		return plan{}, err
	}
	return h.echoPlan(func(s *session) error {
		return s.writeFrame(!frag, 0, framing.OpText, payload)
	}), nil
}

func routeOversize(h *ConnHandler, r *http.Request) (plan, error) {
	q := r.URL.Query()
	n := uint64(1 << 20)
	if v := q.Get("n"); v != "" {
		var err error
		if n, err = strconv.ParseUint(v, 10, 64); err != nil {
			return plan{}, fmt.Errorf("parameter n=%q: want an unsigned integer", v)
		}
	}
	if flagParam(q, "huge") {
		n = math.MaxInt64
	}
	op, err := intParam(q, "op", int64(framing.OpBinary), 0, 15)
	if err != nil {
		return plan{}, err
	}
	withPayload := flagParam(q, "payload")
	if withPayload && n > maxRawPayload {
		return plan{}, fmt.Errorf("payload=1 needs n <= %d", maxRawPayload)
	}
	return h.echoPlan(func(s *session) error {
		if err := s.writeRaw(appendHeader(nil, true, 0, framing.Opcode(op), n)); err != nil {
			return err
		}
		if !withPayload {
			return nil
		}
		chunk := make([]byte, 32<<10)
		for i := range chunk {
			chunk[i] = 'x'
		}
		for left := n; left > 0; {
			c := chunk
			if uint64(len(c)) > left {
				c = c[:left]
			}
			if err := s.writeRaw(c); err != nil {
				return err
			}
			left -= uint64(len(c))
		}
		return nil
	}), nil
}

func routeDrop(h *ConnHandler, r *http.Request) (plan, error) {
	var b []byte
	switch after := r.URL.Query().Get("after"); after {
	case "", "header":
		// A text frame header whose 16-bit extended length is cut short.
		b = []byte{0x81, 126, 0x01}
	case "payload":
		b = append(appendHeader(nil, true, 0, framing.OpText, 10), "hello"...)
	case "fragment":
		b = framing.AppendFrame(nil, framing.Header{Opcode: framing.OpText}, []byte("first fragment"))
	default:
		return plan{}, fmt.Errorf("parameter after=%q: want header, payload or fragment", after)
	}
	return plan{run: func(s *session) error { return s.writeRaw(b) }}, nil
}

func routeStall(h *ConnHandler, r *http.Request) (plan, error) {
	drain := flagParam(r.URL.Query(), "drain")
	return plan{run: func(s *session) error {
		if drain {
			_, err := io.Copy(io.Discard, s.nc)
			return err
		}
		var one [1]byte
		if _, err := s.nc.Read(one[:]); err != nil {
			return err
		}
		<-s.ctx.Done()
		return s.ctx.Err()
	}}, nil
}

func routeNoClose(h *ConnHandler, r *http.Request) (plan, error) {
	return plan{run: func(s *session) error {
		rr := &rawReader{r: bufio.NewReader(s.nc)}
		bw := bufio.NewWriter(s.nc)
		for {
			fh, err := rr.header()
			if err != nil {
				return err
			}
			switch fh.Opcode {
			case framing.OpClose:
				if err := s.rawClientClose(rr, fh, false); err != nil {
					return err
				}
			case framing.OpPing:
				p, err := rr.payload(fh, framing.MaxControlPayload)
				if err != nil && err != errTooLong {
					return err
				}
				if err := s.writeFrame(true, 0, framing.OpPong, p); err != nil {
					return err
				}
			case framing.OpPong:
				if err := rr.discard(fh); err != nil {
					return err
				}
			default:
				out := framing.Header{Fin: fh.Fin, Rsv: fh.Rsv, Opcode: fh.Opcode, Length: fh.Length}
				if _, err := bw.Write(out.Append(nil)); err != nil {
					return err
				}
				if err := rr.copyPayload(bw, fh); err != nil {
					return err
				}
				if err := bw.Flush(); err != nil {
					return err
				}
			}
		}
	}}, nil
}

func routeRSV(h *ConnHandler, r *http.Request) (plan, error) {
	q := r.URL.Query()
	var rsv byte
	for _, v := range q["bit"] {
		switch v {
		case "1":
			rsv |= framing.Rsv1
		case "2":
			rsv |= framing.Rsv2
		case "3":
			rsv |= framing.Rsv3
		default:
			return plan{}, fmt.Errorf("parameter bit=%q: want 1, 2 or 3", v)
		}
	}
	if rsv == 0 {
		rsv = framing.Rsv1
	}
	op, err := intParam(q, "op", int64(framing.OpText), 0, 15)
	if err != nil {
		return plan{}, err
	}
	return h.echoPlan(func(s *session) error {
		return s.writeFrame(true, rsv, framing.Opcode(op), []byte("rsv"))
	}), nil
}

func routeOpcode(h *ConnHandler, r *http.Request) (plan, error) {
	q := r.URL.Query()
	op, err := intParam(q, "op", 3, 0, 15)
	if err != nil {
		return plan{}, err
	}
	after := flagParam(q, "after")
	return h.echoPlan(func(s *session) error {
		var b []byte
		if after {
			b = framing.AppendFrame(b, framing.Header{Fin: true, Opcode: framing.OpText}, []byte("hello"))
		}
		b = framing.AppendFrame(b, framing.Header{Fin: true, Opcode: framing.Opcode(op)}, []byte("opcode"))
		return s.writeRaw(b)
	}), nil
}

func routeHalfClose(h *ConnHandler, r *http.Request) (plan, error) {
	return plan{run: func(s *session) error {
		cw, ok := s.nc.(interface{ CloseWrite() error })
		if !ok {
			return fmt.Errorf("testserver: %T cannot half-close", s.nc)
		}
		if err := cw.CloseWrite(); err != nil {
			return err
		}
		_, err := io.Copy(io.Discard, s.nc)
		return err
	}}, nil
}

// message is one message of /send.
type message struct {
	typ protocol.MessageType
	p   []byte
}

func routeSend(h *ConnHandler, r *http.Request) (plan, error) {
	var msgs []message
	// The query is split by hand: url.Values forgets the order of keys.
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		val, err := url.QueryUnescape(v)
		if err != nil {
			return plan{}, fmt.Errorf("parameter %s: %v", k, err)
		}
		switch k {
		case "text":
			msgs = append(msgs, message{protocol.MessageText, []byte(val)})
		case "binary":
			msgs = append(msgs, message{protocol.MessageBinary, []byte(val)})
		default:
			return plan{}, fmt.Errorf("unknown parameter %q: want text or binary", k)
		}
	}
	return h.echoPlan(func(s *session) error {
		for _, m := range msgs {
			if err := s.writeMessage(m.typ, m.p); err != nil {
				return err
			}
		}
		return nil
	}), nil
}

func routeHeaders(h *ConnHandler, r *http.Request) (plan, error) {
	hdr := r.Header.Clone()
	hdr.Set("Host", r.Host)
	b, err := json.Marshal(hdr)
	if err != nil {
		return plan{}, err
	}
	return h.echoPlan(func(s *session) error {
		return s.writeMessage(protocol.MessageText, b)
	}), nil
}

func routeRaw(h *ConnHandler, r *http.Request) (plan, error) {
	b, err := bytesParam(r.URL.Query(), "", "hex", nil)
	if err != nil {
		return plan{}, err
	}
	return h.echoPlan(func(s *session) error {
		if len(b) == 0 {
			return nil
		}
		return s.writeRaw(b)
	}), nil
}
