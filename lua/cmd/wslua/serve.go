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
	"strings"

	"github.com/wslua/wslua/testserver"
)

const serveUsage = `usage: wslua serve [flags]

Runs the scripted WebSocket test server (echo at /, and paths that
misbehave on purpose) until Ctrl-C, and prints its URL and its paths.
With --tls it serves wss:// with a self-signed certificate generated at
start: --cert-out writes it (PEM) for clients to trust, as in
  wslua connect --ca-file FILE wss://127.0.0.1:PORT/
and without --cert-out it is printed. --http2 implies --tls and also
speaks HTTP/2 with extended CONNECT, so that browsers and clients with
http2 = true open WebSockets as HTTP/2 streams (RFC 8441).

Flags:
`

// runServe is wslua serve.
func runServe(ctx context.Context, args []string, sio stdio) int {
	fs := flag.NewFlagSet("wslua serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (port 0: a free port)")
	useTLS := fs.Bool("tls", false, "serve wss:// with a generated self-signed certificate")
	useH2 := fs.Bool("http2", false, "also serve WebSockets over HTTP/2 (RFC 8441); implies --tls")
	certOut := fs.String("cert-out", "", "with --tls, write the certificate (PEM) to this file")
	maxSize := fs.Int64("max-message-size", testserver.DefaultMaxMessageSize, "largest message the server reads, in bytes")
	noCompression := fs.Bool("no-compression", false, "decline permessage-deflate offers")
	verbose := fs.Bool("v", false, "log the sessions that end with an unexpected error")
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(sio.err, "wslua serve: "+format+"\n(wslua serve --help for help)\n", a...)
		return exitUsage
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(sio.out, serveUsage)
			fs.SetOutput(sio.out)
			fs.PrintDefaults()
			return exitOK
		}
		return usageErr("%v", err)
	}
	switch {
	case fs.NArg() > 0:
		return usageErr("unexpected arguments: %q", fs.Args())
	case *certOut != "" && !*useTLS && !*useH2:
		return usageErr("--cert-out needs --tls")
	case *maxSize <= 0:
		return usageErr("--max-message-size must be positive, got %d", *maxSize)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(sio.err, "wslua serve: %v\n", err)
		return exitFailure
	}
	scheme := "ws"
	var certPEM []byte
	protos := []string{"http/1.1"}
	if *useH2 {
		protos = []string{"h2", "http/1.1"}
	}
	if *useTLS || *useH2 {
		host, _, _ := net.SplitHostPort(*addr)
		var cert tls.Certificate
		cert, certPEM, err = selfSignedCert(host)
		if err == nil && *certOut != "" {
			err = os.WriteFile(*certOut, certPEM, 0o644)
		}
		if err != nil {
			ln.Close()
			fmt.Fprintf(sio.err, "wslua serve: certificate: %v\n", err)
			return exitFailure
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: protos})
		scheme = "wss"
	}
	logger := log.New(sio.err, "wslua serve: ", log.LstdFlags)
	opts := &testserver.Options{MaxMessageSize: *maxSize, DisableCompression: *noCompression, HTTP2: *useH2}
	if *verbose {
		opts.Logf = logger.Printf
	}

	base := scheme + "://" + ln.Addr().String()
	var b strings.Builder
	fmt.Fprintf(&b, "serving %s/ (Ctrl-C stops)\n", base)
	switch {
	case *certOut != "":
		fmt.Fprintf(&b, "certificate written to %s: wslua connect --ca-file %s %s/\n", *certOut, *certOut, base)
	case certPEM != nil:
		fmt.Fprintf(&b, "certificate (trust it with wslua connect --ca-file FILE):\n%s", certPEM)
	}
	b.WriteString("paths:\n")
	for _, p := range testserver.Paths() {
		fmt.Fprintf(&b, "  %-13s %s\n", p.Path, p.Summary)
	}
	io.WriteString(sio.out, b.String())

	if err := testserver.Serve(ctx, ln, opts, logger); err != nil {
		fmt.Fprintf(sio.err, "wslua serve: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(sio.err, "wslua serve: stopped")
	return exitOK
}
