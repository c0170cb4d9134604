package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
pkg: github.com/wslua/wslua/bench
cpu: Test CPU
BenchmarkRoundTrip16/impl=ours-2     1000  100 ns/op  0 B/op  0 allocs/op
BenchmarkRoundTrip16/impl=ours-2     1000  120 ns/op  0 B/op  0 allocs/op
BenchmarkRoundTrip16/impl=ours-2     1000  300 ns/op  0 B/op  0 allocs/op
BenchmarkRoundTrip16/impl=gorilla-2  1000  200 ns/op  64 B/op  3 allocs/op
BenchmarkRoundTrip16/impl=gws-2      1000  150 ns/op  80 B/op  4 allocs/op
BenchmarkRoundTrip16/impl=tcp-2      1000  110 ns/op  16 B/op  4 allocs/op
BenchmarkEcho64K/impl=ours-2    100  1000 ns/op  65536.00 MB/s  0 B/op  0 allocs/op
BenchmarkEcho64K/impl=coder-2   100  1200 ns/op  54613.33 MB/s  0 B/op  0 allocs/op
BenchmarkConnRead/role=client/binary/size=64K-2  10  5 ns/op  65536 B/op  1 allocs/op
BenchmarkConnRead/role=client/binary/size=16-2   10  5 ns/op  32 B/op  1 allocs/op
BenchmarkConnWrite/role=client/size=16-2  10  5 ns/op  0 B/op  0 allocs/op
BenchmarkConnAtRest/impl=ours-2  1000  5 ns/op  9000 client-B/conn  4000 server-B/conn
BenchmarkLuaInProcess/loop=roundtrip16-2  1000  240 ns/op  1500 B/op  25 allocs/op
not a benchmark line
PASS
`

const framingSample = `pkg: github.com/wslua/wslua/framing
BenchmarkMask/65536-2  1000  3000 ns/op  21845.33 MB/s  0 B/op  0 allocs/op
`

const scriptSample = `BenchmarkScriptRoundTrip16/client=lua	20000	30000.0 ns/op	33333 ops/s
BenchmarkScriptRoundTrip16/client=node	20000	50000.0 ns/op	20000 ops/s
BenchmarkScriptRoundTrip16/client=go	20000	20000.0 ns/op	50000 ops/s
BenchmarkScriptConns100/client=lua	100000	25000.0 ns/op	40000 msgs/s
BenchmarkScriptConns100/client=node	100000	40000.0 ns/op	25000 msgs/s
BenchmarkScriptHold/server=same/conns=5000	1	30000 rss-B/conn	160.0 rss-MB
BenchmarkScriptHold/server=other/conns=10000	1	18000 rss-B/conn	200.0 rss-MB
`

func sampleSet(t *testing.T) *Set {
	s := NewSet()
	for _, in := range []string{sample, framingSample, scriptSample} {
		require.NoError(t, s.Read(strings.NewReader(in)))
	}
	return s
}

func TestParseAndStat(t *testing.T) {
	s := sampleSet(t)
	require.Equal(t, "Test CPU", s.CPU)
	require.Equal(t, "2", s.Procs)
	cases := []struct {
		name, unit  string
		med, lo, hi float64
		n           int
	}{
		{"RoundTrip16/impl=ours", "ns/op", 120, 100, 300, 3},
		{"RoundTrip16/impl=gorilla", "allocs/op", 3, 3, 3, 1},
		{"Echo64K/impl=ours", "MB/s", 65536, 65536, 65536, 1},
		{"framing.Mask/65536", "MB/s", 21845.33, 21845.33, 21845.33, 1},
		{"ScriptRoundTrip16/client=lua", "ops/s", 33333, 33333, 33333, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name+" "+tc.unit, func(t *testing.T) {
			r, ok := s.Results[tc.name]
			require.True(t, ok)
			st, ok := r.Stat(tc.unit)
			require.True(t, ok)
			require.Equal(t, Stat{Median: tc.med, Min: tc.lo, Max: tc.hi, N: tc.n}, st)
		})
	}
	_, ok := s.Results["RoundTrip16/impl=ours"].Stat("MB/s")
	require.False(t, ok)
}

func TestMedianEven(t *testing.T) {
	r := &Result{Samples: map[string][]float64{"ns/op": {4, 1, 3, 2}}}
	require.Equal(t, 2.5, r.Median("ns/op"))
	require.Equal(t, -1.0, r.Median("B/op"))
}

func TestSplitVariant(t *testing.T) {
	cases := []struct{ in, group, variant string }{
		{"RoundTrip16/impl=ours", "RoundTrip16", "ours"},
		{"CrossEcho64K/srv=gws", "CrossEcho64K", "gws"},
		{"ScriptEcho64K/client=node", "ScriptEcho64K", "node"},
		{"ConnRead/role=client/size=16", "ConnRead", "role=client/size=16"},
		{"Copy64K", "Copy64K", ""},
	}
	for _, tc := range cases {
		g, v, _ := splitVariant(tc.in)
		require.Equal(t, tc.group, g, tc.in)
		require.Equal(t, tc.variant, v, tc.in)
	}
}

func TestRatiosAndTargets(t *testing.T) {
	s := sampleSet(t)
	g := s.group("RoundTrip16")
	require.NotNil(t, g)
	require.Equal(t, "gws", g.BestPeer())
	require.InDelta(t, 150.0/120, g.Ratio("ours", "gws"), 1e-9)
	require.InDelta(t, 110.0/120, g.Ratio("ours", "tcp"), 1e-9)

	got := map[string]string{}
	for _, tg := range s.Targets() {
		got[tg.Name] = tg.Status
	}
	want := map[string]string{
		"RoundTrip16: ours vs tcp":                                      "FAIL", // 0.92×
		"RoundTrip16: ours vs best peer (gws)":                          "PASS",
		"Echo64K: ours vs best peer (coder)":                            "PASS", // 1.2×
		"Stream64K: ours vs tcp":                                        "MISSING",
		"ConnWrite: allocs/op, every size and role":                     "PASS",
		"ConnRead: one allocation of exactly the message size":          "FAIL", // 32 B for 16
		"Masking 64 KiB (framing.Mask)":                                 "PASS",
		"ScriptRoundTrip16: lua vs node":                                "PASS", // 1.67×
		"ScriptRoundTrip16: lua vs go":                                  "FAIL", // 0.67× < 0.8×
		"ScriptConns100: lua vs node":                                   "PASS", // 1.6×
		"ScriptEcho64K: lua vs node":                                    "MISSING",
		"Lua connections held, same process (RSS growth, 5,000)":        "FAIL", // 30000 B
		"Lua connections held, server in another process (RSS, 10,000)": "PASS", // 200 MB
		"Lua connection held, client side (Go heap + stacks)":           "MISSING",
		"Connection at rest, client end (Go heap + stacks)":             "FAIL",
		"Connection at rest, server end (Go heap + stacks)":             "PASS",
		"Lua allocations per 16-byte round trip (LuaInProcess)":         "FAIL", // 25
		"Lua bytes allocated per 64 KiB echo (LuaInProcess)":            "MISSING",
	}
	for name, st := range want {
		require.Equal(t, st, got[name], name)
	}
}

// inputFile writes content to a file of its own and returns its name.
func inputFile(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "input.txt")
	require.NoError(t, os.WriteFile(f, []byte(content), 0o600))
	return f
}

func TestRunWritesTables(t *testing.T) {
	f := inputFile(t, sample)
	var out bytes.Buffer
	failed, err := run(&out, nil, []string{f}, true, "")
	require.NoError(t, err)
	require.Equal(t, 4, failed, "the FAIL rows of the sample")
	s := out.String()
	require.Contains(t, s, "## Targets")
	require.Contains(t, s, "### RoundTrip16")
	require.Contains(t, s, "| ours | 120 [100–300] | 0 | 0 | 1.25× | 0.92× |")

	_, err = run(&out, nil, []string{inputFile(t, "PASS\n")}, false, "")
	require.Error(t, err)
	_, err = run(&out, nil, []string{filepath.Join(t.TempDir(), "missing")}, false, "")
	require.Error(t, err)
}

// The command's exit status: 3 when a target fails (after printing every
// table), 0 when none does (missing ones do not count) or without -targets,
// 1 on an error, 2 on a bad flag.
func TestExitStatus(t *testing.T) {
	failing := inputFile(t, sample)
	passing := inputFile(t, framingSample)
	cases := []struct {
		name   string
		args   []string
		stdin  string
		status int
		stderr string
	}{
		{"a target fails", []string{"-targets", failing}, "", 3, "4 target(s) failed"},
		{"a target fails, from stdin", []string{"-targets"}, sample, 3, "4 target(s) failed"},
		{"every measured target passes", []string{"-targets", passing}, "", 0, ""},
		{"no targets asked for", []string{failing}, "", 0, ""},
		{"no results", []string{"-targets"}, "PASS\n", 1, "no benchmark results"},
		{"bad flag", []string{"-nope"}, "", 2, "flag provided but not defined"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := benchtable(tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
			require.Equal(t, tc.status, status, "stderr: %s", stderr.String())
			if tc.stderr == "" {
				require.Empty(t, stderr.String())
			} else {
				require.Contains(t, stderr.String(), tc.stderr)
			}
			if status == 0 || status == 3 {
				require.Contains(t, stdout.String(), "## Results", "the tables are printed even when a target fails")
			}
		})
	}
}

// An older tree's client measured in the same run (-base): its ratios sit
// beside ours in the targets table, it is never a peer, a status is ours
// alone, and a table compares ours with it.
func TestBaseComparison(t *testing.T) {
	const older = `BenchmarkRoundTrip16/impl=ours@f00d-2  1000  140 ns/op
BenchmarkRoundTrip16/impl=ours@f00d-2  1000  160 ns/op
BenchmarkEcho64K/impl=ours@f00d-2  100  2000 ns/op
`
	f := inputFile(t, sample+older)

	var out bytes.Buffer
	failed, err := run(&out, nil, []string{f}, true, "ours@f00d")
	require.NoError(t, err)
	require.Equal(t, 4, failed, "the base's rows change no status")
	s := out.String()
	require.Contains(t, s, "| status | ours@f00d, same run |")
	// RoundTrip16: ours 120, base 150, gws 150, tcp 110 (medians).
	require.Contains(t, s, "| RoundTrip16: ours vs tcp | ≥ 0.95× | 0.92× | FAIL | 0.73× |")
	require.Contains(t, s, "| RoundTrip16: ours vs best peer (gws) | ≥ 1.00× | 1.25× | PASS | 1.00× |")
	require.Contains(t, s, "| Echo64K: ours vs best peer (coder) | ≥ 1.10× | 1.20× | PASS | 0.60× |")
	require.Contains(t, s, "| Stream64K: ours vs tcp | ≥ 0.80× | not measured | MISSING | — |")
	require.Contains(t, s, "## Ours against ours@f00d, same run")
	require.Contains(t, s, "| RoundTrip16 | 120 [100–300] | 150 [140–160] | 1.25× |")
	require.Contains(t, s, "| Echo64K | 1000 | 2000 | 2.00× |")

	// Without -base the rows are an ordinary variant and the tables keep
	// their four columns.
	out.Reset()
	_, err = run(&out, nil, []string{f}, true, "")
	require.NoError(t, err)
	require.NotContains(t, out.String(), "same run")
	require.Contains(t, out.String(), "| RoundTrip16: ours vs best peer (gws) | ≥ 1.00× | 1.25× | PASS |\n")

	// A base that was not measured adds the column, empty, and no table.
	out.Reset()
	_, err = run(&out, nil, []string{f}, true, "ours@beef")
	require.NoError(t, err)
	require.Contains(t, out.String(), "| RoundTrip16: ours vs best peer (gws) | ≥ 1.00× | 1.25× | PASS | — |")
	require.NotContains(t, out.String(), "## Ours against")
}
