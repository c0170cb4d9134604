package testserver

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"

	// Extended CONNECT (RFC 8441) for Options.HTTP2.
	_ "github.com/wslua/wslua/handshake/xconnect"
)

// Server is a running test server: an httptest.Server on 127.0.0.1 serving
// a ConnHandler.
type Server struct {
	h  *ConnHandler
	hs *httptest.Server
}

// New starts a test server on a free port of 127.0.0.1 (with TLS, and so
// wss:// URLs, if opts.TLS). opts may be nil. Close it when done.
func New(opts *Options) *Server {
	h := NewHandler(opts)
	hs := httptest.NewUnstartedServer(h)
	switch {
	case opts != nil && opts.HTTP2:
		hs.EnableHTTP2 = true
		// Browsers and x/net open up to this many WebSockets per connection.
		hs.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: MaxHTTP2Streams}
		hs.StartTLS()
	case opts != nil && opts.TLS:
		hs.StartTLS()
	default:
		hs.Start()
	}
	return &Server{h: h, hs: hs}
}

// MaxHTTP2Streams is the limit on concurrent streams (and so WebSockets)
// per HTTP/2 connection of a Server started with Options.HTTP2.
const MaxHTTP2Streams = 1000

// URL returns the server's base WebSocket URL, "ws://127.0.0.1:port" (or
// "wss://..."), without a trailing slash: append a script path to it.
func (s *Server) URL() string {
	if u, ok := strings.CutPrefix(s.hs.URL, "https://"); ok {
		return "wss://" + u
	}
	return "ws://" + strings.TrimPrefix(s.hs.URL, "http://")
}

// HTTPURL returns the server's base http:// (or https://) URL.
func (s *Server) HTTPURL() string { return s.hs.URL }

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.hs.Listener.Addr().String() }

// TLSConfig returns a client TLS configuration that trusts the server's
// certificate, or nil if the server does not use TLS.
func (s *Server) TLSConfig() *tls.Config {
	if s.hs.TLS == nil {
		return nil
	}
	t, ok := s.hs.Client().Transport.(*http.Transport)
	if !ok || t.TLSClientConfig == nil {
		return nil
	}
	return t.TLSClientConfig.Clone()
}

// Handler returns the server's ConnHandler.
func (s *Server) Handler() *ConnHandler { return s.h }

// Close closes every open WebSocket, stops the server and returns once all
// of its goroutines have ended. It is safe to call more than once.
func (s *Server) Close() {
	s.h.Close()
	s.hs.Close()
}
