package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
	"github.com/wslua/wslua/testserver"
)

// servingLine matches the first line wslua serve prints.
var servingLine = regexp.MustCompile(`^serving (wss?://127\.0\.0\.1:\d+)/ \(Ctrl-C stops\)$`)

// startServe runs wslua serve in-process with args and returns its base URL
// and a function that stops it (as Ctrl-C does) and returns its exit
// status and output.
func startServe(t *testing.T, args ...string) (base string, stop func() (int, string, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, w, err := os.Pipe()
	require.NoError(t, err)
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		code := run(ctx, append([]string{"serve"}, args...), stdio{strings.NewReader(""), w, &stderr})
		w.Close()
		done <- code
	}()
	out := readLines(r)
	line := out.waitFor(t, "serving ", 20*time.Second)
	m := servingLine.FindStringSubmatch(line)
	require.NotNil(t, m, "%q", line)
	out.waitFor(t, "  /raw ", 10*time.Second)
	return m[1], func() (int, string, string) {
		cancel()
		select {
		case code := <-done:
			<-out.done
			r.Close()
			return code, out.text(), stderr.String()
		case <-time.After(20 * time.Second):
			t.Fatal("wslua serve did not stop")
			return 0, "", ""
		}
	}
}

// wslua serve prints its URL and every path of the server's table, one
// line each, serves them, and stops on Ctrl-C with status 0.
func TestServe(t *testing.T) {
	base, stop := startServe(t)
	code, out, errOut := connectCmd(t, strings.NewReader("through serve\n"), base+"/")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "through serve\n", out)
	code, out, errOut = connectCmd(t, strings.NewReader(""), "--once", base+"/send?text=scripted")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "scripted\n", out)

	code, listing, errOut := stop()
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, errOut, "wslua serve: stopped\n")
	lines := strings.Split(listing, "\n")
	require.Equal(t, "paths:", lines[1])
	paths := testserver.Paths()
	require.Len(t, lines, 2+len(paths))
	for i, p := range paths {
		require.Regexp(t, `^  `+regexp.QuoteMeta(p.Path)+` +`+regexp.QuoteMeta(p.Summary)+`$`, lines[2+i])
	}
}

// --tls serves wss:// with a generated certificate that --cert-out writes
// for clients to trust.
func TestServeTLS(t *testing.T) {
	certFile := filepath.Join(t.TempDir(), "cert.pem")
	base, stop := startServe(t, "--tls", "--cert-out", certFile)
	require.True(t, strings.HasPrefix(base, "wss://"), base)

	code, out, errOut := connectCmd(t, strings.NewReader("secure\n"), "--ca-file", certFile, base+"/")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "secure\n", out)
	localhost := strings.Replace(base, "127.0.0.1", "localhost", 1)
	code, _, errOut = connectCmd(t, strings.NewReader(""), "--ca-file", certFile, localhost+"/")
	require.Equal(t, exitOK, code, errOut)

	// Without the certificate, verification fails, as in Lua.
	code, _, errOut = connectCmd(t, strings.NewReader(""), base+"/")
	require.Equal(t, exitFailure, code)
	require.Equal(t, "wslua: "+luaConnectError(t, base+"/", "nil")+"\n", errOut)
	require.Contains(t, errOut, "certificate signed by unknown authority")

	code, listing, errOut := stop()
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, listing, "certificate written to "+certFile)

	// Without --cert-out the certificate is printed.
	base, stop = startServe(t, "--tls")
	code, listing, errOut = stop()
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, listing, "-----BEGIN CERTIFICATE-----\n")
	require.True(t, strings.HasPrefix(base, "wss://"))
}

func TestServeBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--cert-out", "x.pem"}, exitUsage, "--cert-out needs --tls"},
		{[]string{"extra"}, exitUsage, "unexpected arguments"},
		{[]string{"--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"--max-message-size", "0"}, exitUsage, "--max-message-size must be positive"},
		{[]string{"--addr", "256.0.0.1:0"}, exitFailure, "wslua serve: listen tcp"},
		{[]string{"--tls", "--cert-out", "/no/such/dir/cert.pem"}, exitFailure, "wslua serve: certificate: open /no/such/dir/cert.pem"},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(t, append([]string{"serve"}, tt.args...)...)
		require.Equal(t, tt.code, code, "%q: %s", tt.args, errOut)
		require.Empty(t, out)
		require.Contains(t, errOut, tt.want)
	}
	code, out, _ := runCmd(t, "serve", "--help")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "usage: wslua serve [flags]")
	require.Contains(t, out, "-cert-out")
}

// Both subcommands as processes joined by pipes: wslua serve's URL read
// from its output, wslua connect fed on its standard input; SIGINT stops
// the server with status 0.
func TestServeAndConnectProcesses(t *testing.T) {
	serve := wslua(t, "serve")
	stdout, err := serve.StdoutPipe()
	require.NoError(t, err)
	var serveErr strings.Builder
	serve.Stderr = &serveErr
	require.NoError(t, serve.Start())
	out := readLines(stdout)
	m := servingLine.FindStringSubmatch(out.waitFor(t, "serving ", 20*time.Second))
	require.NotNil(t, m)

	connect := wslua(t, "connect", m[1]+"/")
	connect.Stdin = strings.NewReader("one\ntwo\n")
	got, err := connect.Output()
	require.NoError(t, err, "%v", err)
	require.Equal(t, "one\ntwo\n", string(got))

	connect = wslua(t, "connect", m[1]+"/close?code=4001&reason=nope")
	stdinR, stdinW, err := os.Pipe() // input that does not end: the server closes first
	require.NoError(t, err)
	defer stdinW.Close()
	connect.Stdin = stdinR
	var connectErr strings.Builder
	connect.Stderr = &connectErr
	require.NoError(t, connect.Start())
	stdinR.Close()
	err = connect.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, exitFailure, ee.ExitCode())
	require.Equal(t, "wslua: closed by the server with 4001 \"nope\"\n", connectErr.String())

	require.NoError(t, serve.Process.Signal(syscall.SIGINT))
	require.Equal(t, exitOK, waitExit(t, serve, 20*time.Second))
	require.Contains(t, serveErr.String(), "wslua serve: stopped")
}

// --http2 serves WebSockets over HTTP/2 (RFC 8441) as well: a Go client
// that requires HTTP/2 opens its WebSocket as a stream, and HTTP/1.1
// clients still connect.
func TestServeHTTP2(t *testing.T) {
	certFile := filepath.Join(t.TempDir(), "cert.pem")
	base, stop := startServe(t, "--http2", "--cert-out", certFile)
	require.True(t, strings.HasPrefix(base, "wss://"), base)

	pem, err := os.ReadFile(certFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := handshake.Dial(ctx, base+"/", &handshake.DialOptions{
		TLSConfig: &tls.Config{RootCAs: pool},
		HTTP2:     handshake.HTTP2Require,
		HTTP2Pool: &handshake.HTTP2Pool{},
	})
	require.NoError(t, err)
	require.Equal(t, 2, resp.ProtoMajor)
	require.NoError(t, c.Write(ctx, protocol.MessageText, []byte("over h2")))
	_, p, err := c.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, "over h2", string(p))
	require.NoError(t, c.Close(protocol.StatusNormalClosure, ""))

	code, out, errOut := connectCmd(t, strings.NewReader("over h1\n"), "--ca-file", certFile, base+"/")
	require.Equal(t, exitOK, code, errOut)
	require.Equal(t, "over h1\n", out)

	code, _, errOut = stop()
	require.Equal(t, exitOK, code, errOut)
}
