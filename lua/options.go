package lua

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// defaultDialTimeout bounds connect when the script gives no dial_timeout:
// TCP connect, proxy, TLS and the opening handshake together, as
// gorilla/websocket's default dialer does. dial_timeout = 0 means no
// timeout. A variable so that tests can shorten it.
var defaultDialTimeout = 45 * time.Second

// Defaults of websocket.connect options.
const (
	defaultMaxMessageSize  = 16 << 20
	defaultChannelCapacity = 64
	// maxChannelCapacity bounds channel_capacity: the buffer is allocated
	// up front, so its size must not come unchecked from a script.
	maxChannelCapacity = 1 << 16
	// maxDurationMillis keeps a millisecond count convertible to a
	// time.Duration without overflow (about 292 years).
	maxDurationMillis = float64(math.MaxInt64 / int64(time.Millisecond))
)

// connectOptions is the Go form of the options table of websocket.connect.
// Zero durations mean "not set": no timeout, or the protocol's default.
// DialTimeout starts at defaultDialTimeout; an explicit 0 means none.
type connectOptions struct {
	Header          http.Header
	Protocols       []string
	DialTimeout     time.Duration
	DialTimeoutSet  bool // the script gave dial_timeout
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	PingInterval    time.Duration
	PongTimeout     time.Duration
	CloseTimeout    time.Duration
	MaxMessageSize  int64
	ChannelCapacity int
	TLS             *tlsOptions
	Proxy           *url.URL // nil: the environment's proxy (unless NoProxy)
	NoProxy         bool     // proxy = false: always connect directly
	Origin          string
	Compression     *protocol.CompressionOptions // nil: permessage-deflate not offered
	HTTP2           handshake.HTTP2Mode          // http2 = true | "require": RFC 8441
}

// defaultCloseTimeout is close_timeout when not given (protocol's default).
const defaultCloseTimeout = 5 * time.Second

// closeTimeout is the client's close_timeout.
func (c *client) closeTimeout() time.Duration {
	if c.opts.CloseTimeout > 0 {
		return c.opts.CloseTimeout
	}
	return defaultCloseTimeout
}

// tlsOptions is the tls = {...} option; files are read when dialing, off the
// VM goroutine.
type tlsOptions struct {
	InsecureSkipVerify bool
	CAFile             string
	ServerName         string
	CertFile           string
	KeyFile            string
}

// optionError is an error about one named option.
type optionError struct {
	option string
	msg    string
}

func (e *optionError) Error() string { return "invalid option " + e.option + ": " + e.msg }

func optErr(option, format string, args ...any) error {
	return &optionError{option: option, msg: fmt.Sprintf(format, args...)}
}

// optionParsers parse the options in this order, so the first error reported
// does not depend on table iteration order.
var optionParsers = []struct {
	name  string
	parse func(o *connectOptions, v glua.LValue) error
}{
	{"headers", func(o *connectOptions, v glua.LValue) (err error) { o.Header, err = parseHeaders(v); return }},
	{"compression", func(o *connectOptions, v glua.LValue) (err error) { o.Compression, err = parseCompression(v); return }},
	{"protocols", func(o *connectOptions, v glua.LValue) (err error) { o.Protocols, err = parseProtocols(v); return }},
	{"dial_timeout", func(o *connectOptions, v glua.LValue) (err error) {
		o.DialTimeoutSet = true
		o.DialTimeout, err = parseDuration("dial_timeout", v)
		return err
	}},
	{"read_timeout", durationField("read_timeout", func(o *connectOptions) *time.Duration { return &o.ReadTimeout })},
	{"write_timeout", durationField("write_timeout", func(o *connectOptions) *time.Duration { return &o.WriteTimeout })},
	{"ping_interval", durationField("ping_interval", func(o *connectOptions) *time.Duration { return &o.PingInterval })},
	{"pong_timeout", durationField("pong_timeout", func(o *connectOptions) *time.Duration { return &o.PongTimeout })},
	{"close_timeout", durationField("close_timeout", func(o *connectOptions) *time.Duration { return &o.CloseTimeout })},
	{"max_message_size", func(o *connectOptions, v glua.LValue) error {
		n, err := parseInteger("max_message_size", v, 1, 1<<53)
		o.MaxMessageSize = n
		return err
	}},
	{"channel_capacity", func(o *connectOptions, v glua.LValue) error {
		n, err := parseInteger("channel_capacity", v, 0, maxChannelCapacity)
		o.ChannelCapacity = int(n)
		return err
	}},
	{"tls", func(o *connectOptions, v glua.LValue) (err error) { o.TLS, err = parseTLS(v); return }},
	{"http2", func(o *connectOptions, v glua.LValue) (err error) { o.HTTP2, err = parseHTTP2(v); return }},
	{"proxy", func(o *connectOptions, v glua.LValue) (err error) {
		if v == glua.LFalse {
			o.NoProxy = true
			return nil
		}
		o.Proxy, err = parseProxy(v)
		return err
	}},
	{"origin", func(o *connectOptions, v glua.LValue) error {
		s, ok := v.(glua.LString)
		if !ok {
			return optErr("origin", "string expected, got %s", v.Type())
		}
		if s == "" || !validHeaderValue(string(s)) {
			return optErr("origin", "invalid header value %q", string(s))
		}
		o.Origin = string(s)
		return nil
	}},
}

// durationField returns the parser of the duration option name, storing
// into the field selected by field.
func durationField(name string, field func(o *connectOptions) *time.Duration) func(o *connectOptions, v glua.LValue) error {
	return func(o *connectOptions, v glua.LValue) (err error) {
		*field(o), err = parseDuration(name, v)
		return err
	}
}

// parseOptions converts the options argument of websocket.connect (nil or a
// table) into connectOptions. Every key must be a known option and every
// value must be valid: nothing is silently ignored. It only reads v, never
// calls Lua code (metatables are not consulted), and runs on the VM
// goroutine.
func parseOptions(L *glua.LState, v glua.LValue) (connectOptions, error) {
	_ = L
	o := connectOptions{DialTimeout: defaultDialTimeout, MaxMessageSize: defaultMaxMessageSize, ChannelCapacity: defaultChannelCapacity}
	if v == glua.LNil {
		return o, nil
	}
	tbl, ok := v.(*glua.LTable)
	if !ok {
		return o, fmt.Errorf("options must be a table, got %s", v.Type())
	}
	fields, err := stringKeyed(tbl, "options")
	if err != nil {
		return o, err
	}
	for _, p := range optionParsers {
		fv, ok := fields[p.name]
		if !ok {
			continue
		}
		delete(fields, p.name)
		if err := p.parse(&o, fv); err != nil {
			return o, err
		}
	}
	if len(fields) > 0 {
		return o, optErr(sortedKeys(fields)[0], "unknown option")
	}
	if o.Origin != "" {
		if o.Header.Get("Origin") != "" {
			return o, optErr("origin", "conflicts with headers.Origin")
		}
		if o.Header == nil {
			o.Header = http.Header{}
		}
		o.Header.Set("Origin", o.Origin)
	}
	return o, nil
}

// stringKeyed returns the fields of tbl, which must all have string keys.
func stringKeyed(tbl *glua.LTable, what string) (map[string]glua.LValue, error) {
	fields := map[string]glua.LValue{}
	var bad glua.LValue
	for k, v := tbl.Next(glua.LNil); k != glua.LNil; k, v = tbl.Next(k) {
		s, ok := k.(glua.LString)
		if !ok {
			if bad == nil {
				bad = k
			}
			continue
		}
		fields[string(s)] = v
	}
	if bad != nil {
		return nil, fmt.Errorf("%s: keys must be strings, got %s key %s", what, bad.Type(), bad.String())
	}
	return fields, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// parseDuration reads a duration option: a number of milliseconds or a Go
// duration string such as "5s" or "250ms". Negative, non-finite, too large
// or malformed values are errors.
func parseDuration(name string, v glua.LValue) (time.Duration, error) {
	switch x := v.(type) {
	case glua.LNumber:
		f := float64(x)
		switch {
		case math.IsNaN(f) || math.IsInf(f, 0):
			return 0, optErr(name, "duration must be finite, got %v", f)
		case f < 0:
			return 0, optErr(name, "duration must not be negative, got %v", f)
		case f > maxDurationMillis:
			return 0, optErr(name, "duration too large: %v ms", f)
		}
		return time.Duration(f * float64(time.Millisecond)), nil
	case glua.LString:
		d, err := time.ParseDuration(strings.TrimSpace(string(x)))
		if err != nil {
			return 0, optErr(name, "bad duration %q (use milliseconds or a string such as \"5s\")", string(x))
		}
		if d < 0 {
			return 0, optErr(name, "duration must not be negative, got %q", string(x))
		}
		return d, nil
	}
	return 0, optErr(name, "number (milliseconds) or duration string expected, got %s", v.Type())
}

// parseInteger reads an integer option in [lo, hi].
func parseInteger(name string, v glua.LValue, lo, hi int64) (int64, error) {
	n, ok := v.(glua.LNumber)
	if !ok {
		return 0, optErr(name, "integer expected, got %s", v.Type())
	}
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
		return 0, optErr(name, "integer expected, got %v", f)
	}
	if f < float64(lo) || f > float64(hi) {
		return 0, optErr(name, "must be between %d and %d, got %v", lo, hi, f)
	}
	return int64(f), nil
}

// headersSetByHandshake may not be given in the headers option: the opening
// handshake owns them (subprotocols go in the protocols option).
var headersSetByHandshake = []string{
	"Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version",
	"Sec-Websocket-Extensions", "Sec-Websocket-Protocol", "Sec-Websocket-Accept",
	"Content-Length", "Transfer-Encoding",
}

// parseHeaders reads the headers option: name = value, where value is a
// string, a number, or an array of strings for a repeated header.
func parseHeaders(v glua.LValue) (http.Header, error) {
	tbl, ok := v.(*glua.LTable)
	if !ok {
		return nil, optErr("headers", "table expected, got %s", v.Type())
	}
	fields, err := stringKeyed(tbl, "invalid option headers")
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	for _, name := range sortedKeys(fields) {
		if !validToken(name) {
			return nil, optErr("headers", "invalid header name %q", name)
		}
		canon := http.CanonicalHeaderKey(name)
		if slices.Contains(headersSetByHandshake, canon) {
			return nil, optErr("headers", "header %s is set by the opening handshake", canon)
		}
		values, err := headerValues(name, fields[name])
		if err != nil {
			return nil, err
		}
		h[canon] = append(h[canon], values...)
	}
	return h, nil
}

func headerValues(name string, v glua.LValue) ([]string, error) {
	var values []string
	switch x := v.(type) {
	case glua.LString, glua.LNumber:
		values = []string{x.String()}
	case *glua.LTable:
		items, err := array(x)
		if err != nil {
			return nil, optErr("headers", "header %s: %v", name, err)
		}
		for _, it := range items {
			switch it.(type) {
			case glua.LString, glua.LNumber:
				values = append(values, it.String())
			default:
				return nil, optErr("headers", "header %s: string expected, got %s", name, it.Type())
			}
		}
		if len(values) == 0 {
			return nil, optErr("headers", "header %s: empty list", name)
		}
	default:
		return nil, optErr("headers", "header %s: string expected, got %s", name, v.Type())
	}
	for _, s := range values {
		if !validHeaderValue(s) {
			return nil, optErr("headers", "header %s: invalid value %q", name, s)
		}
	}
	return values, nil
}

// array returns the elements of a sequence table (keys exactly 1..n).
func array(tbl *glua.LTable) ([]glua.LValue, error) {
	var out []glua.LValue
	count := 0
	for k, _ := tbl.Next(glua.LNil); k != glua.LNil; k, _ = tbl.Next(k) {
		count++
	}
	for i := 1; i <= count; i++ {
		v := tbl.RawGetInt(i)
		if v == glua.LNil {
			return nil, errors.New("array expected (keys 1..n)")
		}
		out = append(out, v)
	}
	return out, nil
}

// parseProtocols reads the protocols option: an array of subprotocol names.
func parseProtocols(v glua.LValue) ([]string, error) {
	tbl, ok := v.(*glua.LTable)
	if !ok {
		return nil, optErr("protocols", "array of strings expected, got %s", v.Type())
	}
	items, err := array(tbl)
	if err != nil {
		return nil, optErr("protocols", "%v", err)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, ok := it.(glua.LString)
		if !ok {
			return nil, optErr("protocols", "string expected, got %s", it.Type())
		}
		if !validToken(string(s)) {
			return nil, optErr("protocols", "invalid subprotocol name %q", string(s))
		}
		if slices.Contains(out, string(s)) {
			return nil, optErr("protocols", "duplicate subprotocol %q", string(s))
		}
		out = append(out, string(s))
	}
	return out, nil
}

// parseTLS reads the tls option table.
func parseTLS(v glua.LValue) (*tlsOptions, error) {
	tbl, ok := v.(*glua.LTable)
	if !ok {
		return nil, optErr("tls", "table expected, got %s", v.Type())
	}
	fields, err := stringKeyed(tbl, "invalid option tls")
	if err != nil {
		return nil, err
	}
	t := &tlsOptions{}
	str := func(name string, dst *string) error {
		fv, ok := fields[name]
		if !ok {
			return nil
		}
		delete(fields, name)
		s, ok := fv.(glua.LString)
		if !ok || s == "" {
			return optErr("tls."+name, "non-empty string expected, got %s", fv.Type())
		}
		*dst = string(s)
		return nil
	}
	if fv, ok := fields["insecure_skip_verify"]; ok {
		delete(fields, "insecure_skip_verify")
		b, ok := fv.(glua.LBool)
		if !ok {
			return nil, optErr("tls.insecure_skip_verify", "boolean expected, got %s", fv.Type())
		}
		t.InsecureSkipVerify = bool(b)
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"ca_file", &t.CAFile}, {"server_name", &t.ServerName}, {"cert_file", &t.CertFile}, {"key_file", &t.KeyFile}} {
		if err := str(f.name, f.dst); err != nil {
			return nil, err
		}
	}
	if len(fields) > 0 {
		return nil, optErr("tls."+sortedKeys(fields)[0], "unknown option")
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, optErr("tls", "cert_file and key_file must be given together")
	}
	return t, nil
}

// parseProxy reads the proxy option: an http, https, socks5 or socks5h URL.
// (false, handled by the caller, disables the environment's proxy.)
func parseProxy(v glua.LValue) (*url.URL, error) {
	s, ok := v.(glua.LString)
	if !ok {
		return nil, optErr("proxy", "URL string or false expected, got %s", v.Type())
	}
	u, err := url.Parse(string(s))
	if err != nil {
		return nil, optErr("proxy", "bad URL")
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, optErr("proxy", "scheme must be http, https, socks5 or socks5h, got %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, optErr("proxy", "URL has no host")
	}
	return u, nil
}

// validToken reports whether s is an RFC 7230 token (header names,
// subprotocol names).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s may be sent as a header field value: no
// control characters other than horizontal tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// parseHTTP2 parses the http2 option: false (the default) dials over
// HTTP/1.1; true (or "prefer") opens the WebSocket as a stream of an HTTP/2
// connection (RFC 8441, wss:// only) shared with the script's other
// WebSockets to the same server, and falls back to HTTP/1.1 when the server
// does not offer it; "require" fails instead of falling back.
func parseHTTP2(v glua.LValue) (handshake.HTTP2Mode, error) {
	switch v {
	case glua.LFalse:
		return handshake.HTTP2Off, nil
	case glua.LTrue, glua.LString("prefer"):
		return handshake.HTTP2Prefer, nil
	case glua.LString("require"):
		return handshake.HTTP2Require, nil
	}
	return handshake.HTTP2Off, optErr("http2", `true, false, "prefer" or "require" expected, got %s`, luaValueText(v))
}

// luaValueText describes v for an error: strings quoted, others by type.
func luaValueText(v glua.LValue) string {
	if s, ok := v.(glua.LString); ok {
		return fmt.Sprintf("%q", string(s))
	}
	return v.Type().String()
}
