package lua

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	glua "github.com/yuin/gopher-lua"
	"go.uber.org/goleak"

	"github.com/wslua/wslua/lua/scheduler"
	"github.com/wslua/wslua/testserver"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// scriptTimeout bounds every scripted test (a hang fails instead of
// blocking the test binary).
const scriptTimeout = 20 * time.Second

// syncBuffer is a goroutine-safe output buffer for the captured print.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// capturePrint replaces print in L by one writing to out, formatted like
// Lua's (tab-separated tostring values, newline).
func capturePrint(L *glua.LState, out *syncBuffer) {
	L.SetGlobal("print", L.NewFunction(func(L *glua.LState) int {
		parts := make([]string, L.GetTop())
		for i := range parts {
			parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
		}
		fmt.Fprintln(out, strings.Join(parts, "\t"))
		return 0
	}))
}

// newServer starts a test server closed at the end of the test.
func newServer(t *testing.T, opts *testserver.Options) *testserver.Server {
	t.Helper()
	s := testserver.New(opts)
	t.Cleanup(s.Close)
	return s
}

// runLua runs src under the scheduler with the module open and the globals
// WS (the server's base URL, no trailing slash) set, and returns what it
// printed.
func runLua(t *testing.T, ctx context.Context, ws string, src string) (string, error) {
	t.Helper()
	return runLuaCtx(t, ctx, ws, nil, src)
}

// runLuaWith is runLua with a setup function called before the script.
func runLuaWith(t *testing.T, ws string, setup func(L *glua.LState), src string) (string, error) {
	t.Helper()
	return runLuaCtx(t, nil, ws, setup, src)
}

func runLuaCtx(t *testing.T, ctx context.Context, ws string, setup func(L *glua.LState), src string) (string, error) {
	t.Helper()
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), scriptTimeout)
		defer cancel()
	}
	var out syncBuffer
	L := newTestState(&out)
	defer L.Close()
	L.SetGlobal("WS", glua.LString(ws))
	if setup != nil {
		setup(L)
	}
	err := scheduler.RunString(ctx, L, src)
	return out.String(), err
}

// newTestState returns a state with the module and the scheduler
// installed, printing to out.
func newTestState(out *syncBuffer) *glua.LState {
	L := glua.NewState()
	Open(L)
	scheduler.Install(L)
	capturePrint(L, out)
	return L
}

// mustRunLua is runLua that requires success.
func mustRunLua(t *testing.T, ws, src string) string {
	t.Helper()
	out, err := runLua(t, nil, ws, src)
	require.NoError(t, err, "output so far:\n%s", out)
	return out
}

func fmtSscan(s string, v *int) (int, error) { return fmt.Sscan(s, v) }
