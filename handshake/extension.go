package handshake

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// extension is one element of a Sec-WebSocket-Extensions list (RFC 6455,
// section 9.1): a name and its parameters.
type extension struct {
	name   string
	params []extensionParam
}

// extensionParam is one parameter of an extension; value is meaningful when
// hasValue (a quoted value is stored unquoted).
type extensionParam struct {
	name     string
	value    string
	hasValue bool
}

// clientExtension negotiates one extension on the client side. Dial offers
// no extension yet; permessage-deflate will be the first implementation. The
// request carries offer() for each offered extension, and the server's
// selection is handed to accept, which rejects parameters it cannot honour.
type clientExtension interface {
	// name is the extension token, e.g. "permessage-deflate".
	name() string
	// offer is the Sec-WebSocket-Extensions element sent in the request.
	offer() string
	// accept validates the parameters the server answered with.
	accept(params []extensionParam) error
}

var errMalformedExtensions = errors.New("malformed Sec-WebSocket-Extensions header")

// negotiateClientExtensions validates the server's Sec-WebSocket-Extensions
// against what was offered: every selected extension must have been offered,
// at most once, and its parameters accepted.
func negotiateClientExtensions(offered []clientExtension, h http.Header) error {
	exts, err := parseExtensions(h.Values(hdrExtensions))
	if err != nil {
		return err
	}
	used := make([]bool, len(offered))
	for _, e := range exts {
		i := -1
		for j, o := range offered {
			if strings.EqualFold(o.name(), e.name) {
				i = j
				break
			}
		}
		if i < 0 {
			return fmt.Errorf("unrequested extension %q", sanitize(e.name, maxPeerText))
		}
		if used[i] {
			return fmt.Errorf("extension %q selected twice", e.name)
		}
		used[i] = true
		if err := offered[i].accept(e.params); err != nil {
			return fmt.Errorf("extension %q: %w", e.name, err)
		}
	}
	return nil
}

// parseExtensions parses the values of Sec-WebSocket-Extensions headers.
// Empty list elements are skipped, as RFC 9110 list syntax allows.
func parseExtensions(values []string) ([]extension, error) {
	var out []extension
	for _, s := range values {
		for {
			s = skipSpace(s)
			if s == "" {
				break
			}
			if s[0] == ',' {
				s = s[1:]
				continue
			}
			var e extension
			e.name, s = scanToken(s)
			if e.name == "" {
				return nil, errMalformedExtensions
			}
			for {
				s = skipSpace(s)
				if s == "" || s[0] == ',' {
					break
				}
				if s[0] != ';' {
					return nil, errMalformedExtensions
				}
				var p extensionParam
				p.name, s = scanToken(skipSpace(s[1:]))
				if p.name == "" {
					return nil, errMalformedExtensions
				}
				if s = skipSpace(s); s != "" && s[0] == '=' {
					s = skipSpace(s[1:])
					var ok bool
					if s != "" && s[0] == '"' {
						p.value, s, ok = scanQuoted(s)
					} else {
						p.value, s = scanToken(s)
						ok = p.value != ""
					}
					if !ok {
						return nil, errMalformedExtensions
					}
					p.hasValue = true
				}
				e.params = append(e.params, p)
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// skipSpace drops leading spaces and tabs.
func skipSpace(s string) string {
	return strings.TrimLeft(s, " \t")
}

// scanToken splits the leading token off s.
func scanToken(s string) (tok, rest string) {
	i := 0
	for i < len(s) && httpguts.IsTokenRune(rune(s[i])) {
		i++
	}
	return s[:i], s[i:]
}

// scanQuoted splits a leading quoted-string off s and returns it unquoted.
func scanQuoted(s string) (val, rest string, ok bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], true
		case '\\':
			i++
			if i == len(s) {
				return "", "", false
			}
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}
