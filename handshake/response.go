package handshake

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Bounds on reading a server's (or proxy's) answer.
const (
	// maxResponseHead bounds the status line and headers together.
	maxResponseHead = 64 << 10
	// maxBodyExcerpt bounds how much of a non-101 body is read.
	maxBodyExcerpt = 1 << 10
	// bodyReadTimeout bounds the time spent reading that excerpt.
	bodyReadTimeout = 2 * time.Second
)

var errHeadTooLarge = fmt.Errorf("response head exceeds %d bytes", maxResponseHead)

// headLimiter passes reads through to r until n bytes have been read, then
// fails with errHeadTooLarge. After lift it passes every read through, so the
// bufio.Reader on top of it can serve the WebSocket stream.
type headLimiter struct {
	r io.Reader
	n int64 // bytes left; negative once lifted
}

// Read reads from r within the limit.
func (l *headLimiter) Read(p []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(p)
	}
	if l.n == 0 {
		return 0, errHeadTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// lift removes the limit.
func (l *headLimiter) lift() { l.n = -1 }

// headErr reports errHeadTooLarge for any parse failure that happened once
// the limit was reached: textproto may wrap or replace the reader's error.
func headErr(l *headLimiter, err error) error {
	if l.n == 0 {
		return errHeadTooLarge
	}
	return err
}

// responseCheck is what the client expects of the server's answer.
type responseCheck struct {
	key          string            // the Sec-WebSocket-Key sent
	subprotocols []string          // the subprotocols offered
	extensions   []clientExtension // the extensions offered (none yet)
}

// readResponse reads the response head through lim and br (br reading from
// lim) and validates it against c. On success it returns the response and the
// selected subprotocol; the limit is then lifted and br holds whatever the
// server sent after the head. A non-101 response's body is read into the
// error, at most maxBodyExcerpt bytes, after calling beforeBody (if not nil),
// which should bound the time that read may take.
//
// A response is returned whenever one was parsed, with its Body replaced by
// the excerpt read (or http.NoBody), so that callers may inspect it.
func readResponse(br *bufio.Reader, lim *headLimiter, c *responseCheck, beforeBody func()) (*http.Response, string, error) {
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		err = headErr(lim, err)
		reason := "reading response"
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			reason = "connection closed before the response was complete"
		}
		return nil, "", &HandshakeError{Op: opHandshake, Reason: reason, Err: err}
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fail(resp, beforeBody)
	}
	resp.Body = http.NoBody
	he := func(reason string) (*http.Response, string, error) {
		return resp, "", &HandshakeError{Op: opHandshake, Reason: reason, StatusCode: resp.StatusCode}
	}

	h := resp.Header
	if v := h.Values(hdrUpgrade); len(v) == 0 {
		return he("missing Upgrade header")
	} else if !hasToken(v, "websocket") {
		return he(fmt.Sprintf("Upgrade header is %q, want \"websocket\"", sanitize(strings.Join(v, ", "), maxPeerText)))
	}
	if v := h.Values(hdrConnection); len(v) == 0 {
		return he("missing Connection header")
	} else if !hasToken(v, "upgrade") {
		return he(fmt.Sprintf("Connection header %q lacks the \"upgrade\" token", sanitize(strings.Join(v, ", "), maxPeerText)))
	}
	if v := h.Values(hdrAccept); len(v) == 0 {
		return he("missing Sec-WebSocket-Accept header")
	} else if len(v) > 1 || strings.TrimSpace(v[0]) != AcceptKey(c.key) {
		return he("Sec-WebSocket-Accept mismatch")
	}
	sub, reason := selectedSubprotocol(h.Values(hdrProtocol), c.subprotocols)
	if reason != "" {
		return he(reason)
	}
	if err := negotiateClientExtensions(c.extensions, h); err != nil {
		return he(err.Error())
	}
	lim.lift()
	return resp, sub, nil
}

// selectedSubprotocol checks the server's Sec-WebSocket-Protocol values: at
// most one subprotocol, and only one that was offered. It returns the
// subprotocol or the reason it is refused.
func selectedSubprotocol(values, offered []string) (sub, reason string) {
	elems := listElements(values)
	switch {
	case len(elems) == 0:
		return "", ""
	case len(elems) > 1:
		return "", fmt.Sprintf("server selected more than one subprotocol: %q", sanitize(strings.Join(values, ", "), maxPeerText))
	case !slices.Contains(offered, elems[0]):
		return "", fmt.Sprintf("unrequested subprotocol %q", sanitize(elems[0], maxPeerText))
	}
	return elems[0], ""
}

// fail builds the error for a non-101 response, reading a bounded excerpt of
// its body.
func fail(resp *http.Response, beforeBody func()) (*http.Response, string, error) {
	e := &HandshakeError{
		Op:         opHandshake,
		StatusCode: resp.StatusCode,
		Reason:     "server answered " + sanitize(resp.Status, maxPeerText),
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.Location = resp.Header.Get(hdrLocation)
		if e.Location != "" {
			e.Reason += ": redirect to " + sanitize(e.Location, maxPeerText*2) + " not followed"
		} else {
			e.Reason += ": redirect not followed"
		}
	}
	if beforeBody != nil {
		beforeBody()
	}
	buf := make([]byte, maxBodyExcerpt)
	n, _ := io.ReadFull(resp.Body, buf)
	if n > 0 {
		e.Body = buf[:n:n]
		resp.Body = io.NopCloser(strings.NewReader(string(e.Body)))
	} else {
		resp.Body = http.NoBody
	}
	return resp, "", e
}
