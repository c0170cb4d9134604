package handshake

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"golang.org/x/net/http/httpproxy"
	"golang.org/x/net/proxy"
)

// proxyFor returns the proxy to use for t, or nil for a direct connection.
// The proxy function sees the URL with scheme http or https (for ws and wss)
// so that functions written for net/http, such as httpproxy's, apply.
func (o *DialOptions) proxyFor(t *target, hostHeader string) (*url.URL, error) {
	var pu *url.URL
	var err error
	switch {
	case o.Proxy != nil && o.ProxyForRequest != nil:
		return nil, &HandshakeError{Op: opProxy, Reason: "both DialOptions.Proxy and DialOptions.ProxyForRequest are set"}
	case o.ProxyForRequest != nil:
		u := *t.forProxy
		req := &http.Request{
			Method: http.MethodGet, URL: &u, Host: hostHeader, Header: o.Header.Clone(),
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		}
		if req.Header == nil {
			req.Header = make(http.Header)
		}
		pu, err = o.ProxyForRequest(req)
	case o.Proxy != nil:
		pu, err = o.Proxy(t.forProxy)
	default:
		pu, err = httpproxy.FromEnvironment().ProxyFunc()(t.forProxy)
	}
	if err != nil {
		return nil, &HandshakeError{Op: opProxy, Reason: "choosing a proxy", Err: err}
	}
	if pu == nil {
		return nil, nil
	}
	switch pu.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, &HandshakeError{Op: opProxy, Reason: fmt.Sprintf("unsupported proxy scheme %q in %q (want http, https, socks5 or socks5h)", pu.Scheme, redactURL(pu))}
	}
	if pu.Hostname() == "" {
		return nil, &HandshakeError{Op: opProxy, Reason: fmt.Sprintf("missing host in proxy URL %q", redactURL(pu))}
	}
	return pu, nil
}

// proxyAddr returns the host:port of an HTTP(S) proxy, with the scheme's
// default port.
func proxyAddr(pu *url.URL) string {
	port := pu.Port()
	if port == "" {
		port = "80"
		if pu.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(pu.Hostname(), port)
}

// forwardDialer adapts a dial function to golang.org/x/net/proxy's Dialer
// and ContextDialer, so the SOCKS5 client reaches the proxy through it.
type forwardDialer func(ctx context.Context, network, addr string) (net.Conn, error)

// Dial connects without a context.
func (f forwardDialer) Dial(network, addr string) (net.Conn, error) {
	return f(context.Background(), network, addr)
}

// DialContext connects.
func (f forwardDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}

// dialSOCKS connects to t.addr through the SOCKS5 proxy pu. With socks5 the
// target name is resolved locally; with socks5h the proxy resolves it.
func dialSOCKS(ctx context.Context, pu *url.URL, t *target, dial forwardDialer) (net.Conn, error) {
	d, err := proxy.FromURL(pu, dial)
	if err != nil {
		return nil, &HandshakeError{Op: opProxy, Reason: fmt.Sprintf("SOCKS5 proxy %q", redactURL(pu)), Err: err}
	}
	cd, ok := d.(proxy.ContextDialer)
	if !ok {
		return nil, &HandshakeError{Op: opProxy, Reason: "SOCKS5 dialer does not support contexts"}
	}
	addr := t.addr
	if pu.Scheme == "socks5" && net.ParseIP(stripZone(t.host)) == nil {
		ips, err := net.DefaultResolver.LookupIPAddr(ctx, t.host)
		if err != nil || len(ips) == 0 {
			return nil, &HandshakeError{Op: opDial, Reason: "resolving " + strconv.Quote(t.host) + " for a socks5 proxy (use socks5h to resolve through the proxy)", Err: ctxErrOr(ctx, err)}
		}
		ip := ips[0]
		for _, a := range ips {
			if a.IP.To4() != nil {
				ip = a
				break
			}
		}
		_, port, _ := net.SplitHostPort(t.addr)
		addr = net.JoinHostPort(ip.String(), port)
	}
	c, err := cd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &HandshakeError{Op: opProxy, Reason: fmt.Sprintf("connecting through SOCKS5 proxy %q", redactURL(pu)), Err: ctxErrOr(ctx, err)}
	}
	return c, nil
}

// httpConnect asks the HTTP proxy pu, reached over c, for a tunnel to addr.
// Bytes the proxy sends after its 2xx answer are kept in the returned Conn.
func httpConnect(ctx context.Context, c net.Conn, pu *url.URL, addr string) (net.Conn, error) {
	var buf bytes.Buffer
	buf.WriteString("CONNECT " + addr + " HTTP/1.1\r\n")
	writeHeader(&buf, hdrHost, addr)
	if pu.User != nil {
		writeHeader(&buf, "Proxy-Authorization", basicAuth(pu.User))
	}
	buf.WriteString("\r\n")
	if _, err := c.Write(buf.Bytes()); err != nil {
		return nil, &HandshakeError{Op: opProxy, Reason: "writing CONNECT request to " + strconv.Quote(redactURL(pu)), Err: ctxErrOr(ctx, err)}
	}

	lim := &headLimiter{r: c, n: maxResponseHead}
	br := bufio.NewReader(lim)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return nil, &HandshakeError{Op: opProxy, Reason: "reading CONNECT response from " + strconv.Quote(redactURL(pu)), Err: ctxErrOr(ctx, headErr(lim, err))}
	}
	if resp.StatusCode/100 != 2 {
		return nil, &HandshakeError{
			Op:         opProxy,
			Reason:     fmt.Sprintf("proxy %q answered %s", redactURL(pu), sanitize(resp.Status, maxPeerText)),
			StatusCode: resp.StatusCode,
		}
	}
	lim.lift()
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: c, r: br}, nil
	}
	return c, nil
}

// basicAuth returns the value of a Basic authorization header for u.
func basicAuth(u *url.Userinfo) string {
	pass, _ := u.Password()
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pass))
}

// bufferedConn is a net.Conn whose reads come from r, a reader that holds
// bytes already read from Conn and then reads from Conn itself.
type bufferedConn struct {
	net.Conn
	r io.Reader
}

// Read reads through the buffering reader.
func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
