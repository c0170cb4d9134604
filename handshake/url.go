package handshake

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// target is a parsed WebSocket URL.
type target struct {
	secure     bool          // wss
	host       string        // ASCII host name or IP literal, without brackets or port (an IPv6 zone is kept)
	addr       string        // host:port to connect to
	hostHeader string        // value of the Host request header
	requestURI string        // path and query of the request line
	user       *url.Userinfo // credentials from the URL, sent as Basic authorization
	redacted   string        // the URL without credentials, for messages
	public     *url.URL      // the URL without credentials, for http.Response.Request
	forProxy   *url.URL      // the URL handed to a proxy function: http(s) scheme, no credentials
}

// parseTarget parses and checks a ws, wss, http or https URL. Its errors
// never contain the URL's credentials.
func parseTarget(raw string) (*target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, and the inner error may quote
		// parts of it. Say less when the URL may hold credentials.
		if strings.Contains(raw, "@") {
			return nil, &HandshakeError{Op: opDial, Reason: "invalid URL (details withheld: it may contain credentials)"}
		}
		var cause error = err
		if ue, ok := err.(*url.Error); ok {
			cause = ue.Err
		}
		return nil, &HandshakeError{Op: opDial, Reason: "invalid URL", Err: cause}
	}
	t := &target{user: u.User}
	u.User = nil
	t.redacted = u.String()
	t.public = u
	fail := func(reason string) (*target, error) {
		return nil, &HandshakeError{Op: opDial, Reason: reason + " in URL " + strconv.Quote(t.redacted)}
	}

	var proxyScheme, defaultPort string
	switch u.Scheme {
	case "ws", "http":
		proxyScheme, defaultPort = "http", "80"
	case "wss", "https":
		t.secure = true
		proxyScheme, defaultPort = "https", "443"
	case "":
		return fail("missing scheme (want ws or wss)")
	default:
		return fail("unsupported scheme " + strconv.Quote(u.Scheme) + " (want ws or wss)")
	}
	if u.Opaque != "" {
		return fail("missing \"//\" after the scheme")
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		// RFC 6455, section 3: fragment identifiers MUST NOT be used.
		return fail("fragment identifier (#...) not allowed")
	}
	host := u.Hostname()
	if host == "" {
		return fail("missing host")
	}
	if ip := net.ParseIP(stripZone(host)); ip == nil {
		if host, err = idna.Lookup.ToASCII(host); err != nil || host == "" {
			return fail("invalid host")
		}
	}
	port := u.Port()
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fail("invalid port")
		}
	}

	t.host = host
	hostForHeader := stripZone(host)
	if strings.Contains(hostForHeader, ":") {
		hostForHeader = "[" + hostForHeader + "]"
	}
	if port == "" {
		t.hostHeader = hostForHeader
		port = defaultPort
	} else {
		t.hostHeader = hostForHeader + ":" + port
	}
	t.addr = net.JoinHostPort(host, port)
	t.requestURI = u.RequestURI()

	pu := *u
	pu.Scheme = proxyScheme
	pu.Fragment, pu.RawFragment = "", ""
	t.forProxy = &pu
	return t, nil
}

// stripZone removes an IPv6 zone ("%eth0") from host.
func stripZone(host string) string {
	if i := strings.IndexByte(host, '%'); i >= 0 {
		return host[:i]
	}
	return host
}

// redactURL returns u as a string without its credentials.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}
