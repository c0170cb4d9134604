// Package clients holds one benchmark client per implementation in package
// echo, each used the way its documentation recommends for speed: reading
// into a reused buffer where the library allows it, and driving the
// exchange from its event callbacks for gws, whose API is event-driven.
package clients

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"

	"github.com/wslua/wslua/bench/internal/echo"
)

// Client is one open benchmark connection.
type Client interface {
	// RoundTrips sends p n times as a text (text true) or binary message,
	// each time waiting for the whole echo before sending again.
	RoundTrips(n int, text bool, p []byte) error
	// Stream sends p n times as a binary message to a sink, reading its
	// ack after every echo.AckEvery messages; n must be a multiple of
	// echo.AckEvery.
	Stream(n int, p []byte) error
	// Close closes the connection.
	Close() error
}

// Dial connects the client of impl to rawURL, an echo server's URL
// (ws://host:port/path; the TCP baseline uses the same form).
func Dial(impl, rawURL string) (Client, error) {
	switch impl {
	case echo.Ours:
		return dialOurs(rawURL)
	case echo.Gorilla:
		return dialGorilla(rawURL)
	case echo.Coder:
		return dialCoder(rawURL)
	case echo.GWS:
		return dialGWS(rawURL)
	case echo.Gobwas:
		return dialGobwas(rawURL)
	case echo.TCP:
		return dialTCP(rawURL)
	}
	return nil, fmt.Errorf("clients: unknown implementation %q", impl)
}

// errEcho reports an echo that differs from what was sent.
var errEcho = errors.New("clients: echo differs from the message sent")

// errStream reports a bad call to Stream or a bad ack.
var errStream = errors.New("clients: bad stream count or ack")

// FullCheck makes every client compare each echo byte for byte with the
// message sent. Tests set it; benchmarks leave it off, since a full
// comparison of a large message costs about as much as its transfer.
var FullCheck = false

// check compares an echo with the message sent: length, first and last byte,
// or every byte if FullCheck is set.
func check(got, sent []byte) error {
	if FullCheck && !bytes.Equal(got, sent) {
		return errEcho
	}
	if len(got) != len(sent) {
		return fmt.Errorf("%w: %d bytes, sent %d", errEcho, len(got), len(sent))
	}
	if len(got) > 0 && (got[0] != sent[0] || got[len(got)-1] != sent[len(sent)-1]) {
		return errEcho
	}
	return nil
}

// checkAck validates a sink's ack.
func checkAck(got []byte) error {
	if string(got) != string(echo.Ack) {
		return errStream
	}
	return nil
}

// checkStreamCount validates Stream's n.
func checkStreamCount(n int) error {
	if n < 0 || n%echo.AckEvery != 0 {
		return fmt.Errorf("%w: n=%d", errStream, n)
	}
	return nil
}

// hostPath splits a ws:// URL into host:port and path.
func hostPath(rawURL string) (host, path string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", err
	}
	return u.Host, u.Path, nil
}
