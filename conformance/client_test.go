package conformance

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
	"github.com/wslua/wslua/testserver"
)

// msg is a data message.
type msg struct {
	typ protocol.MessageType
	p   string
}

func textMsg(s string) msg { return msg{protocol.MessageText, s} }
func binMsg(s string) msg  { return msg{protocol.MessageBinary, s} }

// cliCase runs our client against a testserver script: the client writes
// some messages, then must read the given messages, then either the
// connection is still healthy (code 0: a clean close follows) or Read
// returns a *CloseError with code and Remote as given, and the server saw
// the client send the close code sent (0: not checked).
type cliCase struct {
	name   string
	target string
	opts   protocol.Options // the client Conn's options
	write  []msg
	read   []msg
	code   protocol.StatusCode
	remote bool
	sent   protocol.StatusCode
	cause  error // if set, the CloseError must match it with errors.Is
}

// testCtx returns a context that ends a hung test.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), safetyTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newEventServer starts a testserver whose session ends are reported on
// the returned channel.
func newEventServer(t *testing.T) (*testserver.Server, chan testserver.CloseEvent) {
	t.Helper()
	events := make(chan testserver.CloseEvent, 8)
	srv := testserver.New(&testserver.Options{OnClose: func(ev testserver.CloseEvent) { events <- ev }})
	t.Cleanup(srv.Close)
	return srv, events
}

// nextEvent waits for the end of the server's next session.
func nextEvent(t *testing.T, events chan testserver.CloseEvent) testserver.CloseEvent {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(safetyTimeout):
		t.Fatal("the server session did not end")
		return testserver.CloseEvent{}
	}
}

// dialOur dials url with our client.
func dialOur(t *testing.T, ctx context.Context, url string, opts protocol.Options) *protocol.Conn {
	t.Helper()
	c, resp, err := handshake.Dial(ctx, url, &handshake.DialOptions{Conn: opts})
	require.NoError(t, err)
	require.Equal(t, 101, resp.StatusCode)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// runClientCases runs each case with a fresh testserver.
func runClientCases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			srv, events := newEventServer(t)
			c := dialOur(t, ctx, srv.URL()+tc.target, tc.opts)
			for _, m := range tc.write {
				require.NoError(t, c.Write(ctx, m.typ, []byte(m.p)))
			}
			for i, want := range tc.read {
				typ, p, err := c.Read(ctx)
				require.NoError(t, err, "message %d", i)
				require.Equal(t, want.typ, typ, "message %d", i)
				require.Equal(t, want.p, string(p), "message %d", i)
			}
			if tc.code == 0 {
				require.NoError(t, c.Close(protocol.StatusNormalClosure, ""))
				ev := nextEvent(t, events)
				require.Equal(t, protocol.StatusNormalClosure, ev.Code, "the server saw a clean close (%v)", ev.Err)
				return
			}
			_, _, err := c.Read(ctx)
			var ce *protocol.CloseError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.code, ce.Code, "%v", err)
			require.Equal(t, tc.remote, ce.Remote, "%v", err)
			if tc.cause != nil {
				require.ErrorIs(t, err, tc.cause)
			}
			if tc.sent != 0 {
				checkSent(t, nextEvent(t, events), tc.sent)
			}
			// Once closed, Read keeps returning the same error.
			_, _, err2 := c.Read(ctx)
			require.True(t, errors.Is(err2, protocol.ErrClosed))
		})
	}
}

// runClient runs fn in a goroutine with our client connected to url, and
// returns a function that waits for fn and returns its error (or the dial
// error). The Conn is closed (CloseNow) once fn returns; the cleanup waits
// too, so the goroutine never outlives the test.
func runClient(t *testing.T, url string, opts protocol.Options, fn func(ctx context.Context, c *protocol.Conn) error) (wait func() error) {
	t.Helper()
	ctx := testCtx(t)
	done := make(chan error, 1)
	go func() {
		c, _, err := handshake.Dial(ctx, url, &handshake.DialOptions{Conn: opts})
		if err != nil {
			done <- err
			return
		}
		err = fn(ctx, c)
		c.CloseNow()
		done <- err
	}()
	var once sync.Once
	var err error
	wait = func() error {
		once.Do(func() { err = <-done })
		return err
	}
	t.Cleanup(func() { wait() })
	return wait
}

// checkSent requires the server to have seen the client close with code.
func checkSent(t *testing.T, ev testserver.CloseEvent, code protocol.StatusCode) {
	t.Helper()
	require.Equal(t, code, ev.Code, "code the client sent (%v)", ev.Err)
}
