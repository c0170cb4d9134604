package handshake

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Stages named in HandshakeError.Op.
const (
	opDial      = "dial"
	opProxy     = "proxy"
	opTLS       = "tls"
	opHandshake = "handshake"
	opUpgrade   = "upgrade"
)

// Limits on what an error message quotes from the peer.
const (
	maxBodyInMessage = 128 // runes of a response body excerpt
	maxPeerText      = 128 // runes of a header value or status line
	maxCauseText     = 512 // runes of a wrapped error's message
)

// HandshakeError reports a failed opening handshake on either side.
//
// Dial returns one for every failure, with the cause (a network error,
// context.DeadlineExceeded, a *tls.CertificateVerificationError, ...) in Err,
// so errors.Is and errors.As see through it. Upgrade returns one after it has
// answered the client with StatusCode and a plain-text reason, or with
// StatusCode 0 when writing the 101 response itself failed.
type HandshakeError struct {
	// Op is the stage that failed: "dial" (URL, options, connecting),
	// "proxy", "tls" or "handshake" (the HTTP exchange) for Dial, and
	// "upgrade" for Upgrade.
	Op string
	// Reason says in words what was wrong.
	Reason string
	// StatusCode is the HTTP status involved: for Dial the status the server
	// (or, with Op "proxy", the proxy) answered, for Upgrade the status it
	// answered the client with. It is 0 when no response was exchanged.
	StatusCode int
	// Location is the Location header of a redirect (3xx) response. Dial
	// never follows redirects.
	Location string
	// Body holds the first bytes (at most 1 KiB) of a non-101 response's
	// body, read with a bound on size and time.
	Body []byte
	// Err is the underlying error, if any.
	Err error
}

// Error returns "websocket: <op>: <reason>", followed by a sanitized excerpt
// of Body and the message of Err when there are any.
func (e *HandshakeError) Error() string {
	var b strings.Builder
	b.WriteString("websocket: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if ex := sanitize(string(e.Body), maxBodyInMessage); ex != "" {
		b.WriteString(": ")
		b.WriteString(ex)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(sanitize(e.Err.Error(), maxCauseText))
	}
	return b.String()
}

// Unwrap returns Err.
func (e *HandshakeError) Unwrap() error { return e.Err }

// sanitize makes peer-controlled text safe to embed in a one-line message:
// whitespace runs become one space, other control or non-printable runes and
// invalid UTF-8 become '?', and the result is cut to max runes with "...".
func sanitize(s string, max int) string {
	var b strings.Builder
	n := 0
	space := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			r = '?'
		case unicode.IsSpace(r):
			space = true
			continue
		case !unicode.IsPrint(r):
			r = '?'
		}
		if n >= max {
			b.WriteString("...")
			break
		}
		if space && n > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}
