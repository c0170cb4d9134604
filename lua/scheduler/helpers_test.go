package scheduler_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/scheduler"
)

// testTimeout only guards against hangs; no test asserts on elapsed time.
const testTimeout = 20 * time.Second

// recorder collects the lines a script emits with emit(...).
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) emit(L *lua.LState) int {
	parts := make([]string, 0, L.GetTop())
	for i := 1; i <= L.GetTop(); i++ {
		parts = append(parts, L.ToStringMeta(L.Get(i)).String())
	}
	r.mu.Lock()
	r.lines = append(r.lines, strings.Join(parts, " "))
	r.mu.Unlock()
	return 0
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// newState returns a fresh Lua state with emit(...) installed.
func newState(t testing.TB) (*lua.LState, *recorder) {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	rec := &recorder{}
	L.SetGlobal("emit", L.NewFunction(rec.emit))
	return L, rec
}

// runScript runs code under the scheduler (the recorder keeps its output).
func runScript(t testing.TB, L *lua.LState, code string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return scheduler.RunString(ctx, L, code)
}

func requireErrContains(t testing.TB, err error, parts ...string) {
	t.Helper()
	require.Error(t, err)
	for _, p := range parts {
		require.Contains(t, err.Error(), p)
	}
}

// closerFunc adapts a function to io.Closer.
type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// pause yields the processor briefly inside polling loops.
func pause() { time.Sleep(50 * time.Microsecond) }
