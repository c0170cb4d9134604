package handshake

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wslua/wslua/protocol"
)

// protocolPseudoHeader is where net/http's HTTP/2 server puts the
// :protocol pseudo-header of an extended CONNECT request (RFC 8441), in
// r.Header under this exact key, when extended CONNECT is enabled (see
// package xconnect). The client side uses the same key to ask
// golang.org/x/net/http2 for an extended CONNECT.
const protocolPseudoHeader = ":protocol"

// checkStreamRequest validates an HTTP/2 request as a WebSocket opening
// handshake (RFC 8441, section 5): method CONNECT, :protocol websocket,
// Sec-WebSocket-Version 13. It returns the status and reason to refuse it
// with, or 0.
func checkStreamRequest(w http.ResponseWriter, r *http.Request, opts *UpgradeOptions) (code int, reason string) {
	proto, hasProto := r.Header[protocolPseudoHeader]
	switch {
	case r.Method != http.MethodConnect:
		w.Header().Set("Allow", http.MethodConnect)
		return http.StatusMethodNotAllowed, fmt.Sprintf("a WebSocket over HTTP/2 is opened with an extended CONNECT request (RFC 8441), not %q", sanitize(r.Method, maxPeerText))
	case !hasProto:
		return http.StatusBadRequest, "CONNECT without the :protocol pseudo-header (extended CONNECT, RFC 8441)"
	case len(proto) != 1 || !strings.EqualFold(proto[0], "websocket"):
		return http.StatusBadRequest, fmt.Sprintf("unsupported :protocol %q (want \"websocket\")", sanitize(strings.Join(proto, ", "), maxPeerText))
	}
	if v := r.Header.Values(hdrVersion); len(v) != 1 || strings.TrimSpace(v[0]) != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		return http.StatusBadRequest, "unsupported Sec-WebSocket-Version (only 13 is supported)"
	}
	if !originAllowed(r, opts) {
		return http.StatusForbidden, "origin not allowed"
	}
	return 0, ""
}

// acceptStream answers an accepted RFC 8441 request with 200 and returns
// the Conn over the stream.
func acceptStream(w http.ResponseWriter, r *http.Request, opts *UpgradeOptions, sub, ext string, compression *protocol.CompressionOptions) (*protocol.Conn, error) {
	rc := http.NewResponseController(w)
	// The server's ReadTimeout and WriteTimeout apply to each stream; the
	// WebSocket has its own (protocol.Options). A wrapping ResponseWriter
	// without deadlines (no Unwrap) keeps the server's.
	if err := rc.SetReadDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		e := refuse(w, http.StatusInternalServerError, "cannot clear the stream's read deadline")
		e.Err = err
		return nil, e
	}
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		e := refuse(w, http.StatusInternalServerError, "cannot clear the stream's write deadline")
		e.Err = err
		return nil, e
	}
	h := w.Header()
	for name, values := range opts.ResponseHeader {
		h[name] = append(h[name], values...)
	}
	if sub != "" {
		h.Set(hdrProtocol, sub)
	}
	if ext != "" {
		h.Set(hdrExtensions, ext)
	}
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, &HandshakeError{Op: opUpgrade, Reason: "sending the 200 response", Err: err}
	}
	laddr, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	sc := newStreamConn(&streamConn{
		body:  r.Body,
		w:     w,
		flush: rc.Flush,
		abortWrite: func() {
			// Resets the stream. Should the handler have returned without
			// waiting for Done, net/http's writer panics: nothing to abort.
			defer func() { _ = recover() }()
			_ = rc.SetWriteDeadline(aLongTimeAgo)
		},
		finishRead: func() { _ = r.Body.Close() }, // the response ends when the handler returns (Done)
		laddr:      laddr,
		raddr:      stringAddr(r.RemoteAddr),
	})
	co := opts.Conn
	co.Role = protocol.RoleServer
	co.Subprotocol = sub
	co.Compression = compression
	return protocol.NewConn(sc, nil, &co), nil
}

// stringAddr is a net.Addr known only by its string form (net/http gives
// the peer's address as r.RemoteAddr).
type stringAddr string

// Network returns "tcp": HTTP/2 runs over TCP.
func (a stringAddr) Network() string { return "tcp" }

// String returns the address.
func (a stringAddr) String() string { return string(a) }
