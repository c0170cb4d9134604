package lua

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	glua "github.com/yuin/gopher-lua"
	"golang.org/x/net/idna"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// Failing in stream order.
//
// A script sees messages in the order they came. When a frame that must
// fail the connection (a reserved bit or opcode, a continuation with
// nothing to continue, a message over max_message_size) arrives in the same
// burst as valid messages, the reader would read ahead, meet the bad frame
// and fail the connection before the script had even received the valid
// messages before it: their answers (an echo) would never go out. Instead
// the connection fails in stream order: the messages before the bad frame
// are delivered, then the final close message; only once the script has
// received that message (so it has dealt with everything before it), or
// after close_timeout at the latest, does the connection send its close
// frame and end.
//
// The protocol package acts on a violation at once, inside Read, so the
// client stops it from seeing the bad frame: a frameGuard between the
// protocol and the TCP connection follows the frame headers in the byte
// stream, applies the same header rules, and holds back the bytes from the
// first bad frame on until the client lets them through. This needs the
// plain byte stream: for ws:// connections made directly (not through a
// proxy, not TLS) only; other connections fail at once, as the protocol
// does.

// guardFailure is a violation the guard found: the code and cause the
// protocol will fail the connection with.
type guardFailure struct {
	code protocol.StatusCode
	err  error
}

// Causes the guard finds itself (the others come from framing's Check).
var (
	errOrphanContinuation  = errors.New("protocol error: continuation frame without a message to continue")
	errMissingContinuation = errors.New("protocol error: new data frame inside a fragmented message")
)

// frameGuard wraps the TCP connection of a client (to the server, or to
// its proxy). It counts the bytes read and written (the keepalive takes
// moving bytes as a sign of life), and on a direct ws:// connection (scan)
// it follows the frames. It reads for the handshake and then for the
// protocol's reader; Read is never called concurrently.
type frameGuard struct {
	net.Conn
	scanning bool                                        // follow the frames (plain bytes of a direct ws:// connection)
	moved    atomic.Int64                                // bytes read and written so far
	limit    int64                                       // max_message_size
	deflate  bool                                        // permessage-deflate offered: RSV1 on first frames is allowed
	hold     func(done <-chan struct{}, f *guardFailure) // the client's wait, on the reader goroutine
	closed   chan struct{}                               // closed by Close: a hold ends
	closeMu  sync.Once

	// Scanning state.
	head       []byte // the tail of the HTTP response head while it is read
	inHead     bool
	off        bool // scanning ended (a bad frame or a close frame was seen)
	hdr        [framing.MaxHeaderSize]byte
	hdrN       int   // header bytes gathered
	skip       int64 // payload bytes of the current frame still to pass
	fragmented bool  // inside a fragmented data message
	msgSize    int64 // payload bytes of the current data message

	held    []byte // bytes from the bad frame on, not yet given to the protocol
	heldErr error  // the error of the read that brought them
	fail    *guardFailure
	waited  bool

	// Where the data messages end in the stream (see idle.go): scanned
	// counts the bytes scanned, passed those given to the protocol, ends
	// holds the stream offsets where the data messages scanned but not yet
	// returned by the protocol end (their final frame's last byte + 1).
	scanned  int64
	passed   int64
	ends     []int64 // ends[endsHead:] are pending
	endsHead int
	headEnd  int64                 // where the HTTP response head ended
	peek     [1]byte               // for wouldBlock
	raw      syscall.RawConn       // the socket, once waitReadable needed it
	readable func(fd uintptr) bool // g.checkReadable, made once
	polled   bool                  // checkReadable: the peek found nothing, the poller was asked
	// shallowWaits counts the reader's waits in waitReadable (for tests).
	shallowWaits atomic.Int64
}

func newFrameGuard(nc net.Conn, limit int64, deflate bool, hold func(<-chan struct{}, *guardFailure)) *frameGuard {
	return &frameGuard{Conn: nc, scanning: true, limit: limit, deflate: deflate, hold: hold, inHead: true, closed: make(chan struct{})}
}

// meterChunk bounds one network write, so that a long write to a slow
// peer shows progress as it goes.
const meterChunk = 64 << 10

// Write writes to the connection, counting the bytes.
func (g *frameGuard) Write(p []byte) (int, error) {
	total := 0
	for {
		chunk := p[:min(len(p), meterChunk)]
		n, err := g.Conn.Write(chunk)
		g.moved.Add(int64(n))
		total += n
		p = p[n:]
		if err != nil || len(p) == 0 {
			return total, err
		}
	}
}

// SyscallConn exposes the socket for the protocol's non-blocking writes
// (TryWrite); reads always go through Read.
func (g *frameGuard) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := g.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

// Close closes the connection and ends a hold.
func (g *frameGuard) Close() error {
	g.closeMu.Do(func() { close(g.closed) })
	return g.Conn.Close()
}

// Read reads from the connection, passing on the bytes before a bad frame
// and holding back the rest until the client's hold returns.
func (g *frameGuard) Read(p []byte) (int, error) {
	n, err := g.read(p)
	g.passed += int64(n)
	return n, err
}

func (g *frameGuard) read(p []byte) (int, error) {
	if g.held != nil {
		return g.readHeld(p)
	}
	n, err := g.Conn.Read(p)
	g.moved.Add(int64(n))
	if !g.scanning || g.off || n == 0 {
		return n, err
	}
	at, fail := g.scan(p[:n])
	g.scanned += int64(n)
	if fail == nil {
		return n, err
	}
	g.off = true
	g.fail = fail
	g.held, g.heldErr = bytes.Clone(p[at:n]), err
	if at > 0 {
		return at, nil
	}
	return g.readHeld(p)
}

// readHeld waits for the client once (the protocol has everything before
// the bad frame and asks for more), then passes the held bytes on.
func (g *frameGuard) readHeld(p []byte) (int, error) {
	if !g.waited {
		g.waited = true
		g.hold(g.closed, g.fail)
	}
	n := copy(p, g.held)
	g.held = g.held[n:]
	if len(g.held) > 0 {
		return n, nil
	}
	g.held = nil
	return n, g.heldErr
}

// scan follows the stream through b and returns the offset in b where a
// bad frame starts (0 if it started in an earlier read) and why it is bad,
// or nil.
func (g *frameGuard) scan(b []byte) (int, *guardFailure) {
	i := 0
	for i < len(b) && !g.off {
		switch {
		case g.inHead:
			i = g.scanHead(b, i)
		case g.skip > 0:
			k := int(min(g.skip, int64(len(b)-i)))
			g.skip -= int64(k)
			i += k
		default:
			start := i - g.hdrN // may be negative: the header began in an earlier read
			k := copy(g.hdr[g.hdrN:], b[i:])
			h, n, err := framing.ParseHeader(g.hdr[:g.hdrN+k])
			if errors.Is(err, framing.ErrShortHeader) {
				g.hdrN += k
				i += k
				continue
			}
			i += n - g.hdrN // what follows the header is payload
			g.hdrN = 0
			if err == nil {
				err = g.check(&h)
			}
			if err != nil {
				f, ok := err.(*guardFailure)
				if !ok {
					f = &guardFailure{code: protocol.StatusProtocolError, err: err}
				}
				return max(start, 0), f
			}
			g.skip = h.Length
			if h.Opcode == framing.OpClose {
				g.off = true // nothing after a close frame matters
			}
			if h.Fin && !h.Opcode.IsControl() {
				g.ends = append(g.ends, g.scanned+int64(i)+h.Length)
			}
		}
	}
	return 0, nil
}

// scanHead passes the HTTP response head (up to its empty line) from b[i:]
// and returns where it stopped.
func (g *frameGuard) scanHead(b []byte, i int) int {
	for ; i < len(b); i++ {
		g.head = append(g.head, b[i])
		if len(g.head) > 4 {
			g.head = g.head[1:]
		}
		if string(g.head) == "\r\n\r\n" {
			g.inHead = false
			g.head = nil
			g.headEnd = g.scanned + int64(i) + 1
			return i + 1
		}
	}
	return i
}

// check applies the rules the protocol fails a connection for at a frame
// header, and follows fragmentation.
func (g *frameGuard) check(h *framing.Header) error {
	var rsv byte
	if g.deflate && (h.Opcode == framing.OpText || h.Opcode == framing.OpBinary) {
		rsv = framing.Rsv1
	}
	if err := h.Check(rsv, false); err != nil {
		return err
	}
	if h.Opcode.IsControl() {
		return nil
	}
	cont := h.Opcode == framing.OpContinuation
	switch {
	case cont && !g.fragmented:
		return errOrphanContinuation
	case !cont && g.fragmented:
		return errMissingContinuation
	}
	if !cont {
		g.msgSize = 0
	}
	if h.Length > g.limit-g.msgSize {
		return &guardFailure{code: protocol.StatusMessageTooBig, err: protocol.ErrMessageTooBig}
	}
	g.msgSize += h.Length
	g.fragmented = !h.Fin
	return nil
}

// Error makes a guardFailure usable where check returns an error.
func (f *guardFailure) Error() string { return f.err.Error() }

// directAddr returns the host:port a direct connection to the ws:// (or
// http://) URL rawURL dials, as the handshake computes it, or "" for other
// URLs.
func directAddr(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "http") {
		return ""
	}
	host := u.Hostname()
	if host == "" {
		return ""
	}
	if net.ParseIP(stripZone(host)) == nil {
		if host, err = idna.Lookup.ToASCII(host); err != nil {
			return ""
		}
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port)
}

func stripZone(host string) string {
	if i := strings.IndexByte(host, '%'); i >= 0 {
		return host[:i]
	}
	return host
}

// dialer returns the NetDialContext of a client connecting to rawURL: every
// TCP connection it makes gets a frameGuard, stored in *wire (the
// connection that carries the WebSocket, directly or through a proxy or
// TLS); the direct connection to the server of a ws:// URL is scanned.
func (c *client) dialer(rawURL string, wire **frameGuard) func(ctx context.Context, network, addr string) (net.Conn, error) {
	target := directAddr(rawURL)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		g := newFrameGuard(nc, c.opts.MaxMessageSize, c.opts.Compression != nil, c.holdForScript)
		g.scanning = target != "" && addr == target
		*wire = g
		return g, nil
	}
}

// holdForScript runs on the reader goroutine when the guard holds back a
// bad frame and the protocol has read everything before it: it delivers
// the final close message the protocol is about to cause, and waits until
// the script has received it (so it has dealt with every message before),
// at most close_timeout, or until client:close(), the host stopping or the
// connection closing ends the wait. Then the protocol meets the bad frame
// and fails the connection. If the message could not be delivered within
// the time, the reader delivers the protocol's own final message later.
func (c *client) holdForScript(done <-chan struct{}, f *guardFailure) {
	if c.currentState() != stateOpen || c.ch == nil {
		return // during the handshake, or closing: fail at once
	}
	m := c.finalMessage(&protocol.CloseError{Code: f.code, Err: f.err})
	m.early = true
	ctx, cancel := context.WithTimeout(c.controlCtx, c.closeTimeout())
	defer cancel()
	go func() {
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		}
	}()
	// Recorded before the script can see the message: it may send (final
	// names the end) or end at once (shutdown waits for the failure).
	c.final.Store(&m)
	c.earlyFinal.Store(true)
	c.handed.Add(1)
	if err := c.handOver(ctx, m); err != nil {
		c.earlyFinal.Store(false) // the reader delivers the protocol's own final message
		return
	}
	select {
	case <-c.earlySeen:
	case <-ctx.Done():
	}
}

// toLua is the receive channel's conversion function: messageToLua, and
// for the final close message delivered ahead of a failure, the signal
// that the script has received it.
func (c *client) toLua(L *glua.LState, v any) glua.LValue {
	if m, ok := v.(message); ok && m.early {
		c.markClosed()
		c.earlySeenOnce.Do(func() { close(c.earlySeen) })
	}
	return messageToLua(L, v)
}
