package handshake

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wslua/wslua/protocol"
)

// responseWriteTimeout bounds writing the 101 response on the hijacked
// connection.
const responseWriteTimeout = 10 * time.Second

// UpgradeOptions configure Upgrade. The zero value is valid.
type UpgradeOptions struct {
	// Subprotocols are the subprotocols the server supports, in preference
	// order. The first of them that the client offered is selected.
	Subprotocols []string
	// CheckOrigin reports whether the request's Origin is acceptable; if not,
	// the client gets 403 Forbidden. Nil allows a request without Origin, or
	// one whose Origin host equals r.Host (ASCII case-insensitively).
	CheckOrigin func(r *http.Request) bool
	// ResponseHeader holds extra headers for the 101 response (Set-Cookie,
	// for example). Upgrade, Connection and the Sec-WebSocket-* headers may
	// not be set. Headers the handler set on w.Header() before calling
	// Upgrade are sent too, under the same rule.
	ResponseHeader http.Header
	// Compression, if not nil, accepts permessage-deflate (RFC 7692): the
	// first of the client's offers that is valid is accepted, narrowed by
	// these parameters (see protocol.CompressionOptions). Offers with
	// unknown, repeated or invalid parameters are declined, and the
	// connection then works without compression. Nil declines every offer.
	//
	// Unless CompressionContextTakeover is set, the server always answers
	// server_no_context_takeover: each message it sends is compressed on
	// its own, and the compressor (about 1.2 MiB at any level above
	// flate.HuffmanOnly) goes back to a shared pool after every message
	// instead of staying with the connection.
	Compression *protocol.CompressionOptions
	// CompressionContextTakeover lets the server keep its compressor's
	// history between messages when the client allows it (better ratios on
	// streams of similar messages). The cost: every connection that sent a
	// compressed message in the last few seconds holds a compressor of
	// about 1.2 MiB, so 1,000 busy clients cost some 1.2 GiB. Off by
	// default. It does not affect Compression.ServerNoContextTakeover's
	// meaning: setting that still forces no context takeover.
	CompressionContextTakeover bool
	// Conn holds the options of the resulting Conn. Its Role is forced to
	// protocol.RoleServer, its Subprotocol set to the selected one and its
	// Compression to the agreed parameters (it must be nil here).
	Conn protocol.Options
}

// Upgrade validates r as a WebSocket opening handshake, hijacks the
// connection, answers 101 Switching Protocols and returns the connection.
//
// If the request is not acceptable, Upgrade answers it with an error status
// and a plain-text reason, and returns a *HandshakeError carrying that status:
// 405 for a method other than GET, 426 (with Sec-WebSocket-Version: 13) for an
// unsupported version, 403 when the origin check fails, 400 for the rest of
// the request's faults, 500 for an invalid ResponseHeader or a
// ResponseWriter that cannot be hijacked. The handler must not write to w
// after Upgrade returns.
//
// The only extension is permessage-deflate, selected when
// UpgradeOptions.Compression allows it; other extension offers are ignored.
//
// Over HTTP/2, Upgrade accepts WebSockets opened as streams (RFC 8441):
// an extended CONNECT request with :protocol websocket and
// Sec-WebSocket-Version 13 (no Sec-WebSocket-Key). Subprotocols,
// compression, the origin check and the response headers work as above;
// the answer is 200 and the Conn reads the request body and writes the
// response, flushed. net/http must have extended CONNECT on (import
// package handshake/xconnect, or run with GODEBUG=http2xconnect=1), else
// browsers never send such requests. Refusals: 405 for a method other than
// CONNECT, 400 for another :protocol or version, 403 for the origin. A
// ServeMux pattern with a method ("GET /ws") does not match CONNECT: use
// "/ws". The stream ends when the handler returns, so a handler that hands
// the Conn to a goroutine must wait for Done(c) before returning (Done is
// closed at once for HTTP/1.1); the server's ReadTimeout and WriteTimeout
// are lifted for the stream, as hijacking lifts them on HTTP/1.1. Closing
// the Conn ends the stream, never the HTTP/2 connection.
//
// The handler may serve the Conn until it ends, or hand it to a goroutine
// and return. Returning is lighter on memory: net/http keeps its state for
// the connection (a 4 KiB write buffer, the request with its headers and
// context: some 10 KiB with the handler goroutine's grown stack) until the
// handler returns, hijacked or not. The Conn needs neither w nor r once
// Upgrade returns, but r.Context() is canceled when the handler returns:
// the goroutine must not use it for the Conn's calls.
//
//	func handler(w http.ResponseWriter, r *http.Request) {
//		c, err := handshake.Upgrade(w, r, nil)
//		if err != nil {
//			return
//		}
//		go serve(c) // reads and writes with its own context, then closes c
//		<-handshake.Done(c) // at once on HTTP/1.1; over HTTP/2, once c is closed
//	}
func Upgrade(w http.ResponseWriter, r *http.Request, opts *UpgradeOptions) (*protocol.Conn, error) {
	if opts == nil {
		opts = &UpgradeOptions{}
	}
	stream := r.ProtoMajor == 2
	var key string
	var code int
	var reason string
	if stream {
		code, reason = checkStreamRequest(w, r, opts)
	} else {
		key, code, reason = checkRequest(w, r, opts)
	}
	if code != 0 {
		return nil, refuse(w, code, reason)
	}
	if err := checkExtraHeaders(opts.ResponseHeader, reservedResponseHeaders); err != nil {
		// A fault of the server's code: the client is not told the details.
		http.Error(w, "websocket: internal server error", http.StatusInternalServerError)
		return nil, &HandshakeError{Op: opUpgrade, Reason: "invalid UpgradeOptions.ResponseHeader", StatusCode: http.StatusInternalServerError, Err: err}
	}
	if err := checkCompressionPolicy(opts.Compression, &opts.Conn); err != nil {
		http.Error(w, "websocket: internal server error", http.StatusInternalServerError)
		return nil, &HandshakeError{Op: opUpgrade, Reason: "invalid compression options", StatusCode: http.StatusInternalServerError, Err: err}
	}
	if err := checkExtraHeaders(w.Header(), reservedResponseHeaders); err != nil {
		// Clear them so that the 500 answer is not sent with them.
		clear(w.Header())
		http.Error(w, "websocket: internal server error", http.StatusInternalServerError)
		return nil, &HandshakeError{Op: opUpgrade, Reason: "invalid header set on the ResponseWriter before Upgrade", StatusCode: http.StatusInternalServerError, Err: err}
	}
	sub := chooseSubprotocol(r.Header.Values(hdrProtocol), opts.Subprotocols)
	ext, compression := negotiateDeflate(r.Header.Values(hdrExtensions), serverDeflatePolicy(opts))
	if stream {
		return acceptStream(w, r, opts, sub, ext, compression)
	}

	var buf bytes.Buffer
	buf.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	writeHeader(&buf, "Upgrade", "websocket")
	writeHeader(&buf, "Connection", "Upgrade")
	writeHeader(&buf, "Sec-WebSocket-Accept", AcceptKey(key))
	if sub != "" {
		writeHeader(&buf, "Sec-WebSocket-Protocol", sub)
	}
	if ext != "" {
		writeHeader(&buf, "Sec-WebSocket-Extensions", ext)
	}
	writeExtraHeaders(&buf, w.Header())
	writeExtraHeaders(&buf, opts.ResponseHeader)
	buf.WriteString("\r\n")

	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		e := refuse(w, http.StatusInternalServerError, "cannot take over the connection")
		e.Err = err
		return nil, e
	}
	// net/http clears the server's deadlines on hijack; bound our write.
	nc.SetWriteDeadline(time.Now().Add(responseWriteTimeout))
	if _, err := nc.Write(buf.Bytes()); err != nil {
		nc.Close()
		return nil, &HandshakeError{Op: opUpgrade, Reason: "writing the 101 response", Err: err}
	}
	nc.SetWriteDeadline(time.Time{})

	// Bytes the client sent after its request (its first frames, perhaps)
	// are buffered in brw.Reader and must be read from it. Without any, the
	// Conn still takes over that reader's buffer (no second buffer per
	// connection; net/http never reuses a hijacked reader), unless
	// Conn.ReadBufferSize asks for another size. On Linux TCP, once the Conn
	// waits for data, the buffer joins protocol's pool of read buffers.
	var br *bufio.Reader
	if brw.Reader.Buffered() > 0 || opts.Conn.ReadBufferSize <= 0 || opts.Conn.ReadBufferSize == brw.Reader.Size() {
		br = brw.Reader
	}
	co := opts.Conn
	co.Role = protocol.RoleServer
	co.Subprotocol = sub
	co.Compression = compression
	return protocol.NewConn(nc, br, &co), nil
}

// serverDeflatePolicy returns the compression policy Upgrade negotiates
// with: opts.Compression, with server_no_context_takeover forced unless
// opts.CompressionContextTakeover.
func serverDeflatePolicy(opts *UpgradeOptions) *protocol.CompressionOptions {
	p := opts.Compression
	if p == nil || p.ServerNoContextTakeover || opts.CompressionContextTakeover {
		return p
	}
	q := *p
	q.ServerNoContextTakeover = true
	return &q
}

// checkRequest validates the upgrade request. It returns the client's key, or
// the status and reason to refuse the request with.
func checkRequest(w http.ResponseWriter, r *http.Request, opts *UpgradeOptions) (key string, code int, reason string) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return "", http.StatusMethodNotAllowed, fmt.Sprintf("request method must be GET, not %q", sanitize(r.Method, maxPeerText))
	}
	if r.ProtoMajor != 1 || r.ProtoMinor < 1 {
		return "", http.StatusBadRequest, fmt.Sprintf("HTTP/1.1 required, not %q", sanitize(r.Proto, maxPeerText))
	}
	if !hasToken(r.Header.Values(hdrConnection), "upgrade") {
		return "", http.StatusBadRequest, "the Connection header lacks the \"upgrade\" token"
	}
	if !hasToken(r.Header.Values(hdrUpgrade), "websocket") {
		return "", http.StatusBadRequest, "the Upgrade header lacks \"websocket\""
	}
	if v := r.Header.Values(hdrVersion); len(v) != 1 || strings.TrimSpace(v[0]) != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		return "", http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version (only 13 is supported)"
	}
	v := r.Header.Values(hdrKey)
	switch {
	case len(v) == 0:
		return "", http.StatusBadRequest, "missing Sec-WebSocket-Key header"
	case len(v) > 1:
		return "", http.StatusBadRequest, "more than one Sec-WebSocket-Key header"
	case !validKey(v[0]):
		return "", http.StatusBadRequest, "Sec-WebSocket-Key is not the base64 encoding of 16 bytes"
	}
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		return "", http.StatusBadRequest, "the upgrade request must not have a body"
	}
	if !originAllowed(r, opts) {
		return "", http.StatusForbidden, "origin not allowed"
	}
	return strings.TrimSpace(v[0]), 0, ""
}

// originAllowed runs the origin check of opts, or the default one.
func originAllowed(r *http.Request, opts *UpgradeOptions) bool {
	if opts.CheckOrigin != nil {
		return opts.CheckOrigin(r)
	}
	return sameOrigin(r)
}

// refuse answers the request with code and a plain-text reason and returns
// the matching error.
func refuse(w http.ResponseWriter, code int, reason string) *HandshakeError {
	http.Error(w, "websocket: "+reason, code)
	return &HandshakeError{Op: opUpgrade, Reason: reason, StatusCode: code}
}

// sameOrigin is the default origin check: no Origin header, or one whose host
// equals the request's Host.
func sameOrigin(r *http.Request) bool {
	v := r.Header.Values(hdrOrigin)
	if len(v) == 0 {
		return true
	}
	if len(v) > 1 {
		return false
	}
	u, err := url.Parse(v[0])
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// chooseSubprotocol returns the first of the server's subprotocols that the
// client offered in values, or "".
func chooseSubprotocol(values, server []string) string {
	offered := listElements(values)
	for _, s := range server {
		if isToken(s) && slices.Contains(offered, s) {
			return s
		}
	}
	return ""
}
