package handshake

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wslua/wslua/protocol"
)

// DialOptions configure Dial. The zero value is valid.
type DialOptions struct {
	// Header holds extra request headers, written after the handshake's own
	// in sorted order. Names and values are validated (no CR, LF, NUL or other
	// control characters). A Host entry overrides the Host header (the
	// connection still goes to the URL's host). Upgrade, Connection and the
	// Sec-WebSocket-* headers may not be set: the handshake writes them.
	Header http.Header
	// Subprotocols are offered in Sec-WebSocket-Protocol, in preference
	// order. Each must be a token. The server may pick one of them or none.
	Subprotocols []string
	// TLSConfig configures TLS for wss URLs and https proxies. Nil means the
	// default configuration, with certificate verification. It is cloned; an
	// unset ServerName defaults to the host being connected to. NextProtos
	// is always narrowed to what the connection will speak: "h2" is removed
	// from it for HTTP/1.1 (an empty list becomes "http/1.1"), and is put
	// first with "http/1.1" after it for an HTTP/2 dial (see HTTP2); a
	// server that selects another protocol fails the dial.
	TLSConfig *tls.Config
	// DialTimeout, if positive, bounds the whole dial: TCP connect, proxy,
	// TLS and the opening handshake, in addition to the context.
	DialTimeout time.Duration
	// Proxy returns the proxy for a request URL, or nil for a direct
	// connection. The URL it sees has scheme http for ws and https for wss,
	// and no credentials, so net/http-style functions apply. Supported proxy
	// schemes: http and https (HTTP CONNECT, with Basic Proxy-Authorization
	// from the proxy URL's credentials), socks5 (target resolved locally) and
	// socks5h (resolved by the proxy). Nil means the environment:
	// HTTP_PROXY, HTTPS_PROXY and NO_PROXY as read by
	// golang.org/x/net/http/httpproxy at each Dial (loopback addresses and
	// localhost are never proxied).
	Proxy func(*url.URL) (*url.URL, error)
	// ProxyForRequest is Proxy in the form net/http's Transport.Proxy
	// takes, so that http.ProxyFromEnvironment and http.ProxyURL fit. It
	// sees a GET request for the URL Proxy would see, with the Host and the
	// extra headers of this dial. Setting both Proxy and ProxyForRequest is
	// an error. Note that http.ProxyFromEnvironment reads the environment
	// once per process, and never proxies localhost or loopback addresses.
	ProxyForRequest func(*http.Request) (*url.URL, error)
	// NetDialContext, if set, makes the TCP connection (to the server or the
	// proxy) instead of a net.Dialer.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Compression, if not nil, offers permessage-deflate (RFC 7692) with
	// these parameters (see protocol.CompressionOptions). If the server
	// accepts, messages are compressed both ways; if it declines, the
	// connection works without compression. An answer that accepts what
	// was not offered fails the handshake. Nil offers nothing.
	Compression *protocol.CompressionOptions
	// HTTP2 opens the WebSocket as a stream of an HTTP/2 connection (RFC
	// 8441, wss:// only) when not HTTP2Off (the default): HTTP2Prefer falls
	// back to HTTP/1.1 when the server does not support it, HTTP2Require
	// fails then (the error says why: ErrNoHTTP2, ErrNoExtendedConnect or
	// ErrStreamRefused, usable with errors.Is). The response tells which
	// was used: resp.ProtoMajor is 2 for a stream, 1 for HTTP/1.1. The
	// TLS connection offers h2 and http/1.1 in ALPN; when the server picks
	// http/1.1 the handshake continues on it.
	HTTP2 HTTP2Mode
	// HTTP2Pool holds the HTTP/2 connections shared between dials; nil
	// means DefaultHTTP2Pool. See HTTP2Pool for which dials share one.
	HTTP2Pool *HTTP2Pool
	// Conn holds the options of the resulting Conn. Its Role is forced to
	// protocol.RoleClient, its Subprotocol set to the server's choice and
	// its Compression to the agreed parameters (it must be nil here).
	Conn protocol.Options
}

// Dial opens a WebSocket connection to rawURL (ws://, wss://, or their
// aliases http:// and https://) and performs the opening handshake.
//
// Credentials in the URL (ws://user:pass@host/) are sent as a Basic
// Authorization header and never appear in errors. Redirects are not
// followed. The context bounds the dial and the handshake only, not the
// returned connection.
//
// The response is returned whenever the server answered, also on failure:
// then its Body holds at most 1 KiB of the original body. Its Request
// describes the request sent: method, URL (without credentials), Host, and
// Header with every header field sent but Host (Authorization included).
// Every error is a *HandshakeError.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*protocol.Conn, *http.Response, error) {
	hc, resp, err := dial(ctx, rawURL, opts)
	if err != nil {
		return nil, resp, err
	}
	var co protocol.Options
	if opts != nil {
		co = opts.Conn
	}
	co.Role = protocol.RoleClient
	co.Subprotocol = hc.subprotocol
	co.Compression = hc.compression
	return protocol.NewConn(hc.conn, hc.br, &co), resp, nil
}

// clientConn is the outcome of a successful client handshake.
type clientConn struct {
	conn        net.Conn                     // the connection (TLS on top of TCP for wss)
	br          *bufio.Reader                // reads conn; may already hold the first frames
	subprotocol string                       // the server's choice, or ""
	compression *protocol.CompressionOptions // permessage-deflate as agreed, or nil
}

// aLongTimeAgo is a deadline in the past, used to abort blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

// dial performs everything Dial does except building the protocol.Conn.
func dial(ctx context.Context, rawURL string, opts *DialOptions) (*clientConn, *http.Response, error) {
	if ctx == nil {
		return nil, nil, &HandshakeError{Op: opDial, Reason: "nil context"}
	}
	if opts == nil {
		opts = &DialOptions{}
	}
	t, err := parseTarget(rawURL)
	if err != nil {
		return nil, nil, err
	}
	req, err := newRequest(t, opts)
	if err != nil {
		return nil, nil, err
	}
	if opts.DialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.DialTimeout)
		defer cancel()
	}
	pu, err := opts.proxyFor(t, req.host)
	if err != nil {
		return nil, nil, err
	}
	if opts.HTTP2 != HTTP2Off {
		if t.secure {
			return dialStream(ctx, t, pu, req, opts)
		}
		if opts.HTTP2 == HTTP2Require {
			return nil, nil, &HandshakeError{Op: opDial, Reason: "HTTP2Require needs a wss:// URL (WebSockets over HTTP/2 run over TLS only)"}
		}
	}
	raw, err := openRaw(ctx, t, pu, opts)
	if err != nil {
		return nil, nil, err
	}
	return finishHTTP11(ctx, raw, nil, t, pu, req, opts)
}

// openRaw makes the first TCP connection: to the server, to an HTTP(S)
// proxy, or through a SOCKS5 proxy to the server.
func openRaw(ctx context.Context, t *target, pu *url.URL, opts *DialOptions) (net.Conn, error) {
	dialFn := forwardDialer(opts.NetDialContext)
	if dialFn == nil {
		var d net.Dialer
		dialFn = d.DialContext
	}
	switch {
	case pu == nil:
		raw, err := dialFn(ctx, "tcp", t.addr)
		if err != nil {
			return nil, &HandshakeError{Op: opDial, Reason: "connecting to " + t.addr, Err: ctxErrOr(ctx, err)}
		}
		return raw, nil
	case pu.Scheme == "socks5" || pu.Scheme == "socks5h":
		return dialSOCKS(ctx, pu, t, dialFn)
	default:
		raw, err := dialFn(ctx, "tcp", proxyAddr(pu))
		if err != nil {
			return nil, &HandshakeError{Op: opProxy, Reason: "connecting to proxy " + strconv.Quote(redactURL(pu)), Err: ctxErrOr(ctx, err)}
		}
		return raw, nil
	}
}

// withAbort runs step with ctx bound to raw: cancelling the context (or its
// deadline passing) sets a past deadline on raw that aborts the step's I/O.
// raw is closed when the step fails; otherwise its deadline is cleared.
func withAbort(ctx context.Context, raw net.Conn, step func() error) error {
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(aLongTimeAgo) })
	err := step()
	if !stop() && err == nil {
		err = &HandshakeError{Op: opHandshake, Reason: "dial aborted", Err: ctx.Err()}
	}
	if err == nil {
		if derr := raw.SetDeadline(time.Time{}); derr != nil {
			err = &HandshakeError{Op: opHandshake, Reason: "clearing the deadline", Err: derr}
		}
	}
	if err != nil {
		raw.Close()
	}
	return err
}

// finishHTTP11 runs the rest of an HTTP/1.1 dial over raw: the proxy
// tunnel and TLS unless conn (raw with them done) is given, then the
// upgrade request and its response.
func finishHTTP11(ctx context.Context, raw, conn net.Conn, t *target, pu *url.URL, req *request, opts *DialOptions) (*clientConn, *http.Response, error) {
	var hc *clientConn
	var resp *http.Response
	err := withAbort(ctx, raw, func() error {
		var err error
		if conn == nil {
			if conn, err = tunnel(ctx, raw, t, pu, opts, http11Protos(nextProtos(opts.TLSConfig))); err != nil {
				return err
			}
		}
		hc, resp, err = exchange(ctx, raw, conn, t, req, opts)
		return err
	})
	if err != nil {
		return nil, resp, err
	}
	return hc, resp, nil
}

// nextProtos returns the ALPN list of a user TLS configuration, or nil.
func nextProtos(c *tls.Config) []string {
	if c == nil {
		return nil
	}
	return c.NextProtos
}

// tunnel runs the steps between the first TCP connection and the HTTP
// exchange: the HTTP CONNECT exchange (http and https proxies) and TLS
// (wss, offering protos in ALPN). It returns the connection to speak HTTP
// on.
func tunnel(ctx context.Context, raw net.Conn, t *target, pu *url.URL, opts *DialOptions, protos []string) (net.Conn, error) {
	conn := raw
	if pu != nil && (pu.Scheme == "http" || pu.Scheme == "https") {
		if pu.Scheme == "https" {
			tc := tls.Client(conn, tlsConfig(opts.TLSConfig, stripZone(pu.Hostname()), true, http11Protos(nextProtos(opts.TLSConfig))))
			if err := tc.HandshakeContext(ctx); err != nil {
				return nil, &HandshakeError{Op: opProxy, Reason: "TLS handshake with proxy " + strconv.Quote(redactURL(pu)), Err: ctxErrOr(ctx, err)}
			}
			if err := checkALPN(tc, alpnHTTP11); err != nil {
				return nil, &HandshakeError{Op: opProxy, Reason: "TLS handshake with proxy " + strconv.Quote(redactURL(pu)), Err: err}
			}
			conn = tc
		}
		var err error
		if conn, err = httpConnect(ctx, conn, pu, t.addr); err != nil {
			return nil, err
		}
	}
	if t.secure {
		tc := tls.Client(conn, tlsConfig(opts.TLSConfig, stripZone(t.host), false, protos))
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, &HandshakeError{Op: opTLS, Reason: "handshake with " + t.addr, Err: ctxErrOr(ctx, err)}
		}
		want := []string{alpnHTTP11}
		if slices.Contains(protos, alpnH2) {
			want = append(want, alpnH2)
		}
		if err := checkALPN(tc, want...); err != nil {
			return nil, &HandshakeError{Op: opTLS, Reason: "handshake with " + t.addr, Err: err}
		}
		conn = tc
	}
	return conn, nil
}

// exchange sends the upgrade request on conn (raw, or what runs over it)
// and reads the response.
func exchange(ctx context.Context, raw, conn net.Conn, t *target, req *request, opts *DialOptions) (*clientConn, *http.Response, error) {
	if _, err := conn.Write(req.bytes); err != nil {
		return nil, nil, &HandshakeError{Op: opHandshake, Reason: "writing request", Err: ctxErrOr(ctx, err)}
	}
	size := opts.Conn.ReadBufferSize
	if size <= 0 {
		size = 4096
	}
	lim := &headLimiter{r: conn, n: maxResponseHead}
	br := bufio.NewReaderSize(lim, size)
	beforeBody := func() {
		if ctx.Err() == nil {
			raw.SetReadDeadline(time.Now().Add(bodyReadTimeout))
		}
	}
	resp, sub, err := readResponse(br, lim, &req.check, beforeBody)
	if resp != nil {
		resp.Request = &http.Request{Method: http.MethodGet, URL: t.public, Host: req.host, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		resp.Request.Header = req.sent
	}
	if err != nil {
		var he *HandshakeError
		if errors.As(err, &he) && he.Err != nil {
			he.Err = ctxErrOr(ctx, he.Err)
		}
		return nil, resp, err
	}
	return &clientConn{conn: conn, br: br, subprotocol: sub, compression: agreedCompression(req.check.extensions)}, resp, nil
}

// tlsConfig returns a copy of base for a connection to serverName. For a
// proxy the name always replaces base's ServerName, which is meant for the
// WebSocket server.
func tlsConfig(base *tls.Config, serverName string, forProxy bool, protos []string) *tls.Config {
	var c *tls.Config
	if base == nil {
		c = &tls.Config{}
	} else {
		c = base.Clone()
	}
	if forProxy || c.ServerName == "" {
		c.ServerName = serverName
	}
	c.NextProtos = protos
	return c
}

// http11Protos returns the ALPN list for a connection that will speak
// HTTP/1.1: protos without "h2" (a server would pick it and then not
// understand the upgrade request), or just "http/1.1".
func http11Protos(protos []string) []string {
	var out []string
	for _, p := range protos {
		if p != alpnH2 {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = []string{alpnHTTP11}
	}
	return out
}

// ALPN protocol names (RFC 7301 registry).
const (
	alpnHTTP11 = "http/1.1"
	alpnH2     = "h2"
)

// checkALPN fails if the TLS connection negotiated a protocol other than
// those in want (no protocol at all is fine: ALPN is optional, and means
// HTTP/1.1).
func checkALPN(tc *tls.Conn, want ...string) error {
	p := tc.ConnectionState().NegotiatedProtocol
	if p == "" || slices.Contains(want, p) {
		return nil
	}
	return fmt.Errorf("server selected ALPN protocol %q, not one of %q", sanitize(p, maxPeerText), want)
}

// ctxErrOr returns the context's error when it is done (an I/O error then
// merely reflects the aborted deadline), else err.
func ctxErrOr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// request is a prepared upgrade request.
type request struct {
	host  string        // the Host header sent
	bytes []byte        // the whole request head
	sent  http.Header   // its header fields but Host, for Response.Request
	check responseCheck // what the response must satisfy
}

// newRequest validates the options and writes the request for t.
func newRequest(t *target, opts *DialOptions) (*request, error) {
	bad := func(format string, args ...any) (*request, error) {
		return nil, &HandshakeError{Op: opDial, Reason: fmt.Sprintf(format, args...)}
	}
	if err := checkExtraHeaders(opts.Header, reservedRequestHeaders); err != nil {
		return bad("%v", err)
	}
	hostHeader := t.hostHeader
	if v := headerValues(opts.Header, hdrHost); len(v) > 1 {
		return bad("more than one Host header")
	} else if len(v) == 1 {
		hostHeader = v[0]
	}
	if t.user != nil && len(headerValues(opts.Header, hdrAuth)) > 0 {
		return bad("both URL credentials and an Authorization header given")
	}
	for i, p := range opts.Subprotocols {
		if !isToken(p) {
			return bad("invalid subprotocol %q (must be a token)", p)
		}
		for _, q := range opts.Subprotocols[:i] {
			if p == q {
				return bad("subprotocol %q offered twice", p)
			}
		}
	}
	key, err := newKey()
	if err != nil {
		return nil, &HandshakeError{Op: opDial, Reason: "generating Sec-WebSocket-Key", Err: err}
	}

	var buf bytes.Buffer
	buf.WriteString("GET ")
	buf.WriteString(t.requestURI)
	buf.WriteString(" HTTP/1.1\r\n")
	writeHeader(&buf, "Host", hostHeader)
	sent := http.Header{}
	put := func(name, value string) {
		writeHeader(&buf, name, value)
		sent.Add(name, value)
	}
	put("Upgrade", "websocket")
	put("Connection", "Upgrade")
	put("Sec-WebSocket-Key", key)
	put("Sec-WebSocket-Version", "13")
	if len(opts.Subprotocols) > 0 {
		put("Sec-WebSocket-Protocol", strings.Join(opts.Subprotocols, ", "))
	}
	exts, err := clientExtensions(opts)
	if err != nil {
		return bad("invalid compression options: %v", err)
	}
	for _, e := range exts {
		put("Sec-WebSocket-Extensions", e.offer())
	}
	if t.user != nil {
		put("Authorization", basicAuth(t.user))
	}
	eachExtraHeader(opts.Header, []string{hdrHost}, put)
	buf.WriteString("\r\n")
	return &request{
		host:  hostHeader,
		bytes: buf.Bytes(),
		sent:  sent,
		check: responseCheck{key: key, subprotocols: opts.Subprotocols, extensions: exts},
	}, nil
}
