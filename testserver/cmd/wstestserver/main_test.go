package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"flag"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestServeAndShutdown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	var log bytes.Buffer
	go func() {
		errc <- run(runCtx, []string{"-addr", "127.0.0.1:0", "-max-message-size", "1024"}, &log, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("wstestserver did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("wstestserver did not start within 10s")
	}

	c, _, err := handshake.Dial(ctx, "ws://"+addr+"/", nil)
	require.NoError(t, err)
	defer c.CloseNow()
	require.NoError(t, c.Write(ctx, protocol.MessageText, []byte("hi")))
	_, p, err := c.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, "hi", string(p))
	// The read limit flag is in force.
	require.NoError(t, c.Write(ctx, protocol.MessageBinary, make([]byte, 1025)))
	_, _, err = c.Read(ctx)
	require.Equal(t, protocol.StatusMessageTooBig, protocol.CloseStatus(err))

	// An open connection does not keep the command from shutting down.
	c2, _, err := handshake.Dial(ctx, "ws://"+addr+"/stall", nil)
	require.NoError(t, err)
	defer c2.CloseNow()
	stop()
	select {
	case err := <-errc:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("wstestserver did not shut down within 10s")
	}
	require.Contains(t, log.String(), "listening on ws://"+addr+"/")
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-max-message-size", "0"},
		{"-nope"},
		{"extra"},
		{"-addr", "256.0.0.1:0"},
	} {
		var log bytes.Buffer
		err := run(context.Background(), args, &log, nil)
		require.Error(t, err, "%q", args)
	}
	require.ErrorIs(t, run(context.Background(), []string{"-h"}, new(bytes.Buffer), nil), flag.ErrHelp)
}

// -tls and -http2 serve wss://; with -http2 WebSockets open over HTTP/2.
func TestServeTLSAndHTTP2(t *testing.T) {
	for _, tt := range []struct {
		flag      string
		mode      handshake.HTTP2Mode
		wantMajor int
	}{
		{"-tls", handshake.HTTP2Off, 1},
		{"-http2", handshake.HTTP2Require, 2},
		{"-http2", handshake.HTTP2Off, 1},
	} {
		t.Run(tt.flag+"/"+tt.mode.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			runCtx, stop := context.WithCancel(ctx)
			addrc := make(chan string, 1)
			errc := make(chan error, 1)
			var log bytes.Buffer
			go func() {
				errc <- run(runCtx, []string{"-addr", "127.0.0.1:0", tt.flag}, &log, func(a string) { addrc <- a })
			}()
			addr := <-addrc
			pool := &handshake.HTTP2Pool{}
			c, resp, err := handshake.Dial(ctx, "wss://"+addr+"/", &handshake.DialOptions{
				TLSConfig: &tls.Config{InsecureSkipVerify: true},
				HTTP2:     tt.mode,
				HTTP2Pool: pool,
			})
			require.NoError(t, err)
			require.Equal(t, tt.wantMajor, resp.ProtoMajor)
			require.NoError(t, c.Write(ctx, protocol.MessageText, []byte("hi")))
			_, p, err := c.Read(ctx)
			require.NoError(t, err)
			require.Equal(t, "hi", string(p))
			require.NoError(t, c.Close(protocol.StatusNormalClosure, ""))
			pool.Close()
			stop()
			require.NoError(t, <-errc)
			require.Contains(t, log.String(), "listening on wss://"+addr+"/")
		})
	}
}
