package testserver

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"time"
)

// shutdownTimeout bounds how long Serve waits for HTTP requests in progress
// when it stops.
const shutdownTimeout = 5 * time.Second

// Serve serves the scripted handler (NewHandler(opts)) on ln until ctx is
// done, then closes every WebSocket, shuts the HTTP server down (waiting at
// most 5 s for requests in progress) and returns nil; or it returns the
// error that stopped serving. It closes ln. For wss://, pass a listener
// from tls.NewListener. errorLog, if not nil, receives net/http's errors
// (nil: the log package's standard logger).
func Serve(ctx context.Context, ln net.Listener, opts *Options, errorLog *log.Logger) error {
	h := NewHandler(opts)
	defer h.Close()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          errorLog,
	}
	if opts != nil && opts.HTTP2 {
		// HTTP/2 over a TLS listener whose config offers "h2" (ALPN);
		// extended CONNECT needs handshake/xconnect imported.
		srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: MaxHTTP2Streams}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	h.Close() // hijacked connections are not seen by Shutdown
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	<-errc // Serve returns http.ErrServerClosed
	return err
}
