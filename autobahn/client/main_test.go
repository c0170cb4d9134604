package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wslua/wslua/autobahn/driver"
	"github.com/wslua/wslua/autobahn/internal/fakeserver"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		first, last int
		agent       string
		url         string
		readLimit   int64
		readTimeout time.Duration
		err         string
	}{
		{name: "defaults", args: nil, agent: "wslua-go", url: "ws://127.0.0.1:9001", readLimit: 64 << 20, readTimeout: time.Minute},
		{name: "range", args: []string{"-cases", "1-300"}, first: 1, last: 300},
		{name: "one case", args: []string{"-case", "5"}, first: 5, last: 5},
		{name: "open range", args: []string{"-cases", "10-"}, first: 10},
		{name: "agent and url", args: []string{"-agent", "x", "-url", "ws://127.0.0.1:1"}, agent: "x", url: "ws://127.0.0.1:1"},
		{name: "no read timeout", args: []string{"-read-timeout", "0"}, readTimeout: -1},
		{name: "read limit", args: []string{"-read-limit", "1024"}, readLimit: 1024},
		{name: "both case flags", args: []string{"-case", "1", "-cases", "1-2"}, err: "not both"},
		{name: "case zero", args: []string{"-case", "0"}, err: "at least 1"},
		{name: "bad range", args: []string{"-cases", "3-1"}, err: "bad case range"},
		{name: "bad read limit", args: []string{"-read-limit", "0"}, err: "-read-limit must be positive"},
		{name: "extra argument", args: []string{"x"}, err: "unexpected arguments"},
		{name: "unknown flag", args: []string{"-nope"}, err: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cfg, err := parseFlags(tt.args, &stdout, &stderr)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.first, cfg.First)
			require.Equal(t, tt.last, cfg.Last)
			if tt.agent != "" {
				require.Equal(t, tt.agent, cfg.Agent)
			}
			if tt.url != "" {
				require.Equal(t, tt.url, cfg.URL)
			}
			if tt.readLimit != 0 {
				require.Equal(t, tt.readLimit, cfg.ReadLimit)
			}
			if tt.readTimeout != 0 {
				require.Equal(t, tt.readTimeout, cfg.ReadTimeout)
			}
			require.NotNil(t, cfg.Logf)
		})
	}
}

func TestRunAgainstFake(t *testing.T) {
	s := fakeserver.New(nil)
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	status := run(ctx, []string{"-url", s.URL(), "-agent", "cli", "-cases", "3-5"}, &stdout, &stderr)
	require.Equal(t, 0, status, "stderr: %s", stderr.String())
	s.Close()

	var got []int
	for _, r := range s.Results() {
		require.True(t, r.OK(), "case %d: %v", r.Case, r.Err)
		require.Equal(t, "cli", r.Agent)
		got = append(got, r.Case)
	}
	require.Equal(t, []int{3, 4, 5}, got)
	require.Equal(t, []string{"cli"}, s.Updates())

	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 5)
	require.Equal(t, "autobahn: 7 cases on the server; running 3-5 as agent cli", lines[0])
	require.Equal(t, "case 3: echoed 2 messages (0 bytes); closed with 1000 ()", lines[1])
	require.True(t, strings.HasPrefix(lines[2], "case 4: echoed 2 messages ("), lines[2])
	require.Equal(t, "case 5: echoed 2 messages (3019 bytes); closed with 1000 ()", lines[3])
	require.Equal(t, "autobahn: reports updated for agent cli", lines[4])
	require.Empty(t, stderr.String())
}

func TestRunQuiet(t *testing.T) {
	s := fakeserver.New(nil)
	t.Cleanup(s.Close)
	var stdout, stderr bytes.Buffer
	status := run(context.Background(), []string{"-url", s.URL(), "-case", "1", "-q"}, &stdout, &stderr)
	require.Equal(t, 0, status, "stderr: %s", stderr.String())
	require.Empty(t, stdout.String())
	s.Close()
	require.Len(t, s.Results(), 1)
	require.Equal(t, []string{driver.DefaultAgent}, s.Updates())
}

func TestRunExitStatus(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	var stdout, stderr bytes.Buffer
	require.Equal(t, 1, run(context.Background(), []string{"-url", "ws://" + addr}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "getting the case count")

	stderr.Reset()
	require.Equal(t, 2, run(context.Background(), []string{"-cases", "x"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "bad case range")

	stderr.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"-h"}, &stdout, &stderr))
	require.Contains(t, stderr.String(), "-agent")
}
