package handshake

import (
	"bytes"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Canonical names of the headers the handshake itself sets.
const (
	hdrUpgrade     = "Upgrade"
	hdrConnection  = "Connection"
	hdrKey         = "Sec-Websocket-Key"
	hdrVersion     = "Sec-Websocket-Version"
	hdrAccept      = "Sec-Websocket-Accept"
	hdrProtocol    = "Sec-Websocket-Protocol"
	hdrExtensions  = "Sec-Websocket-Extensions"
	hdrHost        = "Host"
	hdrAuth        = "Authorization"
	hdrOrigin      = "Origin"
	hdrLocation    = "Location"
	hdrContentLen  = "Content-Length"
	hdrTransferEnc = "Transfer-Encoding"
)

// reservedRequestHeaders are the headers DialOptions.Header may not set,
// with the reason given in the error.
var reservedRequestHeaders = map[string]string{
	hdrUpgrade:     "set by the handshake",
	hdrConnection:  "set by the handshake",
	hdrKey:         "set by the handshake",
	hdrVersion:     "set by the handshake",
	hdrAccept:      "a response header",
	hdrExtensions:  "extensions are negotiated by the handshake",
	hdrProtocol:    "use DialOptions.Subprotocols",
	hdrContentLen:  "the upgrade request has no body",
	hdrTransferEnc: "the upgrade request has no body",
}

// reservedResponseHeaders are the headers UpgradeOptions.ResponseHeader may
// not set.
var reservedResponseHeaders = map[string]string{
	hdrUpgrade:     "set by the handshake",
	hdrConnection:  "set by the handshake",
	hdrAccept:      "set by the handshake",
	hdrExtensions:  "extensions are negotiated by the handshake",
	hdrProtocol:    "use UpgradeOptions.Subprotocols",
	hdrContentLen:  "the 101 response has no body",
	hdrTransferEnc: "the 101 response has no body",
}

// isToken reports whether s is a non-empty token (RFC 9110, section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !httpguts.IsTokenRune(rune(s[i])) {
			return false
		}
	}
	return true
}

// hasToken reports whether any comma-separated element of values equals
// token, ASCII case-insensitively.
func hasToken(values []string, token string) bool {
	return httpguts.HeaderValuesContainsToken(values, token)
}

// listElements returns the trimmed, non-empty comma-separated elements of
// values.
func listElements(values []string) []string {
	var out []string
	for _, v := range values {
		for e := range strings.SplitSeq(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// checkHeaderField reports an error if name or value could not be written
// verbatim into a header line: invalid name characters, or CR, LF, NUL or
// another control character in the value. The value is never quoted in the
// error, as it may hold a secret.
func checkHeaderField(name, value string) error {
	if !httpguts.ValidHeaderFieldName(name) {
		return fmt.Errorf("invalid header name %q", name)
	}
	if !httpguts.ValidHeaderFieldValue(value) {
		return fmt.Errorf("invalid value for header %q (control characters such as CR, LF or NUL are not allowed)", name)
	}
	return nil
}

// checkExtraHeaders validates user-supplied headers: every field must be
// writable and none may be in reserved.
func checkExtraHeaders(h http.Header, reserved map[string]string) error {
	for name, values := range h {
		canon := textproto.CanonicalMIMEHeaderKey(name)
		if why, ok := reserved[canon]; ok {
			return fmt.Errorf("header %q may not be overridden (%s)", canon, why)
		}
		for _, v := range values {
			if err := checkHeaderField(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// headerValues returns the values of every key of h whose canonical form is
// canon, so that a non-canonical key such as "host" is not missed.
func headerValues(h http.Header, canon string) []string {
	var out []string
	for name, values := range h {
		if textproto.CanonicalMIMEHeaderKey(name) == canon {
			out = append(out, values...)
		}
	}
	return out
}

// writeHeader appends one header line to buf.
func writeHeader(buf *bytes.Buffer, name, value string) {
	buf.WriteString(name)
	buf.WriteString(": ")
	buf.WriteString(value)
	buf.WriteString("\r\n")
}

// writeExtraHeaders appends the fields of h in sorted name order, skipping the
// canonical names in skip. The fields must have passed checkExtraHeaders.
func writeExtraHeaders(buf *bytes.Buffer, h http.Header, skip ...string) {
	eachExtraHeader(h, skip, func(name, value string) { writeHeader(buf, name, value) })
}

// eachExtraHeader calls f for every field of h in sorted name order,
// skipping the canonical names in skip: the fields writeExtraHeaders writes.
func eachExtraHeader(h http.Header, skip []string, f func(name, value string)) {
	names := make([]string, 0, len(h))
	for name := range h {
		if !slices.Contains(skip, textproto.CanonicalMIMEHeaderKey(name)) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range h[name] {
			f(name, v)
		}
	}
}
