package testserver

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// 1,000 WebSockets over one HTTP/2 connection to the test server; a Read
// canceled on one of them, and another one closed, leave the rest working.
func TestHTTP2ThousandWebSockets(t *testing.T) {
	const n = MaxHTTP2Streams
	s := newServer(t, &Options{HTTP2: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*safetyTimeout)
	defer cancel()
	var dials atomic.Int32
	pool := &handshake.HTTP2Pool{}
	defer pool.Close()
	opts := &handshake.DialOptions{
		TLSConfig: s.TLSConfig(),
		HTTP2:     handshake.HTTP2Require,
		HTTP2Pool: pool,
		Proxy:     func(*url.URL) (*url.URL, error) { return nil, nil },
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	conns := make([]*protocol.Conn, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := handshake.Dial(ctx, s.URL()+"/echo", opts)
			conns[i] = c
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	require.EqualValues(t, 1, dials.Load(), "one TCP connection for %d WebSockets", n)
	require.Eventually(t, func() bool { return s.Handler().ActiveConns() == n }, 10*time.Second, 10*time.Millisecond)

	// One Read times out; another WebSocket is closed.
	rctx, rcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, _, err := conns[0].Read(rctx)
	rcancel()
	require.Error(t, err)
	require.NoError(t, conns[1].Close(protocol.StatusNormalClosure, ""))

	echoAll := func(from int) {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := from; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				msg := fmt.Appendf(nil, "ws %d", i)
				if err := conns[i].Write(ctx, protocol.MessageText, msg); err != nil {
					errs <- err
					return
				}
				if _, got, err := conns[i].Read(ctx); err != nil || string(got) != string(msg) {
					errs <- fmt.Errorf("ws %d: %q, %v", i, got, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	echoAll(2)
	require.EqualValues(t, 1, dials.Load())
}
