// Command wstestserver serves the scripted WebSocket test server of package
// testserver: echo at / and /echo, and the scripted behaviours listed in the
// package documentation. It is the target of the Autobahn fuzzingclient.
//
// Usage:
//
//	wstestserver [-addr 127.0.0.1:9001] [-max-message-size 67108864] [-v] [-tls] [-http2]
//
// -tls serves wss:// with a self-signed certificate generated at start;
// -http2 does too, and also speaks HTTP/2 with extended CONNECT, so that
// browsers and DialOptions.HTTP2 open WebSockets over HTTP/2 (RFC 8441).
// Extended CONNECT is enabled by importing handshake/xconnect (the
// equivalent of GODEBUG=http2xconnect=1).
//
// It runs until interrupted (SIGINT or SIGTERM), then closes every open
// WebSocket and exits.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	// Extended CONNECT (RFC 8441) for -http2: see handshake/xconnect.
	_ "github.com/wslua/wslua/handshake/xconnect"
	"github.com/wslua/wslua/testserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wstestserver:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done. ready, if set, is called with the listening
// address once the server accepts connections.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("wstestserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9001", "address to listen on")
	maxSize := fs.Int64("max-message-size", testserver.DefaultMaxMessageSize, "largest message the server reads, in bytes")
	verbose := fs.Bool("v", false, "log every session that ends with an unexpected error")
	noCompression := fs.Bool("no-compression", false, "decline permessage-deflate offers")
	useTLS := fs.Bool("tls", false, "serve wss:// with a generated self-signed certificate")
	useH2 := fs.Bool("http2", false, "serve wss:// and WebSockets over HTTP/2 (RFC 8441); implies -tls")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *maxSize <= 0 {
		return errors.New("-max-message-size must be positive")
	}
	logger := log.New(stderr, "", log.LstdFlags)
	opts := &testserver.Options{MaxMessageSize: *maxSize, DisableCompression: *noCompression}
	if *verbose {
		opts.Logf = logger.Printf
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	scheme := "ws"
	if *useTLS || *useH2 {
		cert, err := testserver.SelfSignedCert()
		if err != nil {
			ln.Close()
			return err
		}
		protos := []string{"http/1.1"}
		if *useH2 {
			protos = []string{"h2", "http/1.1"}
			opts.HTTP2 = true
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: protos})
		scheme = "wss"
	}
	logger.Printf("wstestserver: listening on %s://%s/", scheme, ln.Addr())
	if ready != nil {
		ready(ln.Addr().String())
	}
	err = testserver.Serve(ctx, ln, opts, logger)
	logger.Printf("wstestserver: shut down")
	return err
}
