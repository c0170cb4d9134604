package driver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wslua/wslua/autobahn/internal/fakeserver"
	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testTimeout bounds every run: a hanging driver fails instead of blocking.
const testTimeout = 2 * time.Minute

func newFake(t *testing.T, cases []fakeserver.Case) *fakeserver.Server {
	t.Helper()
	s := fakeserver.New(cases)
	t.Cleanup(s.Close)
	return s
}

// runCollect runs cfg and returns the case results and the log lines.
func runCollect(t *testing.T, cfg Config) ([]CaseResult, []string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var mu sync.Mutex
	var results []CaseResult
	var lines []string
	cfg.OnCase = func(r CaseResult) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}
	cfg.Logf = func(format string, args ...any) {
		mu.Lock()
		lines = append(lines, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	err := Run(ctx, cfg)
	return results, lines, err
}

func caseNumbers(rs []fakeserver.Result) []int {
	var ns []int
	for _, r := range rs {
		ns = append(ns, r.Case)
	}
	return ns
}

func TestRunEchoesEveryCase(t *testing.T) {
	s := newFake(t, nil)
	results, lines, err := runCollect(t, Config{URL: s.URL(), Agent: "go test/agent"})
	require.NoError(t, err)
	s.Close()

	server := s.Results()
	require.Equal(t, []int{1, 2, 3, 4, 5, 6, 7}, caseNumbers(server))
	for _, r := range server {
		require.NoError(t, r.Err, "case %d", r.Case)
		require.Equal(t, "go test/agent", r.Agent, "the agent reaches the server unchanged")
	}
	require.Equal(t, []string{"go test/agent"}, s.Updates())
	require.Equal(t, 1, s.CountCalls())
	require.Empty(t, s.BadRequests())

	wantMessages := []int{1, 1, 2, 2, 2, 20, 1}
	require.Len(t, results, 7)
	for i, r := range results {
		require.Equal(t, i+1, r.Case)
		require.NoError(t, r.Err, "case %d", r.Case)
		require.Equal(t, wantMessages[i], r.Messages, "case %d", r.Case)
		var ce *protocol.CloseError
		require.ErrorAs(t, r.End, &ce, "case %d", r.Case)
		require.True(t, ce.Remote, "case %d: the server closes", r.Case)
		wantCode := protocol.StatusNormalClosure
		if r.Case == 7 {
			wantCode = 4001
		}
		require.Equal(t, wantCode, ce.Code, "case %d", r.Case)
	}
	require.Equal(t, int64(1<<20+(256<<10)/10*10), results[3].Bytes)

	require.Equal(t, "autobahn: 7 cases on the server; running 1-7 as agent go test/agent", lines[0])
	require.Equal(t, "case 1: echoed 1 messages (44 bytes); closed with 1000 ()", lines[1])
	require.Equal(t, "case 7: echoed 1 messages (12 bytes); closed with 4001 (case over)", lines[7])
	require.Equal(t, "autobahn: reports updated for agent go test/agent", lines[len(lines)-1])
}

func TestRunRange(t *testing.T) {
	tests := []struct {
		name        string
		first, last int
		want        []int
	}{
		{"middle", 2, 4, []int{2, 3, 4}},
		{"one case", 5, 5, []int{5}},
		{"to the end", 6, 0, []int{6, 7}},
		{"last beyond the count", 5, 300, []int{5, 6, 7}},
		{"from the start", 0, 2, []int{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFake(t, nil)
			results, _, err := runCollect(t, Config{URL: s.URL(), First: tt.first, Last: tt.last})
			require.NoError(t, err)
			s.Close()
			require.Equal(t, tt.want, caseNumbers(s.Results()))
			for _, r := range s.Results() {
				require.NoError(t, r.Err)
				require.Equal(t, DefaultAgent, r.Agent)
			}
			require.Len(t, results, len(tt.want))
			require.Equal(t, []string{DefaultAgent}, s.Updates())
		})
	}
}

func TestRunRangeBeyondCount(t *testing.T) {
	s := newFake(t, nil)
	_, _, err := runCollect(t, Config{URL: s.URL(), First: 8, Last: 10})
	require.ErrorContains(t, err, "the server has 7 cases, asked for 8-10")
	s.Close()
	require.Empty(t, s.Results())
	require.Empty(t, s.Updates(), "no report update when nothing ran")
}

func TestRunCaseFailuresAreNotFatal(t *testing.T) {
	cases := fakeserver.DefaultCases()[:3]
	cases[1] = fakeserver.Case{Name: "refused", Refuse: true}
	cases = append(cases, fakeserver.Case{Name: "server fails the connection", Run: func(ctx context.Context, c *fakeserver.Conn) error {
		// Drop the TCP connection without a close frame.
		_ = c.SendFrames(ctx, fakeserver.Frame{Fin: true, Opcode: 0x1, Payload: []byte("bye")})
		return c.CloseNow()
	}})
	s := newFake(t, cases)
	results, lines, err := runCollect(t, Config{URL: s.URL()})
	require.NoError(t, err)
	s.Close()
	require.Equal(t, []int{1, 2, 3, 4}, caseNumbers(s.Results()))
	require.Len(t, results, 4)

	require.Error(t, results[1].Err, "the refused handshake is the case's error")
	require.Nil(t, results[1].End)
	require.Contains(t, lines[2], "case 2: connection failed: ")

	require.NoError(t, results[2].Err, "the case after the failure runs normally")
	require.Equal(t, 2, results[2].Messages)

	require.Equal(t, protocol.StatusAbnormalClosure, protocol.CloseStatus(results[3].End))
	require.Equal(t, []string{DefaultAgent}, s.Updates(), "reports are updated after failed cases")
}

// scriptedServer answers /getCaseCount with msg, and /updateReports by
// closing (or not, if noClose).
func scriptedServer(t *testing.T, typ protocol.MessageType, msg string, noClose bool) string {
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
		switch r.URL.Path {
		case "/getCaseCount":
			_ = conn.Write(ctx, typ, []byte(msg))
			_ = conn.Close(protocol.StatusNormalClosure, "")
		case "/updateReports":
			if noClose {
				return // drop the TCP connection
			}
			_ = conn.Close(protocol.StatusNormalClosure, "")
		default:
			_ = conn.Close(protocol.StatusNormalClosure, "")
		}
	}))
	t.Cleanup(func() {
		hs.Close()
		wg.Wait()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

func TestRunBadCaseCount(t *testing.T) {
	tests := []struct {
		name string
		typ  protocol.MessageType
		msg  string
		want string
	}{
		{"not a number", protocol.MessageText, "many", `bad case count "many"`},
		{"negative", protocol.MessageText, "-3", `bad case count "-3"`},
		{"binary", protocol.MessageBinary, "7", `bad case count "7"`},
		{"empty", protocol.MessageText, "", `bad case count ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := scriptedServer(t, tt.typ, tt.msg, false)
			_, _, err := runCollect(t, Config{URL: u})
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestRunZeroCases(t *testing.T) {
	u := scriptedServer(t, protocol.MessageText, " 0\n", false)
	results, _, err := runCollect(t, Config{URL: u})
	require.ErrorContains(t, err, "the server has 0 cases")
	require.Empty(t, results)
}

func TestRunUpdateReportsFailure(t *testing.T) {
	// One case, closed at once by the server; then /updateReports drops
	// the TCP connection instead of closing.
	u := scriptedServer(t, protocol.MessageText, "1", true)
	results, _, err := runCollect(t, Config{URL: u})
	require.Len(t, results, 1)
	require.ErrorContains(t, err, "updating the reports: the server did not close the connection")
}

func TestRunUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	_, _, err = runCollect(t, Config{URL: "ws://" + addr})
	require.ErrorContains(t, err, "getting the case count")

	// With Wait, a cancelled context still ends the retries.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = Run(ctx, Config{URL: "ws://" + addr, Wait: time.Hour})
	require.Error(t, err)
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
}

func TestRunWaitsForTheServer(t *testing.T) {
	// Reserve an address; start the fake server on it only once Run has
	// reported a failed attempt.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	waiting := make(chan struct{})
	var once sync.Once
	started := make(chan *fakeserver.Server, 1)
	go func() {
		<-waiting
		l, err := net.Listen("tcp", addr)
		if err != nil {
			started <- nil
			return
		}
		started <- fakeserver.NewOn(l, fakeserver.DefaultCases()[:2])
	}()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	err = Run(ctx, Config{URL: "ws://" + addr, Wait: time.Minute, Logf: func(format string, args ...any) {
		if strings.HasPrefix(format, "autobahn: waiting for the server") {
			once.Do(func() { close(waiting) })
		}
	}})
	once.Do(func() { close(waiting) })
	s := <-started
	if s == nil {
		t.Skip("the reserved address was taken meanwhile")
	}
	s.Close()
	require.NoError(t, err)
	require.Equal(t, []int{1, 2}, caseNumbers(s.Results()))
	require.Equal(t, 1, s.CountCalls())
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no URL", Config{}, "no fuzzingserver URL"},
		{"bad scheme", Config{URL: "ftp://127.0.0.1:9001"}, "scheme must be ws or wss"},
		{"query", Config{URL: "ws://127.0.0.1:9001/?case=1"}, "must be a base URL"},
		{"no host", Config{URL: "ws:///x"}, "must be a base URL"},
		{"negative first", Config{URL: "ws://127.0.0.1:1", First: -1}, "case numbers start at 1"},
		{"empty range", Config{URL: "ws://127.0.0.1:1", First: 5, Last: 4}, "empty case range 5-4"},
		{"unparsable", Config{URL: "ws://[::1"}, "bad URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Run(context.Background(), tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in          string
		first, last int
		err         bool
	}{
		{"", 0, 0, false},
		{"5", 5, 5, false},
		{" 1-300 ", 1, 300, false},
		{"7-", 7, 0, false},
		{"-9", 0, 9, false},
		{"3-3", 3, 3, false},
		{"0", 0, 0, true},
		{"0-5", 0, 0, true},
		{"5-4", 0, 0, true},
		{"-", 0, 0, true},
		{"a-b", 0, 0, true},
		{"1-2-3", 0, 0, true},
		{"+4", 0, 0, true},
		{"1.5", 0, 0, true},
		{"99999999999999999999", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			first, last, err := ParseRange(tt.in)
			if tt.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, [2]int{tt.first, tt.last}, [2]int{first, last})
		})
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"", "1", "1-300", "7-", "-9", "5-4", "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		first, last, err := ParseRange(s)
		if err != nil {
			return
		}
		if first < 0 || last < 0 || (last != 0 && last < max(first, 1)) {
			t.Fatalf("ParseRange(%q) = %d, %d: not a valid range", s, first, last)
		}
	})
}
