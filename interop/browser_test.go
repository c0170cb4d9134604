//go:build unix

package interop

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/handshake/xconnect"
	"github.com/wslua/wslua/protocol"
)

// The browser tests: headless Chromium and Firefox ESR load browser/page.html
// from a TLS server of ours and run WebSocket cases against it, over HTTP/1.1
// (the server offers only http/1.1 in ALPN) and over HTTP/2 (it offers h2,
// with extended CONNECT: the WebSockets must arrive as RFC 8441 streams). The
// page reports each case by POST /report; the server keeps its own record
// of every WebSocket (protocol, method, :protocol, extensions offered and
// agreed, close code received), which the test checks as well.

//go:embed browser/page.html
var browserPage []byte

// browserCases are the names of the page's cases; every one must report ok.
var browserCases = []string{
	"text echo", "binary echo", "empty messages", "16 MiB binary", "16 MiB text",
	"10000 messages in order", "permessage-deflate", "subprotocols",
	"close code from browser", "close code from server", "server pings", "origin refused",
}

// browserRunTimeout bounds one browser's run of the whole page.
const browserRunTimeout = 4 * time.Minute

// pageReport is one case's result as the page posts it.
type pageReport struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// wsRecord is the server's view of one WebSocket request.
type wsRecord struct {
	Path, Query             string
	Proto, Method, Protocol string // r.Proto, r.Method, r.Header[":protocol"]
	Offered                 []string
	Agreed                  string // Sec-WebSocket-Extensions answered, "" if none
	Refused                 int    // the status Upgrade refused with, or 0
	CloseCode               protocol.StatusCode
	CloseReason             string
}

// browserServer serves the page and the WebSocket endpoints over TLS.
type browserServer struct {
	srv     *http.Server
	addr    string
	h2      bool
	reports chan pageReport
	done    chan string // the user agent, once the page finished

	mu      sync.Mutex
	records []wsRecord
	wg      sync.WaitGroup
}

func newBrowserServer(t *testing.T, cert tls.Certificate, h2 bool) *browserServer {
	t.Helper()
	require.True(t, xconnect.Enabled())
	b := &browserServer{h2: h2, reports: make(chan pageReport, 64), done: make(chan string, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(browserPage)
	})
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/report", func(w http.ResponseWriter, r *http.Request) {
		var rep pageReport
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&rep); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case b.reports <- rep:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/done", func(w http.ResponseWriter, r *http.Request) {
		var d struct{ UserAgent string }
		_ = json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&d)
		select {
		case b.done <- d.UserAgent:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/ws/", b.serveWS)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	protos := []string{"http/1.1"}
	if h2 {
		protos = []string{"h2", "http/1.1"}
	}
	b.srv = &http.Server{
		Handler:   mux,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: protos},
		ErrorLog:  nil,
	}
	b.addr = ln.Addr().String()
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = b.srv.Serve(tls.NewListener(ln, b.srv.TLSConfig))
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if b.srv.Shutdown(ctx) != nil {
			b.srv.Close()
		}
		<-served
		b.wg.Wait()
	})
	return b
}

// serveWS upgrades /ws/echo, /ws/close and /ws/ping and records each
// request. The handler serves the WebSocket itself, so that HTTP/2 streams
// live as long as it runs.
func (b *browserServer) serveWS(w http.ResponseWriter, r *http.Request) {
	b.wg.Add(1)
	defer b.wg.Done()
	rec := wsRecord{
		Path: r.URL.Path, Query: r.URL.RawQuery, Proto: r.Proto, Method: r.Method,
		Protocol: r.Header.Get(":protocol"), Offered: r.Header.Values("Sec-WebSocket-Extensions"),
	}
	defer func() {
		b.mu.Lock()
		b.records = append(b.records, rec)
		b.mu.Unlock()
	}()
	var pongs atomic.Int32
	pongc := make(chan struct{}, 8)
	c, err := handshake.Upgrade(w, r, &handshake.UpgradeOptions{
		Subprotocols: []string{"chat", "superchat"},
		Compression:  &protocol.CompressionOptions{},
		Conn: protocol.Options{
			ReadLimit:    32 << 20,
			CloseTimeout: 5 * time.Second,
			OnPong:       func([]byte) { pongs.Add(1); pongc <- struct{}{} },
		},
	})
	if err != nil {
		var he *handshake.HandshakeError
		if errors.As(err, &he) {
			rec.Refused = he.StatusCode
		}
		return
	}
	defer c.CloseNow()
	if co := c.Compression(); co != nil {
		rec.Agreed = co.String()
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserRunTimeout)
	defer cancel()
	ended := func(err error) {
		rec.CloseCode = protocol.CloseStatus(err)
		var ce *protocol.CloseError
		if errors.As(err, &ce) {
			rec.CloseReason = ce.Reason
		}
	}
	switch r.URL.Path {
	case "/ws/echo":
		for {
			typ, msg, err := c.Read(ctx)
			if err == nil {
				err = c.Write(ctx, typ, msg)
			}
			if err != nil {
				ended(err)
				return
			}
		}
	case "/ws/close":
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		ended(c.Close(protocol.StatusCode(code), r.URL.Query().Get("reason")))
	case "/ws/ping":
		readErr := make(chan error, 1)
		go func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					readErr <- err
					return
				}
			}
		}()
		for i := range 3 {
			if err := c.Ping(ctx, fmt.Appendf(nil, "ping %d", i)); err != nil {
				ended(err)
				return
			}
			select {
			case <-pongc:
			case <-time.After(10 * time.Second):
			}
		}
		_ = c.Write(ctx, protocol.MessageText, fmt.Appendf(nil, "pongs:%d", pongs.Load()))
		select {
		case err := <-readErr:
			ended(err)
		case <-ctx.Done():
		}
	default:
		c.Close(protocol.StatusPolicyViolation, "no such endpoint")
	}
}

// snapshot returns the records so far.
func (b *browserServer) snapshot() []wsRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]wsRecord(nil), b.records...)
}

// testCA makes a CA and a server certificate it signs, for 127.0.0.1, ::1
// and localhost. Firefox trusts the CA through its profile; Chromium is run
// with --ignore-certificate-errors.
func testCA(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wslua interop test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	require.NoError(t, err)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}, caPEM
}

// browser describes how to run one browser on a URL.
type browser struct {
	name    string
	binary  string
	command func(t *testing.T, url string, caPEM []byte) *exec.Cmd
}

var browsers = []browser{
	{
		name:   "chromium",
		binary: "chromium",
		command: func(t *testing.T, url string, _ []byte) *exec.Cmd {
			return exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
				"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--ignore-certificate-errors",
				"--user-data-dir="+t.TempDir(), url)
		},
	},
	{
		name:   "firefox-esr",
		binary: "firefox-esr",
		command: func(t *testing.T, url string, caPEM []byte) *exec.Cmd {
			profile := firefoxProfile(t, caPEM)
			cmd := exec.Command("firefox-esr", "--headless", "--no-remote", "--profile", profile, url)
			cmd.Env = append(os.Environ(), "MOZ_HEADLESS=1", "HOME="+t.TempDir())
			return cmd
		},
	},
}

// firefoxPrefs keep a headless Firefox quiet and on HTTP/2 (no HTTP/3),
// with WebSockets over HTTP/2 on (its default, stated here).
const firefoxPrefs = `user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.auto", false);
user_pref("extensions.update.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.http.http3.enable", false);
user_pref("network.http.http2.websockets", true);
user_pref("network.dns.disablePrefetch", true);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
`

// firefoxProfile makes a profile that trusts caPEM (NSS certutil).
func firefoxProfile(t *testing.T, caPEM []byte) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "user.js"), []byte(firefoxPrefs), 0o600))
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, caPEM, 0o600))
	for _, args := range [][]string{
		{"-N", "--empty-password", "-d", "sql:" + dir},
		{"-A", "-n", "wslua-interop-ca", "-t", "C,,", "-i", ca, "-d", "sql:" + dir},
	} {
		out, err := exec.Command("certutil", args...).CombinedOutput()
		require.NoError(t, err, "certutil %q: %s", args, out)
	}
	return dir
}

// browserVersion returns the first line of `binary --version`.
func browserVersion(binary string) string {
	out, _ := exec.Command(binary, "--version").Output()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// TestBrowsers runs the page in each browser over HTTP/1.1 and HTTP/2.
func TestBrowsers(t *testing.T) {
	if testing.Short() {
		t.Skip("browsers are slow; not in -short")
	}
	cert, caPEM := testCA(t)
	for _, br := range browsers {
		t.Run(br.name, func(t *testing.T) {
			if _, err := exec.LookPath(br.binary); err != nil {
				missingPeer(t, "%s not installed", br.binary)
			}
			if br.name == "firefox-esr" {
				if _, err := exec.LookPath("certutil"); err != nil {
					missingPeer(t, "certutil (libnss3-tools) not installed")
				}
			}
			t.Logf("%s", browserVersion(br.binary))
			for _, h2 := range []bool{false, true} {
				name := "http1.1"
				if h2 {
					name = "http2"
				}
				t.Run(name, func(t *testing.T) { runBrowser(t, br, cert, caPEM, h2) })
			}
		})
	}
}

// runBrowser runs the page once and checks the reports and records.
func runBrowser(t *testing.T, br browser, cert tls.Certificate, caPEM []byte, h2 bool) {
	srv := newBrowserServer(t, cert, h2)
	_, port, _ := net.SplitHostPort(srv.addr)
	url := fmt.Sprintf("https://127.0.0.1:%s/?run=%s&other=localhost:%s", port, br.name, port)
	cmd := br.command(t, url, caPEM)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers are ended with it
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("%s (pid %d) still running 10 s after SIGKILL", br.name, cmd.Process.Pid)
		}
	}
	defer stop()

	got := map[string]pageReport{}
	var ua string
	deadline := time.After(browserRunTimeout)
wait:
	for {
		select {
		case rep := <-srv.reports:
			got[rep.Name] = rep
		case ua = <-srv.done:
			break wait
		case err := <-exited:
			stopped = true
			t.Fatalf("%s exited before the page finished (%v); %d reports; output:\n%s", br.name, err, len(got), tail(stderr.String(), 3000))
		case <-deadline:
			t.Fatalf("%s did not finish the page within %v; %d reports: %v; output:\n%s", br.name, browserRunTimeout, len(got), got, tail(stderr.String(), 3000))
		}
	}
	for len(srv.reports) > 0 {
		rep := <-srv.reports
		got[rep.Name] = rep
	}
	stop()
	t.Logf("user agent: %s", ua)
	for _, name := range browserCases {
		rep, ok := got[name]
		if !ok {
			t.Errorf("case %q: no report", name)
			continue
		}
		t.Logf("case %-26q ok=%v %s", name, rep.OK, rep.Detail)
		if !rep.OK {
			t.Errorf("case %q failed in %s: %s", name, br.name, rep.Detail)
		}
	}

	// The server's side of the story.
	recs := srv.snapshot()
	var accepted, compressed int
	var sawBrowserClose, sawRefusal bool
	for _, r := range recs {
		if r.Refused != 0 {
			if strings.Contains(r.Query, "foreign-origin") && r.Refused == http.StatusForbidden {
				sawRefusal = true
			} else {
				t.Errorf("unexpected refusal %d of %s?%s", r.Refused, r.Path, r.Query)
			}
			continue
		}
		accepted++
		if h2 {
			if r.Proto != "HTTP/2.0" || r.Method != http.MethodConnect || r.Protocol != "websocket" {
				t.Errorf("over HTTP/2, %s?%s arrived as %s %s :protocol=%q, not an extended CONNECT", r.Path, r.Query, r.Proto, r.Method, r.Protocol)
			}
		} else if r.Proto != "HTTP/1.1" || r.Method != http.MethodGet {
			t.Errorf("over HTTP/1.1, %s?%s arrived as %s %s", r.Path, r.Query, r.Proto, r.Method)
		}
		if r.Agreed != "" {
			compressed++
		}
		if strings.Contains(r.Query, "browser-close") {
			sawBrowserClose = r.CloseCode == 4001 && r.CloseReason == "bye from browser"
			if !sawBrowserClose {
				t.Errorf("the server saw the browser's close as %d %q, want 4001 \"bye from browser\"", r.CloseCode, r.CloseReason)
			}
		}
	}
	if len(recs) > 0 {
		t.Logf("server: %d WebSockets accepted (%d compressed); the first came as %s %s :protocol=%q, offered %q, agreed %q",
			accepted, compressed, recs[0].Proto, recs[0].Method, recs[0].Protocol, recs[0].Offered, recs[0].Agreed)
	}
	require.NotZero(t, accepted)
	require.Equal(t, accepted, compressed, "every WebSocket negotiates permessage-deflate with the browser's offer")
	require.True(t, sawRefusal, "the foreign-Origin request was refused with 403")
	require.True(t, sawBrowserClose, "the browser's close code reached the server")
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
