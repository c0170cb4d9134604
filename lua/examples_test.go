package lua

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/lua/scheduler"
	"github.com/wslua/wslua/protocol"
)

// runExample runs examples/name with the given arguments (arg[1]...) under
// the scheduler until it ends or ctx is done, and returns what it printed.
func runExample(t *testing.T, ctx context.Context, name string, args ...string) (string, error) {
	t.Helper()
	var out syncBuffer
	L := newTestState(&out)
	defer L.Close()
	path := filepath.Join("..", "examples", name)
	argt := L.NewTable()
	argt.RawSetInt(0, glua.LString(path))
	for i, a := range args {
		argt.RawSetInt(i+1, glua.LString(a))
	}
	L.SetGlobal("arg", argt)
	fn, err := L.LoadFile(path)
	require.NoError(t, err)
	err = scheduler.Run(ctx, L, fn)
	return out.String(), err
}

// droppingEcho echoes messages; on the first connection it drops the TCP
// connection (no close frame) right after the second echo. It counts the
// echoes of later connections in echoed and reports how each later
// connection ended on ends.
func droppingEcho(echoed *atomic.Int64, ends chan<- string) func(ctx context.Context, conn *protocol.Conn) {
	var conns atomic.Int64
	return func(ctx context.Context, conn *protocol.Conn) {
		first := conns.Add(1) == 1
		for n := 1; ; n++ {
			typ, p, err := conn.Read(ctx)
			if err != nil {
				var ce *protocol.CloseError
				end := "no close frame"
				if errors.As(err, &ce) && ce.Remote {
					end = "close " + ce.Reason + " " + itoaCode(ce.Code)
				}
				select {
				case ends <- end:
				default:
				}
				return
			}
			if conn.Write(ctx, typ, p) != nil {
				return
			}
			if first && n == 2 {
				_ = conn.NetConn().Close() // the drop: no close frame
				return
			}
			if !first {
				echoed.Add(1)
			}
		}
	}
}

func itoaCode(c protocol.StatusCode) string { return strconv.Itoa(int(c)) }

// TestLongLivedExample runs examples/longlived.lua against a server that
// drops the first connection after two messages: the script sees 1006,
// reconnects after 100 ms, goes on with its ticks, and after five messages
// closes with 1000 and ends.
func TestLongLivedExample(t *testing.T) {
	var echoed atomic.Int64
	ends := make(chan string, 4)
	url := peerServer(t, droppingEcho(&echoed, ends))
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	out, err := runExample(t, ctx, "longlived.lua", url, "5", "20")
	require.NoError(t, err, out)
	require.Regexp(t, regexp.MustCompile(`^connected
received	tick 1
received	tick 2
closed: 1006 connection lost: [^\n]+ \(started by the server\)
reconnecting in 100 ms
connected
received	tick 3
received	tick 4
received	tick 5
closed: 1000  \(started by the client\)
$`), out)
	select {
	case end := <-ends:
		require.Equal(t, "close done 1000", end)
	case <-time.After(10 * time.Second):
		t.Fatal("the server saw no end")
	}
}

// TestLongLivedExampleStopped: stopping the host (Ctrl-C in wslua cancels
// the run's context) ends the script cleanly: the server gets a close
// frame with 1001 (going away), and the run ends with the cancellation.
func TestLongLivedExampleStopped(t *testing.T) {
	var echoed atomic.Int64
	ends := make(chan string, 4)
	url := peerServer(t, droppingEcho(&echoed, ends))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Stop once the second connection has echoed a few ticks.
		for echoed.Load() < 3 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	out, err := runExample(t, ctx, "longlived.lua", url, "", "20")
	require.ErrorIs(t, err, context.Canceled, out)
	require.Regexp(t, regexp.MustCompile(`^connected
received	tick 1
received	tick 2
closed: 1006 [^\n]+
reconnecting in 100 ms
connected
received	tick 3
`), out)
	select {
	case end := <-ends:
		require.Equal(t, "close going away 1001", end)
	case <-time.After(10 * time.Second):
		t.Fatal("the server saw no end")
	}
}
