package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/lua"
	"github.com/wslua/wslua/protocol"
)

const connectUsage = `usage: wslua connect [flags] URL

Talks to the WebSocket server at URL (ws://, wss://).

On a terminal: each line typed is sent as a text message; each message
received is printed after "< " (text with control characters escaped,
binary as its length, hex and an escaped preview); the close is printed on
exit with its code, reason and who started it. Ctrl-D closes with 1000,
Ctrl-C with 1001 (a second Ctrl-C quits at once).

Otherwise (pipes): each line of standard input is sent as a text message
(with --binary, all of standard input as one binary message), each message
received is written to standard output followed by a newline (with --binary,
binary messages are written as they came, without one), and standard input's
end closes with 1000 (with --once, only the first message received is
printed, and the close waits for it).

Exit status: 0 after a close with 1000 (sent by the server, or sent by
wslua and answered), 1 when the connection could not be made, failed or
closed with another code (said on stderr, one line), 2 on a usage error,
130 when interrupted.

Flags:
`

// connectConfig is the parsed command line of wslua connect.
type connectConfig struct {
	url            string
	dial           handshake.DialOptions
	tls            *lua.TLSOptions // nil: default TLS configuration
	binary         bool
	once           bool
	showHandshake  bool
	showPing       bool
	maxMessageSize int64
}

// headerFlag collects -H "Name: value" flags.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string { return "" }

func (f *headerFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("want \"Name: value\", got %q", s)
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Add(name, strings.TrimSpace(value))
	return nil
}

// listFlag collects a repeatable flag; each value may also be a
// comma-separated list.
type listFlag []string

func (f *listFlag) String() string { return strings.Join(*f, ",") }

func (f *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*f = append(*f, v)
		}
	}
	return nil
}

// parseConnectArgs parses wslua connect's command line. It returns the exit
// status and true when the command is done (help or a usage error).
func parseConnectArgs(args []string, stdout, stderr io.Writer) (*connectConfig, int, bool) {
	fs := flag.NewFlagSet("wslua connect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		headers      headerFlag
		subprotocols listFlag
		cfg          = &connectConfig{}
		tlsOpts      lua.TLSOptions
		proxy        string
		noProxy      bool
		compression  bool
		origin       string
		co           = &cfg.dial.Conn
	)
	fs.Var(&headers, "H", "add a request header \"Name: value\" (repeatable)")
	fs.Var(&headers, "header", "same as -H")
	fs.Var(&subprotocols, "s", "offer a subprotocol (repeatable, or a comma-separated list)")
	fs.Var(&subprotocols, "subprotocol", "same as -s")
	fs.StringVar(&origin, "origin", "", "send this Origin header")
	fs.BoolVar(&compression, "compression", false, "offer permessage-deflate compression")
	fs.StringVar(&tlsOpts.CAFile, "ca-file", "", "trust the CA certificates of this PEM file (wss)")
	fs.BoolVar(&tlsOpts.InsecureSkipVerify, "insecure", false, "do not verify the server's certificate (wss)")
	fs.BoolVar(&tlsOpts.InsecureSkipVerify, "k", false, "same as --insecure")
	fs.StringVar(&tlsOpts.ServerName, "server-name", "", "verify the certificate for this name, and send it in SNI (wss)")
	fs.StringVar(&tlsOpts.CertFile, "cert", "", "client certificate PEM file (with --key)")
	fs.StringVar(&tlsOpts.KeyFile, "key", "", "client private key PEM file (with --cert)")
	fs.StringVar(&proxy, "proxy", "", "connect through this proxy: http://, https://, socks5:// or socks5h:// URL\n(default: $HTTP_PROXY, $HTTPS_PROXY, $NO_PROXY)")
	fs.BoolVar(&noProxy, "no-proxy", false, "connect directly, whatever the environment says")
	fs.DurationVar(&cfg.dial.DialTimeout, "dial-timeout", defaultDialTimeout, "bound on connecting and the opening handshake (0: none)")
	fs.DurationVar(&co.ReadTimeout, "read-timeout", 0, "fail the connection after this long without a frame from the server (0: none)")
	fs.DurationVar(&co.WriteTimeout, "write-timeout", 0, "bound on writing each frame (0: none)")
	fs.DurationVar(&co.PingInterval, "ping-interval", 0, "send a ping at this interval; no pong within --pong-timeout fails the connection (0: no keepalive)")
	fs.DurationVar(&co.PongTimeout, "pong-timeout", 0, "fail the connection when a keepalive ping gets no pong within this (default: the ping interval)")
	fs.DurationVar(&co.CloseTimeout, "close-timeout", defaultCloseTimeout, "how long to wait for the server's close reply")
	fs.Int64Var(&cfg.maxMessageSize, "max-message-size", defaultMaxMessageSize, "largest message received (the connection fails with 1009 above it), and largest --binary input, in bytes")
	fs.BoolVar(&cfg.binary, "binary", false, "send binary messages: all of standard input as one message (pipes), or each line typed (terminal)")
	fs.BoolVar(&cfg.once, "once", false, "print only the first message received, and close once it has come and standard input has been sent")
	fs.BoolVar(&cfg.showHandshake, "show-handshake", false, "print the request and response heads of the opening handshake on stderr (credentials redacted)")
	fs.BoolVar(&cfg.showPing, "show-ping", false, "print the pings and pongs received")
	help := fs.Bool("help", false, "print this help")
	fs.BoolVar(help, "h", false, "same as --help")

	usageErr := func(format string, a ...any) (*connectConfig, int, bool) {
		fmt.Fprintf(stderr, "wslua connect: "+format+"\n(wslua connect --help for help)\n", a...)
		return nil, exitUsage, true
	}
	// Flags may come before and after the URL.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				*help = true
				break
			}
			return usageErr("%v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if *help {
		fmt.Fprint(stdout, connectUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil, exitOK, true
	}
	switch len(positional) {
	case 0:
		return usageErr("missing URL")
	case 1:
		cfg.url = positional[0]
	default:
		return usageErr("one URL expected, got %q", positional)
	}

	cfg.dial.Header = headers.h
	cfg.dial.Subprotocols = subprotocols
	if origin != "" {
		if headers.h.Get("Origin") != "" {
			return usageErr("--origin conflicts with -H Origin")
		}
		if cfg.dial.Header == nil {
			cfg.dial.Header = http.Header{}
		}
		cfg.dial.Header.Set("Origin", origin)
	}
	if compression {
		cfg.dial.Compression = &protocol.CompressionOptions{}
	}
	if tlsOpts != (lua.TLSOptions{}) {
		if (tlsOpts.CertFile == "") != (tlsOpts.KeyFile == "") {
			return usageErr("--cert and --key go together")
		}
		cfg.tls = &tlsOpts
	}
	switch {
	case proxy != "" && noProxy:
		return usageErr("--proxy and --no-proxy exclude each other")
	case proxy != "":
		pu, err := url.Parse(proxy)
		if err != nil || pu.Host == "" {
			return usageErr("--proxy: not a URL with a host: %q", proxy)
		}
		switch pu.Scheme {
		case "http", "https", "socks5", "socks5h":
		default:
			return usageErr("--proxy: scheme must be http, https, socks5 or socks5h, got %q", pu.Scheme)
		}
		cfg.dial.Proxy = func(*url.URL) (*url.URL, error) { return pu, nil }
	case noProxy:
		cfg.dial.Proxy = func(*url.URL) (*url.URL, error) { return nil, nil }
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"dial-timeout", cfg.dial.DialTimeout}, {"read-timeout", co.ReadTimeout}, {"write-timeout", co.WriteTimeout},
		{"ping-interval", co.PingInterval}, {"pong-timeout", co.PongTimeout}, {"close-timeout", co.CloseTimeout},
	} {
		if d.v < 0 {
			return usageErr("--%s must not be negative, got %v", d.name, d.v)
		}
	}
	if cfg.maxMessageSize <= 0 {
		return usageErr("--max-message-size must be positive, got %d", cfg.maxMessageSize)
	}
	co.ReadLimit = cfg.maxMessageSize
	co.DedicatedReader = true
	return cfg, 0, false
}
