package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/testserver"
)

// connectCmd runs wslua connect in-process with stdin as standard input (a
// pipe, not a terminal) and returns its exit status, stdout and stderr.
func connectCmd(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, append([]string{"connect"}, args...), stdio{stdin, &stdout, &stderr})
	require.NoError(t, ctx.Err(), "wslua connect did not end")
	return code, stdout.String(), stderr.String()
}

// slowInput is a standard input that ends only after d: the server speaks
// first.
func slowInput(t *testing.T, d time.Duration) io.Reader {
	r, w := io.Pipe()
	timer := time.AfterFunc(d, func() { w.Close() })
	t.Cleanup(func() { timer.Stop(); w.Close() })
	return r
}

func TestConnectPipes(t *testing.T) {
	srv := testserver.New(nil)
	defer srv.Close()
	base := srv.URL() + "/"
	bin := []byte("\x00\x01binary\nwith a newline\xff")

	tests := []struct {
		name   string
		stdin  io.Reader
		wait   time.Duration // instead of stdin: input that ends after wait
		args   []string
		code   int
		stdout string
		stderr string // regular expression matched against the whole of stderr
		rawOut []byte // instead of stdout, when set
	}{
		{name: "echo lines", stdin: strings.NewReader("hello\nworld\r\nlast line without newline"), args: []string{base},
			stdout: "hello\nworld\nlast line without newline\n"},
		{name: "empty input closes at once", stdin: strings.NewReader(""), args: []string{base + "echo"}},
		{name: "once waits for one message", stdin: strings.NewReader(""), args: []string{"--once", base + "send?text=hi&text=more"},
			stdout: "hi\n"},
		{name: "binary stdin is one message", stdin: bytes.NewReader(bin), args: []string{"--binary", "--once", base},
			rawOut: bin},
		{name: "binary received on a pipe", wait: time.Second, args: []string{"--once", base + "send?binary=%00%01"},
			stdout: "\x00\x01\n"},
		{name: "invalid UTF-8 line is not sent", stdin: strings.NewReader("ok\n\xff\xfe\nok2\n"), args: []string{base},
			stdout: "ok\nok2\n", stderr: `^wslua: not sent: the line is not valid UTF-8 \(use --binary\)\n$`},
		{name: "server closes with 1011", wait: 10 * time.Second, args: []string{base + "close?code=1011&reason=oops"},
			code: exitFailure, stderr: `^wslua: closed by the server with 1011 \(internal error\) "oops"\n$`},
		{name: "server closes with 1000", wait: 10 * time.Second, args: []string{base + "close?code=1000"}},
		{name: "dropped", wait: 10 * time.Second, args: []string{base + "drop"},
			code: exitFailure, stderr: `^wslua: connection failed with 1006 \(abnormal closure\): .*EOF\n$`},
		{name: "no close reply", stdin: strings.NewReader("x\n"), args: []string{"--close-timeout", "200ms", base + "noclose"},
			code: exitFailure, stdout: "x\n", stderr: `^wslua: closed by us with 1000 \(normal closure\); no close reply from the server within 200ms\n$`},
		{name: "message too big", wait: 10 * time.Second, args: []string{"--max-message-size", "10", base + "send?text=0123456789abc"},
			code: exitFailure, stderr: `^wslua: connection failed with 1009 \(message too big\): .*\n$`},
		{name: "pings shown on stderr", stdin: strings.NewReader(""), args: []string{"--once", "--show-ping", base + "ping?data=abc"},
			stdout: "{\"count\":1,\"pongs\":[\"616263\"],\"inorder\":true}\n", stderr: `^< ping "abc"\n$`},
		{name: "pings hidden by default", stdin: strings.NewReader(""), args: []string{"--once", base + "ping?data=abc"},
			stdout: "{\"count\":1,\"pongs\":[\"616263\"],\"inorder\":true}\n"},
		{name: "keepalive pongs shown", wait: 400 * time.Millisecond, args: []string{"--ping-interval", "50ms", "--pong-timeout", "10s", "--show-ping", base},
			stderr: `^(< pong "[^"]*"\n)+$`},
		{name: "read timeout", wait: 10 * time.Second, args: []string{"--read-timeout", "100ms", base + "stall?drain=1"},
			code: exitFailure, stderr: `^wslua: connection failed with 1006 \(abnormal closure\): .*timeout.*\n$`},
		{name: "flags after the URL", stdin: strings.NewReader("x\n"), args: []string{base + "subprotocol", "-s", "superchat", "--compression"},
			stdout: "x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := tt.stdin
			if tt.wait > 0 {
				stdin = slowInput(t, tt.wait)
			}
			code, out, errOut := connectCmd(t, stdin, tt.args...)
			require.Equal(t, tt.code, code, "stderr: %s", errOut)
			if tt.rawOut != nil {
				require.Equal(t, tt.rawOut, []byte(out))
			} else {
				require.Equal(t, tt.stdout, out)
			}
			if tt.stderr == "" {
				require.Empty(t, errOut)
			} else {
				require.Regexp(t, regexp.MustCompile(tt.stderr), errOut)
			}
		})
	}
}

// --show-handshake prints both heads, credentials redacted.
func TestConnectShowHandshake(t *testing.T) {
	srv := testserver.New(nil)
	defer srv.Close()
	u := strings.Replace(srv.URL(), "ws://", "ws://alice:secret@", 1) + "/subprotocol?x=1"
	code, out, errOut := connectCmd(t, strings.NewReader("hi\n"), "--show-handshake", "-s", "chat",
		"-H", "Cookie: session=s3cret", "-H", "X-Trace: abc", "--origin", "http://example.com", u)
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "hi\n", out)
	require.NotContains(t, errOut, "secret")
	require.NotContains(t, errOut, "s3cret")
	for _, want := range []string{
		"> GET /subprotocol?x=1 HTTP/1.1\n",
		"> Host: " + srv.Addr() + "\n",
		"> Authorization: [redacted]\n",
		"> Cookie: [redacted]\n",
		"> Origin: http://example.com\n",
		"> Sec-WebSocket-Protocol: chat\n",
		"> Sec-WebSocket-Version: 13\n",
		"> X-Trace: abc\n",
		">\n< HTTP/1.1 101 Switching Protocols\n",
		"< Sec-WebSocket-Protocol: chat\n",
		"< Upgrade: websocket\n<\n",
	} {
		require.Contains(t, errOut, want)
	}
	require.Regexp(t, regexp.MustCompile(`(?m)^> Sec-WebSocket-Key: [A-Za-z0-9+/]{22}==$`), errOut)
	require.Regexp(t, regexp.MustCompile(`(?m)^< Sec-WebSocket-Accept: \S+$`), errOut)

	// A refused handshake shows the response too.
	code, _, errOut = connectCmd(t, strings.NewReader(""), "--show-handshake", srv.URL()+"/nope")
	require.Equal(t, exitFailure, code)
	require.Contains(t, errOut, "< HTTP/1.1 404 Not Found\n")
	require.Contains(t, errOut, "wslua: websocket: handshake: server answered 404 Not Found: 404 page not found\n")
}

// luaConnectError returns the error websocket.connect returns for url and
// the options table opts (Lua source).
func luaConnectError(t *testing.T, url, opts string) string {
	t.Helper()
	code, out, errOut := runCmd(t, "-e", "local c, err = websocket.connect("+luaQuote(url)+", "+opts+") assert(not c) print(err)")
	require.Equal(t, exitOK, code, errOut)
	return strings.TrimSuffix(out, "\n")
}

func luaQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// Failures to connect are one line, the text websocket.connect returns for
// the same failure.
func TestConnectErrorsAsLua(t *testing.T) {
	srv := testserver.New(nil)
	defer srv.Close()
	tlsSrv := testserver.New(&testserver.Options{TLS: true})
	defer tlsSrv.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := "ws://" + ln.Addr().String() + "/"
	require.NoError(t, ln.Close())

	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts (backlog), never answers
	require.NoError(t, err)
	defer silent.Close()

	badPEM := filepath.Join(t.TempDir(), "bad.pem")
	require.NoError(t, os.WriteFile(badPEM, []byte("not a certificate"), 0o600))

	tests := []struct {
		name    string
		url     string
		args    []string
		luaOpts string
		want    string // a substring of the error
	}{
		{"refused", refused, nil, "nil", "connection refused"},
		{"4xx with body", srv.URL() + "/ping?count=x", nil, "nil", "server answered 400 Bad Request: testserver: parameter count"},
		{"404", srv.URL() + "/nope", nil, "nil", "404 page not found"},
		{"TLS unknown authority", tlsSrv.URL() + "/", nil, "nil", "tls: handshake with"},
		{"TLS wrong name", tlsSrv.URL() + "/", []string{"--server-name", "other.example"}, `{tls = {server_name = "other.example"}}`, "tls: handshake with"},
		{"CA file missing", tlsSrv.URL() + "/", []string{"--ca-file", "/no/such/ca.pem"}, `{tls = {ca_file = "/no/such/ca.pem"}}`, "tls.ca_file: open /no/such/ca.pem"},
		{"CA file not PEM", tlsSrv.URL() + "/", []string{"--ca-file", badPEM}, `{tls = {ca_file = ` + luaQuote(badPEM) + `}}`, "no PEM certificate found"},
		{"dial timeout", "ws://" + silent.Addr().String() + "/", []string{"--dial-timeout", "200ms"}, `{dial_timeout = "200ms"}`, "(dial_timeout 200ms exceeded)"},
		{"bad scheme", "ftp://127.0.0.1/", nil, "nil", "websocket: dial:"},
		{"proxy refused", srv.URL() + "/", []string{"--proxy", "http://" + ln.Addr().String()}, `{proxy = "http://` + ln.Addr().String() + `"}`, "websocket: proxy: connecting to proxy"},
		{"client cert missing", tlsSrv.URL() + "/", []string{"--cert", "/no/cert.pem", "--key", "/no/key.pem"},
			`{tls = {cert_file = "/no/cert.pem", key_file = "/no/key.pem"}}`, "tls.cert_file: open /no/cert.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := connectCmd(t, strings.NewReader(""), append(tt.args, tt.url)...)
			require.Equal(t, exitFailure, code)
			require.Empty(t, out)
			require.Contains(t, errOut, tt.want)
			require.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
			want := luaConnectError(t, tt.url, tt.luaOpts)
			require.Equal(t, "wslua: "+want+"\n", errOut)
		})
	}
}

// A wss connection with --insecure works.
func TestConnectTLSInsecure(t *testing.T) {
	srv := testserver.New(&testserver.Options{TLS: true})
	defer srv.Close()
	code, out, errOut := connectCmd(t, strings.NewReader("over TLS\n"), "-k", "--show-handshake", srv.URL()+"/")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "over TLS\n", out)
	// The request head is shown for TLS connections too.
	require.Regexp(t, regexp.MustCompile(`(?m)^> Sec-WebSocket-Key: \S+$`), errOut)
	require.Contains(t, errOut, "< HTTP/1.1 101 Switching Protocols\n")
}

func TestConnectBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing URL"},
		{[]string{"ws://a/", "ws://b/"}, "one URL expected"},
		{[]string{"-H", "no colon", "ws://a/"}, `want "Name: value"`},
		{[]string{"--cert", "c.pem", "ws://a/"}, "--cert and --key go together"},
		{[]string{"--read-timeout", "-1s", "ws://a/"}, "--read-timeout must not be negative"},
		{[]string{"--dial-timeout", "soon", "ws://a/"}, "invalid value"},
		{[]string{"--bogus", "ws://a/"}, "flag provided but not defined: -bogus"},
		{[]string{"--proxy", "ftp://p:1", "ws://a/"}, "scheme must be http, https, socks5 or socks5h"},
		{[]string{"--proxy", "http://p:1", "--no-proxy", "ws://a/"}, "exclude each other"},
		{[]string{"--origin", "http://a", "-H", "Origin: http://b", "ws://a/"}, "--origin conflicts"},
		{[]string{"--max-message-size", "0", "ws://a/"}, "--max-message-size must be positive"},
	}
	for _, tt := range tests {
		code, out, errOut := connectCmd(t, strings.NewReader(""), tt.args...)
		require.Equal(t, exitUsage, code, "%q: %s", tt.args, errOut)
		require.Empty(t, out)
		require.Contains(t, errOut, tt.want, "%q", tt.args)
		require.True(t, strings.HasPrefix(errOut, "wslua connect: "), "%q", errOut)
	}
	// Headers the handshake owns are refused by Dial, in one line.
	code, out, errOut := connectCmd(t, strings.NewReader(""), "-H", "Sec-WebSocket-Key: x", "ws://127.0.0.1:1/")
	require.Equal(t, exitFailure, code)
	require.Empty(t, out)
	require.Equal(t, "wslua: websocket: dial: header \"Sec-Websocket-Key\" may not be overridden (set by the handshake)\n", errOut)

	code, out, _ = connectCmd(t, strings.NewReader(""), "--help")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "usage: wslua connect [flags] URL")
	require.Contains(t, out, "-show-handshake")
}

// Cancelling the context (the first Ctrl-C) closes with 1001 and says so;
// the status is 130.
func TestConnectInterrupted(t *testing.T) {
	srv := testserver.New(nil)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &notifyWriter{ready: make(chan struct{})}
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"connect", srv.URL() + "/send?text=ready"}, stdio{slowInput(t, time.Minute), stdout, &stderr})
	}()
	select {
	case <-stdout.ready:
	case <-time.After(20 * time.Second):
		t.Fatal("not connected")
	}
	cancel()
	select {
	case code := <-done:
		require.Equal(t, exitInterrupted, code)
	case <-time.After(20 * time.Second):
		t.Fatal("wslua connect did not end")
	}
	require.Equal(t, "wslua: interrupted: closing with 1001 (waiting up to 5s for the server's close reply); Ctrl-C again to quit\n"+
		"wslua: closed by us with 1001 (going away); the server replied 1001 (going away)\n", stderr.String())
}

// Much more input than the socket buffers hold, through an echo server:
// sending must not keep the loop from printing the echoes, or the server,
// blocked writing them, stops reading and both sides wait for ever (as
// they did after about 6 MB, with both as processes).
func TestConnectPipesLargeInput(t *testing.T) {
	serve := wslua(t, "serve")
	serveOut, err := serve.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, serve.Start())
	defer func() {
		require.NoError(t, serve.Process.Signal(syscall.SIGINT))
		require.Equal(t, exitOK, waitExit(t, serve, 20*time.Second))
	}()
	m := servingLine.FindStringSubmatch(readLines(serveOut).waitFor(t, "serving ", 20*time.Second))
	require.NotNil(t, m)

	const lines = 30000
	line := strings.Repeat("x", 999) + "\n"
	in := filepath.Join(t.TempDir(), "in.txt")
	require.NoError(t, os.WriteFile(in, []byte(strings.Repeat(line, lines)), 0o600))
	f, err := os.Open(in)
	require.NoError(t, err)
	defer f.Close()
	cmd := wslua(t, "connect", m[1]+"/")
	cmd.Stdin = f
	var count countingWriter
	cmd.Stdout = &count
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	require.Equal(t, exitOK, waitExit(t, cmd, 20*time.Second), "stderr: %s; %d bytes out", stderr.String(), count.n)
	require.Equal(t, int64(len(line)*lines), count.n)
}

// countingWriter counts the bytes written to it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// Ctrl-C while connecting stops at once with 130.
func TestConnectInterruptedWhileDialing(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts (backlog), never answers
	require.NoError(t, err)
	defer silent.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"connect", "ws://" + silent.Addr().String() + "/"}, stdio{strings.NewReader(""), &stdout, &stderr})
	}()
	time.Sleep(100 * time.Millisecond) // let it start dialing; the outcome is the same if it has not
	cancel()
	select {
	case code := <-done:
		require.Equal(t, exitInterrupted, code)
	case <-time.After(20 * time.Second):
		t.Fatal("wslua connect did not stop")
	}
	require.Equal(t, "wslua: interrupted\n", stderr.String())
	require.Empty(t, stdout.String())
}

// Ctrl-C while a close already waits for the server's reply says so.
func TestConnectInterruptedWhileClosing(t *testing.T) {
	srv := testserver.New(nil)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"connect", "--close-timeout", "1m", srv.URL() + "/noclose"}, stdio{strings.NewReader("x\n"), &stdout, &stderr})
	}()
	// The end of input begins the close, which /noclose never answers; the
	// echo of x shows the session is up, and soon after the close waits.
	require.Eventually(t, func() bool { return stdout.String() == "x\n" }, 20*time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		t.Fatalf("ended (%d) before its close timeout: %s", code, stderr.String())
	case <-time.After(200 * time.Millisecond):
	}
	require.Equal(t, "wslua: interrupted: closing (waiting up to 1m0s for the server's close reply); Ctrl-C again to quit\n", stderr.String())
	srv.Close() // drops the connection: the session ends
	select {
	case code := <-done:
		require.Equal(t, exitInterrupted, code)
	case <-time.After(20 * time.Second):
		t.Fatal("wslua connect did not end when the server dropped the connection")
	}
}
