package lua

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	glua "github.com/yuin/gopher-lua"

	"github.com/wslua/wslua/testserver"
)

// readyFunc installs a global ready() that closes the returned channel.
func readyFunc(L *glua.LState) <-chan struct{} {
	ready := make(chan struct{})
	var once sync.Once
	L.SetGlobal("ready", L.NewFunction(func(*glua.LState) int {
		once.Do(func() { close(ready) })
		return 0
	}))
	return ready
}

func closeEvents(t *testing.T) (*testserver.Server, <-chan testserver.CloseEvent) {
	events := make(chan testserver.CloseEvent, 8)
	s := newServer(t, &testserver.Options{OnClose: func(ev testserver.CloseEvent) { events <- ev }})
	return s, events
}

// TestHostCancelClosesConnections: cancelling the context of scheduler.Run
// stops the script, closes its connections with 1001 (going away) and ends
// their goroutines (goleak checks the latter).
func TestHostCancelClosesConnections(t *testing.T) {
	s, events := closeEvents(t)
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	out, err := runLuaCtx(t, ctx, s.URL(), func(L *glua.LState) {
		ready := readyFunc(L)
		go func() { <-ready; cancel() }()
	}, `
		local a = assert(websocket.connect(WS .. "/"))
		local b = assert(websocket.connect(WS .. "/", {channel_capacity = 0}))
		assert(b:send("never received"))
		coroutine.spawn(function()
			-- blocked until the host stops (the channel may close first)
			local ch = a:receive()
			while ch:receive() do end
		end)
		coroutine.yield()
		ready()
		local ch = b:receive()
		while ch:receive() do end
		-- once the connection is gone the script may still run until the
		-- scheduler notices the cancellation
		while true do coroutine.yield() end
	`)
	require.ErrorIs(t, err, context.Canceled, out)
	for range 2 {
		ev := <-events
		require.Equal(t, 1001, int(ev.Code))
		require.Equal(t, "going away", ev.Reason)
	}
}

// TestHostCancelDuringConnect: the host context bounds connect as well.
func TestHostCancelDuringConnect(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	defer func() {
		l.Close()
		for c := range accepted {
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	_, err = runLuaCtx(t, ctx, "ws://"+l.Addr().String(), func(L *glua.LState) {
		ready := readyFunc(L)
		go func() {
			<-ready
			c, ok := <-accepted // the dial reached the server: it now waits for the handshake
			if ok {
				defer c.Close()
			}
			cancel()
		}()
	}, `
		ready()
		websocket.connect(WS .. "/")
		print("unreachable")
	`)
	require.ErrorIs(t, err, context.Canceled)
}

// TestScriptEndClosesConnections: a script that returns without closing
// its client gets it closed (1001) when Run ends.
func TestScriptEndClosesConnections(t *testing.T) {
	s, events := closeEvents(t)
	out := mustRunLua(t, s.URL(), `
		local client = assert(websocket.connect(WS .. "/"))
		assert(client:send("left open"))
		print("done")
	`)
	require.Equal(t, "done\n", out)
	ev := <-events
	require.Equal(t, 1001, int(ev.Code))
}

// TestScriptErrorClosesConnections: an uncaught error stops Run with the
// error; the connection is closed all the same.
func TestScriptErrorClosesConnections(t *testing.T) {
	s, events := closeEvents(t)
	_, err := runLua(t, nil, s.URL(), `
		local client = assert(websocket.connect(WS .. "/"))
		error("boom")
	`)
	require.ErrorContains(t, err, "boom")
	ev := <-events
	require.Equal(t, 1001, int(ev.Code))
}

// TestPlainGopherLua embeds the module without the scheduler: calls block
// the calling goroutine and ch:receive() waits for a message or the close.
func TestPlainGopherLua(t *testing.T) {
	s, events := closeEvents(t)
	for _, withCtx := range []bool{false, true} {
		L := glua.NewState()
		Open(L)
		if withCtx {
			ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
			defer cancel()
			L.SetContext(ctx)
		}
		var out syncBuffer
		capturePrint(L, &out)
		L.SetGlobal("WS", glua.LString(s.URL()))
		err := L.DoString(`
			local client = assert(websocket.connect(WS .. "/", {read_timeout = "5s"}))
			local ch = client:receive()
			assert(client:send("plain"))
			assert(client:ping("p"))
			local m = ch:receive()
			print(m.type, m.data)
			m = ch:receive()
			print(m.type, m.data)
			print(client:close(4000, "plain bye"))
			m = ch:receive()
			print(m.type, m.code)
			print(ch:receive())
			print(client:send("late"))
		`)
		L.Close()
		require.NoError(t, err)
		require.Equal(t, "text\tplain\npong\tp\ntrue\nclose\t4000\nnil\tfalse\nfalse\twebsocket: connection closed\n", out.String())
		ev := <-events
		require.Equal(t, 4000, int(ev.Code))
	}
}

// TestPlainGopherLuaHostCancel: in plain gopher-lua, cancelling L's context
// interrupts a blocked ch:receive() and closes the connection (1001).
func TestPlainGopherLuaHostCancel(t *testing.T) {
	s, events := closeEvents(t)
	L := glua.NewState()
	defer L.Close()
	Open(L)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	L.SetContext(ctx)
	ready := readyFunc(L)
	L.SetGlobal("WS", glua.LString(s.URL()))
	errc := make(chan error, 1)
	go func() {
		errc <- L.DoString(`
			local client = assert(websocket.connect(WS .. "/"))
			ready()
			client:receive():receive()
		`)
	}()
	<-ready
	cancel()
	select {
	case err := <-errc:
		require.ErrorContains(t, err, "context canceled")
	case <-time.After(scriptTimeout):
		t.Fatal("DoString did not return after cancel")
	}
	ev := <-events
	require.Equal(t, 1001, int(ev.Code))
}
