package autobahn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wslua/wslua/autobahn/driver"
	"github.com/wslua/wslua/autobahn/internal/fakeserver"
	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// wsluaBin is the wslua command, built once by TestMain.
var wsluaBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "autobahn-wslua-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wsluaBin = filepath.Join(dir, "wslua")
	build := exec.Command(goCommand(), "build", "-o", wsluaBin, "github.com/wslua/wslua/lua/cmd/wslua")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	code := 1
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building wslua:", err)
	} else {
		code = m.Run()
		if code == 0 {
			if err := goleak.Find(); err != nil {
				fmt.Fprintln(os.Stderr, "goleak:", err)
				code = 1
			}
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// goCommand is the go command running the tests.
func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

// luaRun is the outcome of one run of client.lua.
type luaRun struct {
	status int
	stdout string
	stderr string
}

func (r luaRun) lines() []string {
	s := strings.TrimSpace(r.stdout)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// runLua runs wslua client.lua with args.
func runLua(t *testing.T, args ...string) luaRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, wsluaBin, append([]string{"client.lua"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "wslua did not finish; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	r := luaRun{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.status = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return r
}

func newFake(t *testing.T, cases []fakeserver.Case) *fakeserver.Server {
	t.Helper()
	s := fakeserver.New(cases)
	t.Cleanup(s.Close)
	return s
}

func caseNumbers(rs []fakeserver.Result) []int {
	var ns []int
	for _, r := range rs {
		ns = append(ns, r.Case)
	}
	return ns
}

func TestLuaDriverEchoesEveryCase(t *testing.T) {
	s := newFake(t, nil)
	r := runLua(t, s.URL(), "lua agent/1")
	require.Equal(t, 0, r.status, "stderr:\n%s", r.stderr)
	s.Close()

	results := s.Results()
	require.Equal(t, []int{1, 2, 3, 4, 5, 6, 7}, caseNumbers(results))
	for _, res := range results {
		require.NoError(t, res.Err, "case %d", res.Case)
		require.Equal(t, "lua agent/1", res.Agent, "the agent reaches the server unchanged")
	}
	require.Equal(t, []string{"lua agent/1"}, s.Updates())
	require.Equal(t, 1, s.CountCalls())
	require.Empty(t, s.BadRequests())

	lines := r.lines()
	require.Len(t, lines, 9)
	require.Equal(t, "autobahn: 7 cases on the server; running 1-7 as agent lua agent/1", lines[0])
	require.Equal(t, "case 6: echoed 20 messages (11075 bytes); closed with 1000 ()", lines[6])
	require.Equal(t, "case 7: echoed 1 messages (12 bytes); closed with 4001 (case over)", lines[7])
	require.Equal(t, "autobahn: reports updated for agent lua agent/1", lines[8])
	require.Empty(t, r.stderr)
}

func TestLuaDriverDefaultAgent(t *testing.T) {
	s := newFake(t, fakeserver.DefaultCases()[:1])
	r := runLua(t, s.URL()+"/")
	require.Equal(t, 0, r.status, "stderr:\n%s", r.stderr)
	s.Close()
	require.Equal(t, []string{"wslua-lua"}, s.Updates())
	require.Len(t, s.Results(), 1)
	require.True(t, s.Results()[0].OK(), "%v", s.Results()[0].Err)
}

func TestLuaDriverRange(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []int
	}{
		{"middle", []string{"2", "4"}, []int{2, 3, 4}},
		{"one case", []string{"5", "5"}, []int{5}},
		{"to the end", []string{"6"}, []int{6, 7}},
		{"last beyond the count", []string{"5", "300"}, []int{5, 6, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFake(t, nil)
			r := runLua(t, append([]string{s.URL(), "ranged"}, tt.args...)...)
			require.Equal(t, 0, r.status, "stderr:\n%s", r.stderr)
			s.Close()
			require.Equal(t, tt.want, caseNumbers(s.Results()))
			for _, res := range s.Results() {
				require.NoError(t, res.Err, "case %d", res.Case)
			}
			require.Equal(t, []string{"ranged"}, s.Updates())
			require.Len(t, r.lines(), len(tt.want)+2)
		})
	}
}

// TestLuaDriverMatchesGoDriver runs both drivers against identical fake
// servers and compares their output line by line, including a refused
// case and one the server drops.
func TestLuaDriverMatchesGoDriver(t *testing.T) {
	cases := func() []fakeserver.Case {
		cs := fakeserver.DefaultCases()
		cs = append(cs,
			fakeserver.Case{Name: "refused", Refuse: true},
			fakeserver.Case{Name: "server closes at once with a reason", Run: func(ctx context.Context, c *fakeserver.Conn) error {
				return c.CloseAndCheck(ctx, protocol.StatusGoingAway, "going away ✓")
			}},
			fakeserver.Case{Name: "after the failures", Run: fakeserver.DefaultCases()[0].Run},
		)
		return cs
	}
	for _, rng := range [][2]int{{0, 0}, {8, 10}} {
		t.Run(fmt.Sprintf("cases %d-%d", rng[0], rng[1]), func(t *testing.T) {
			goFake := newFake(t, cases())
			var goLines []string
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			err := driver.Run(ctx, driver.Config{
				URL: goFake.URL(), Agent: "same", First: rng[0], Last: rng[1],
				Logf: func(format string, args ...any) { goLines = append(goLines, fmt.Sprintf(format, args...)) },
			})
			require.NoError(t, err)

			luaFake := newFake(t, cases())
			args := []string{luaFake.URL(), "same"}
			if rng[0] != 0 {
				args = append(args, fmt.Sprint(rng[0]), fmt.Sprint(rng[1]))
			}
			r := runLua(t, args...)
			require.Equal(t, 0, r.status, "stderr:\n%s", r.stderr)

			// The refused case's line names the server's address, which
			// differs between the two fakes.
			norm := func(lines []string, url string) []string {
				out := make([]string, len(lines))
				for i, l := range lines {
					out[i] = strings.ReplaceAll(l, strings.TrimPrefix(url, "ws://"), "ADDR")
				}
				return out
			}
			require.Equal(t, norm(goLines, goFake.URL()), norm(r.lines(), luaFake.URL()))

			goFake.Close()
			luaFake.Close()
			require.Equal(t, caseNumbers(goFake.Results()), caseNumbers(luaFake.Results()))
			for i, res := range luaFake.Results() {
				require.Equal(t, goFake.Results()[i].OK(), res.OK(), "case %d", res.Case)
			}
			require.Equal(t, goFake.Updates(), luaFake.Updates())
		})
	}
}

// countServer answers /getCaseCount with msg and closes everything else.
func countServer(t *testing.T, typ protocol.MessageType, msg string) string {
	t.Helper()
	var wg sync.WaitGroup
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		conn, err := handshake.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if r.URL.Path == "/getCaseCount" {
			_ = conn.Write(ctx, typ, []byte(msg))
		}
		_ = conn.Close(protocol.StatusNormalClosure, "")
	}))
	t.Cleanup(func() {
		hs.Close()
		wg.Wait()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

func TestLuaDriverErrors(t *testing.T) {
	s := newFake(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := ln.Addr().String()
	require.NoError(t, ln.Close())

	tests := []struct {
		name   string
		args   []string
		status int
		stderr string
	}{
		{"no URL", nil, 2, "autobahn client: no fuzzingserver URL\nusage: "},
		{"bad scheme", []string{"ftp://127.0.0.1:1"}, 2, "autobahn client: URL scheme must be ws or wss"},
		{"query in URL", []string{s.URL() + "/?case=1"}, 2, "autobahn client: URL must be a base URL"},
		{"bad first", []string{s.URL(), "a", "0"}, 2, "autobahn client: FIRST must be a case number from 1"},
		{"bad last", []string{s.URL(), "a", "1", "x"}, 2, "autobahn client: LAST must be a case number from 1"},
		{"empty range", []string{s.URL(), "a", "3", "2"}, 2, "autobahn client: empty case range 3-2"},
		{"extra argument", []string{s.URL(), "a", "1", "2", "3"}, 2, "autobahn client: unexpected arguments"},
		{"unreachable", []string{"ws://" + closedAddr}, 1, "autobahn: getting the case count: "},
		{"beyond the count", []string{s.URL(), "a", "8"}, 1, "autobahn: no case to run: the server has 7 cases, asked for 8-\n"},
		{"bad count", []string{countServer(t, protocol.MessageText, "many")}, 1, `autobahn: bad case count "many" (want a number in a text message)`},
		{"binary count", []string{countServer(t, protocol.MessageBinary, "7")}, 1, `autobahn: bad case count "7"`},
		{"zero cases", []string{countServer(t, protocol.MessageText, "0")}, 1, "autobahn: no case to run: the server has 0 cases, asked for 1-\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runLua(t, tt.args...)
			require.Equal(t, tt.status, r.status, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			require.True(t, strings.HasPrefix(r.stderr, tt.stderr), "stderr %q does not start with %q", r.stderr, tt.stderr)
		})
	}
	s.Close()
	require.Empty(t, s.Results(), "no case ran")
	require.Empty(t, s.Updates())
}

// TestRunShNeedsDocker checks that run.sh stops with a clear message, before
// building or starting anything, when Docker is missing or its daemon is not
// reachable. PATH holds only a directory of our own, so no real docker can
// ever be run.
func TestRunShNeedsDocker(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	noDocker := t.TempDir()
	deadDocker := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(deadDocker, "docker"), []byte("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n"), 0o755))

	tests := []struct {
		name   string
		path   string
		args   []string
		stderr string
	}{
		{"docker missing", noDocker, nil, "docker is not installed"},
		{"daemon unreachable", deadDocker, []string{"clients"}, "the Docker daemon is not reachable"},
		{"bad mode", deadDocker, []string{"everything"}, "unknown mode 'everything'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bash, append([]string{"run.sh"}, tt.args...)...)
			cmd.Env = []string{"PATH=" + tt.path, "HOME=" + t.TempDir()}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			require.Equal(t, 2, ee.ExitCode())
			require.Contains(t, stderr.String(), "autobahn/run.sh: "+tt.stderr)
			require.Empty(t, stdout.String(), "nothing was built or started")
		})
	}
}

// streamOrderCases are fake versions of Autobahn 3.2, 3.3, 4.1.3, 4.1.4,
// 4.2.3, 4.2.4 and 5.15: a valid message and, in the same burst, a frame
// that must fail the connection. A driver passes when it echoes the valid
// message before failing the connection with 1002.
func streamOrderCases() []fakeserver.Case {
	hello := []byte("Hello, world!")
	text := fakeserver.Frame{Fin: true, Opcode: framing.OpText, Payload: hello}
	ping := fakeserver.Frame{Fin: true, Opcode: framing.OpPing, Payload: hello}
	expect := func(ctx context.Context, c *fakeserver.Conn, echo []byte) error {
		if err := c.ExpectEcho(ctx, protocol.MessageText, echo); err != nil {
			return err
		}
		return c.ExpectFailure(ctx, protocol.StatusProtocolError)
	}
	badAfter := func(bad fakeserver.Frame) func(ctx context.Context, c *fakeserver.Conn) error {
		return func(ctx context.Context, c *fakeserver.Conn) error {
			if err := c.SendFrames(ctx, text, bad, ping); err != nil {
				return err
			}
			return expect(ctx, c, hello)
		}
	}
	return []fakeserver.Case{
		{Name: "3.2 RSV=2", Run: badAfter(fakeserver.Frame{Fin: true, Rsv: framing.Rsv2, Opcode: framing.OpText, Payload: hello})},
		{Name: "3.3 RSV=3, frame-wise chops", Run: func(ctx context.Context, c *fakeserver.Conn) error {
			for _, f := range []fakeserver.Frame{text, {Fin: true, Rsv: framing.Rsv2 | framing.Rsv3, Opcode: framing.OpText, Payload: hello}, ping} {
				if err := c.SendFrames(ctx, f); err != nil {
					return err
				}
			}
			return expect(ctx, c, hello)
		}},
		{Name: "4.1.3 opcode 5", Run: badAfter(fakeserver.Frame{Fin: true, Opcode: 5})},
		{Name: "4.1.4 opcode 6 with payload", Run: badAfter(fakeserver.Frame{Fin: true, Opcode: 6, Payload: hello})},
		{Name: "4.2.3 opcode 13", Run: badAfter(fakeserver.Frame{Fin: true, Opcode: 13})},
		{Name: "4.2.4 opcode 14 with payload", Run: badAfter(fakeserver.Frame{Fin: true, Opcode: 14, Payload: hello})},
		{Name: "5.15 continuation with nothing to continue", Run: func(ctx context.Context, c *fakeserver.Conn) error {
			err := c.SendFrames(ctx,
				fakeserver.Frame{Opcode: framing.OpText, Payload: []byte("fragment1")},
				fakeserver.Frame{Fin: true, Opcode: framing.OpContinuation, Payload: []byte("fragment2")},
				fakeserver.Frame{Opcode: framing.OpContinuation, Payload: []byte("fragment3")},
				fakeserver.Frame{Fin: true, Opcode: framing.OpText, Payload: []byte("fragment4")},
			)
			if err != nil {
				return err
			}
			return expect(ctx, c, []byte("fragment1fragment2"))
		}},
	}
}

// waitResults waits until s has recorded n results: the client may be done
// with a case before the server's handler is (Close would cancel it).
func waitResults(t *testing.T, s *fakeserver.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(s.Results()) < n {
		require.True(t, time.Now().Before(deadline), "the server recorded %d of %d cases", len(s.Results()), n)
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLuaDriverFailsInStreamOrder: through client.lua, as through the Go
// driver, the valid message before a bad frame is echoed before the
// connection fails with 1002, in every one of the seven cases that were
// NON-STRICT through the Lua driver (the reader read ahead and failed the
// connection before the script had the message).
func TestLuaDriverFailsInStreamOrder(t *testing.T) {
	s := newFake(t, streamOrderCases())
	r := runLua(t, s.URL(), "order")
	require.Equal(t, 0, r.status, "stderr:\n%s", r.stderr)
	waitResults(t, s, 7)
	s.Close()
	require.Len(t, s.Results(), 7)
	for _, res := range s.Results() {
		require.NoError(t, res.Err, "case %d", res.Case)
	}
	for i, line := range r.lines()[1:8] {
		require.Contains(t, line, fmt.Sprintf("case %d: echoed 1 messages", i+1))
		require.Contains(t, line, "closed with 1002")
	}

	goFake := newFake(t, streamOrderCases())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var goLines []string
	require.NoError(t, driver.Run(ctx, driver.Config{URL: goFake.URL(), Agent: "order",
		Logf: func(format string, args ...any) { goLines = append(goLines, fmt.Sprintf(format, args...)) }}))
	waitResults(t, goFake, 7)
	goFake.Close()
	for _, res := range goFake.Results() {
		require.NoError(t, res.Err, "Go driver, case %d; its log:\n%s", res.Case, strings.Join(goLines, "\n"))
	}
}
