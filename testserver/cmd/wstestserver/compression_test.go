package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// startCommand runs the command with args until the test ends and returns
// its address; every wait is bounded.
func startCommand(t *testing.T, args ...string) string {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), new(bytes.Buffer), func(a string) { addrc <- a })
	}()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-errc:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("wstestserver did not shut down within 10s")
		}
	})
	select {
	case addr := <-addrc:
		return addr
	case err := <-errc:
		t.Fatalf("wstestserver did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("wstestserver did not start within 10s")
	}
	return ""
}

// wstestserver accepts permessage-deflate unless told not to: the Autobahn
// fuzzingclient's sections 12 and 13 depend on it (declined, they report
// UNIMPLEMENTED instead of failing).
func TestCompressionByDefault(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		accepted bool
	}{
		{"default", nil, true},
		{"-no-compression", []string{"-no-compression"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := startCommand(t, tc.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, resp, err := handshake.Dial(ctx, "ws://"+addr+"/", &handshake.DialOptions{
				Compression: &protocol.CompressionOptions{},
			})
			require.NoError(t, err)
			defer c.CloseNow()
			ext := resp.Header.Get("Sec-WebSocket-Extensions")
			if !tc.accepted {
				require.Empty(t, ext)
				require.Nil(t, c.Compression())
			} else {
				require.True(t, strings.HasPrefix(ext, "permessage-deflate"), "Sec-WebSocket-Extensions: %q", ext)
				require.NotNil(t, c.Compression())
			}
			msg := strings.Repeat("compress me ", 1000) // over the threshold: sent compressed if agreed
			require.NoError(t, c.Write(ctx, protocol.MessageText, []byte(msg)))
			_, p, err := c.Read(ctx)
			require.NoError(t, err)
			require.Equal(t, msg, string(p))
			require.NoError(t, c.Close(protocol.StatusNormalClosure, ""))
		})
	}
}
