package testserver

import (
	"time"

	"github.com/wslua/wslua/protocol"
)

// DefaultMaxMessageSize is the read limit used when Options.MaxMessageSize is
// zero: large enough for the Autobahn 9.x cases (16 MiB messages).
const DefaultMaxMessageSize = 64 << 20

// DefaultScriptTimeout is used when Options.ScriptTimeout is zero.
const DefaultScriptTimeout = 5 * time.Second

// Options configure a Server or a ConnHandler. A nil *Options and the zero
// value are valid.
type Options struct {
	// MaxMessageSize is the largest message the server reads (echo read
	// limit). Zero means DefaultMaxMessageSize.
	MaxMessageSize int64
	// Subprotocols are the subprotocols /subprotocol supports, by order of
	// preference. Nil means "chat", "superchat".
	Subprotocols []string
	// ScriptTimeout bounds how long a script waits for the client (pongs,
	// close replies). Zero means DefaultScriptTimeout.
	ScriptTimeout time.Duration
	// CloseTimeout is passed on to protocol.Options.CloseTimeout.
	CloseTimeout time.Duration
	// ReadBufferSize and WriteBufferSize are passed on to protocol.Options.
	ReadBufferSize  int
	WriteBufferSize int
	// TLS makes New start a TLS server (wss://). Handler ignores it.
	TLS bool
	// HTTP2 makes New start a TLS server that also speaks HTTP/2 (ALPN h2)
	// with extended CONNECT, so that clients may open WebSockets over
	// HTTP/2 (RFC 8441). It implies TLS. Handler ignores it; extended
	// CONNECT is on in every process that imports testserver (see package
	// handshake/xconnect).
	HTTP2 bool
	// OnClose, if set, is called once at the end of every WebSocket session,
	// from the session's goroutine, before the session's connection is
	// released.
	OnClose func(CloseEvent)
	// Logf, if set, receives one line per session that ended with an
	// unexpected error.
	Logf func(format string, args ...any)
	// Compression holds the permessage-deflate parameters the server
	// accepts when a client offers the extension; nil means the defaults
	// of protocol.CompressionOptions. Set DisableCompression to decline
	// every offer.
	Compression        *protocol.CompressionOptions
	DisableCompression bool
}

// CloseEvent describes how a WebSocket session ended.
type CloseEvent struct {
	// Path and Query are the request's URL path and raw query.
	Path  string
	Query string
	// Code is the close code the client sent: 1005 for a close frame
	// without a body, 1006 when no close frame from the client was seen.
	Code protocol.StatusCode
	// Reason is the reason the client sent with its close frame.
	Reason string
	// Err is the error that ended the session, if any (for a close frame
	// received through protocol.Conn, the *protocol.CloseError).
	Err error
}

func (o *Options) maxMessageSize() int64 {
	if o.MaxMessageSize > 0 {
		return o.MaxMessageSize
	}
	return DefaultMaxMessageSize
}

func (o *Options) scriptTimeout() time.Duration {
	if o.ScriptTimeout > 0 {
		return o.ScriptTimeout
	}
	return DefaultScriptTimeout
}

func (o *Options) subprotocols() []string {
	if o.Subprotocols != nil {
		return o.Subprotocols
	}
	return []string{"chat", "superchat"}
}
