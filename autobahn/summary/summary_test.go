package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func loadIndex(t *testing.T, name string) index {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	defer f.Close()
	idx, err := readIndex(f)
	require.NoError(t, err)
	return idx
}

func TestSummarizeCounts(t *testing.T) {
	sums := summarize(loadIndex(t, "pass.json"))
	require.Len(t, sums, 2)

	goSum := sums[0]
	require.Equal(t, "wslua-go", goSum.Agent)
	require.Equal(t, 7, goSum.Cases)
	require.Equal(t, map[string]int{"OK": 3, "NON-STRICT": 1, "INFORMATIONAL": 2, "UNIMPLEMENTED": 1}, goSum.Behavior)
	require.Equal(t, map[string]int{"OK": 5, "INFORMATIONAL": 2}, goSum.BehaviorClose)
	require.Zero(t, goSum.Failed)
	var ids []string
	for _, n := range goSum.NotOK {
		ids = append(ids, n.ID)
	}
	require.Equal(t, []string{"2.10", "7.1.6", "7.13.1", "12.1.1"}, ids, "cases not OK, in numeric order")

	luaSum := sums[1]
	require.Equal(t, "wslua-lua", luaSum.Agent)
	require.Equal(t, map[string]int{"OK": 2}, luaSum.Behavior)
	require.Equal(t, map[string]int{"OK": 1, "WRONG CODE": 1}, luaSum.BehaviorClose)
	require.Len(t, luaSum.NotOK, 1, "a case whose closing behavior is not OK is listed")
	require.Equal(t, "7.9.1", luaSum.NotOK[0].ID)
	require.Zero(t, luaSum.Failed)
}

func TestSummarizeFailures(t *testing.T) {
	sums := summarize(loadIndex(t, "fail.json"))
	require.Len(t, sums, 2)
	require.Equal(t, 1, sums[0].Failed)
	require.Equal(t, 1, sums[0].Behavior["FAILED"])
	require.Zero(t, sums[1].Failed)

	sums = summarize(loadIndex(t, "unclean.json"))
	require.Len(t, sums, 1)
	require.Equal(t, 1, sums[0].Failed, "an UNCLEAN close counts as a failure")
}

func TestRun(t *testing.T) {
	td := func(name string) string { return filepath.Join("testdata", name) }
	tests := []struct {
		name       string
		args       []string
		status     int
		stdout     []string // substrings expected on stdout, in order
		notStdout  []string
		stderrPart string
	}{
		{
			name:   "all pass",
			args:   []string{td("pass.json")},
			status: exitOK,
			stdout: []string{
				"agent wslua-go: 7 cases",
				"behavior:      OK 3, NON-STRICT 1, INFORMATIONAL 2, UNIMPLEMENTED 1, FAILED 0",
				"behaviorClose: OK 5, INFORMATIONAL 2",
				"not OK (4):",
				"2.10       behavior=NON-STRICT",
				"7.1.6 ",
				"7.13.1     behavior=INFORMATIONAL  close=INFORMATIONAL    remoteCloseCode=5000",
				"12.1.1     behavior=UNIMPLEMENTED  close=OK               remoteCloseCode=none",
				"agent wslua-lua: 2 cases",
				"behavior:      OK 2, NON-STRICT 0, INFORMATIONAL 0, UNIMPLEMENTED 0, FAILED 0",
				"behaviorClose: OK 1, WRONG CODE 1",
				"7.9.1      behavior=OK             close=WRONG CODE",
			},
			notStdout: []string{"FAILED:", "1.1.10", " ! "},
		},
		{
			name:   "a failed case",
			args:   []string{td("fail.json")},
			status: exitFailed,
			stdout: []string{
				"agent wslua-go: 2 cases",
				"behavior:      OK 1, NON-STRICT 0, INFORMATIONAL 0, UNIMPLEMENTED 0, FAILED 1",
				"! 6.4.1      behavior=FAILED",
				"remoteCloseCode=1007",
				"FAILED: 1 case(s)",
				"agent wslua-lua: 1 cases",
				"every case OK",
			},
		},
		{
			name:   "failure in the second file",
			args:   []string{td("pass.json"), td("unclean.json")},
			status: exitFailed,
			stdout: []string{"== " + td("pass.json"), "== " + td("unclean.json"), "! 5.1", "close=UNCLEAN", "FAILED: 1 case(s)"},
		},
		{name: "empty report", args: []string{td("empty.json")}, status: exitFailed, stdout: []string{"no agents in the report"}},
		{name: "no arguments", args: nil, status: exitError, stderrPart: "usage:"},
		{name: "missing file", args: []string{td("nope.json")}, status: exitError, stderrPart: "nope.json"},
		{name: "entry without behavior", args: []string{td("nobehavior.json")}, status: exitError, stderrPart: "no behavior"},
		{name: "truncated JSON", args: []string{td("truncated.json")}, status: exitError, stderrPart: "decoding index.json"},
		{name: "not an object", args: []string{td("notobject.json")}, status: exitError, stderrPart: "decoding index.json"},
		{name: "unknown flag", args: []string{"-x", td("pass.json")}, status: exitError, stderrPart: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run(tt.args, &stdout, &stderr)
			require.Equal(t, tt.status, status, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			out := stdout.String()
			pos := 0
			for _, want := range tt.stdout {
				i := strings.Index(out[pos:], want)
				require.GreaterOrEqual(t, i, 0, "want %q after offset %d in:\n%s", want, pos, out)
				pos += i + len(want)
			}
			for _, unwanted := range tt.notStdout {
				require.NotContains(t, out, unwanted)
			}
			if tt.stderrPart != "" {
				require.Contains(t, stderr.String(), tt.stderrPart)
			} else {
				require.Empty(t, stderr.String())
			}
		})
	}
}

func TestCompareCaseIDs(t *testing.T) {
	ids := []string{"12.1.1", "1.1.10", "9.1.1", "1.1.2", "2.10", "2.2", "1.1.1", "1.2.1", "10.1.1", "2.1"}
	slices.SortFunc(ids, compareCaseIDs)
	require.Equal(t, []string{"1.1.1", "1.1.2", "1.1.10", "1.2.1", "2.1", "2.2", "2.10", "9.1.1", "10.1.1", "12.1.1"}, ids)
}

func TestParseCaseID(t *testing.T) {
	tests := []struct {
		id   string
		want []int
		ok   bool
	}{
		{"1.1.1", []int{1, 1, 1}, true},
		{"2.10", []int{2, 10}, true},
		{"7", []int{7}, true},
		{"", nil, false},
		{"1..1", nil, false},
		{"1.a", nil, false},
		{"-1.1", nil, false},
		{"+1.1", nil, false},
		{"1.1.", nil, false},
		{"99999999999999999999999.1", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got, err := parseCaseID(tt.id)
			if !tt.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestReadIndexRejectsBadCaseID(t *testing.T) {
	_, err := readIndex(strings.NewReader(`{"a": {"x.1": {"behavior": "OK"}}}`))
	require.ErrorContains(t, err, `bad case ID "x.1"`)
	_, err = readIndex(strings.NewReader(`{"a": {}} {"b": {}}`))
	require.ErrorContains(t, err, "trailing data")
}
