package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wslua/wslua/protocol"
)

// previewBytes is how many bytes of a binary message a terminal shows.
const previewBytes = 32

// printMessage prints a received message: on a terminal after "< ", text
// with its control characters escaped and binary as a preview; on a pipe as
// it came, followed by a newline (none after binary with --binary, whose
// output is the bytes received).
func (s *session) printMessage(typ protocol.MessageType, p []byte) {
	if s.tty {
		if typ == protocol.MessageText {
			fmt.Fprintf(s.sio.out, "< %s\n", escapeControls(string(p)))
		} else {
			fmt.Fprintf(s.sio.out, "< binary %s\n", binaryPreview(p))
		}
		return
	}
	s.sio.out.Write(p)
	if typ == protocol.MessageText || !s.cfg.binary {
		io.WriteString(s.sio.out, "\n")
	}
}

// printControl prints a ping or pong received (--show-ping): with the
// messages on a terminal, on stderr otherwise (standard output holds only
// messages).
func (s *session) printControl(kind eventKind, p []byte) {
	w, name := s.sio.err, "ping"
	if s.tty {
		w = s.sio.out
	}
	if kind == evPong {
		name = "pong"
	}
	fmt.Fprintf(w, "< %s %s\n", name, strconv.Quote(string(p)))
}

// binaryPreview returns "N bytes: hex... "escaped..."" for the first
// previewBytes bytes of p.
func binaryPreview(p []byte) string {
	head, more := p, ""
	if len(head) > previewBytes {
		head, more = head[:previewBytes], " ..."
	}
	unit := "bytes"
	if len(p) == 1 {
		unit = "byte"
	}
	if len(p) == 0 {
		return "0 bytes"
	}
	return fmt.Sprintf("%d %s: % x%s %s%s", len(p), unit, head, more, strconv.QuoteToASCII(string(head)), more)
}

// escapeControls escapes control characters and invalid UTF-8 in s (a
// server's text must not drive the terminal), as Go escapes them in
// strings.
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, needsEscape) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case needsEscape(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func needsEscape(r rune) bool { return r != '\t' && unicode.IsControl(r) }

// codeText returns "1000 (normal closure)" followed by the quoted reason, if
// any.
func codeText(code protocol.StatusCode, reason string) string {
	s := strconv.Itoa(int(code))
	if name := code.String(); !strings.HasPrefix(name, "status ") {
		s += " (" + name + ")"
	}
	if reason != "" {
		s += " " + strconv.Quote(reason)
	}
	return s
}

// displayURL returns rawURL without credentials, query or fragment.
func displayURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return rawURL
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
}

// connDetails returns " (subprotocol x, permessage-deflate)" for what the
// handshake agreed, or "".
func connDetails(c *protocol.Conn) string {
	var parts []string
	if sp := c.Subprotocol(); sp != "" {
		parts = append(parts, "subprotocol "+sp)
	}
	if c.Compression() != nil {
		parts = append(parts, "permessage-deflate")
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// redactedHeaders carry credentials: --show-handshake prints "[redacted]".
var redactedHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}

// writeHandshake prints the opening handshake's request head (lines
// starting with "> ") and response head ("< "), as curl -v does.
func writeHandshake(w io.Writer, resp *http.Response) {
	var b strings.Builder
	if req := resp.Request; req != nil {
		fmt.Fprintf(&b, "> %s %s %s\n", req.Method, req.URL.RequestURI(), req.Proto)
		fmt.Fprintf(&b, "> Host: %s\n", req.Host)
		writeHeaderLines(&b, "> ", req.Header)
		b.WriteString(">\n")
	}
	fmt.Fprintf(&b, "< %s %s\n", resp.Proto, resp.Status)
	writeHeaderLines(&b, "< ", resp.Header)
	b.WriteString("<\n")
	io.WriteString(w, b.String())
}

// writeHeaderLines writes h sorted by name, credentials redacted.
func writeHeaderLines(b *strings.Builder, prefix string, h http.Header) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range h[name] {
			if slices.Contains(redactedHeaders, http.CanonicalHeaderKey(name)) {
				v = "[redacted]"
			}
			fmt.Fprintf(b, "%s%s: %s\n", prefix, wireName(name), escapeControls(v))
		}
	}
}

// wireName spells a canonical header name as RFC 6455 does
// ("Sec-WebSocket-Key", not Go's "Sec-Websocket-Key").
func wireName(name string) string {
	if rest, ok := strings.CutPrefix(name, "Sec-Websocket-"); ok {
		return "Sec-WebSocket-" + rest
	}
	return name
}
