package main

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// examplesDir holds the example scripts (repository root /examples).
var examplesDir = filepath.Join("..", "..", "..", "examples")

// TestExamples runs every example with --serve and checks its output. The
// expected output is a regular expression matched against the whole output.
func TestExamples(t *testing.T) {
	tests := []struct {
		script string
		args   []string
		want   string
	}{
		// spec_complete sends "Hello" and closes at once, spec_receive sends
		// two messages and closes at once: the echoes, which the server sends
		// before its close reply, are always delivered before the close
		// message (the reader, not Close, reads up to the reply).
		{"spec_complete.lua", nil, `^Received:\tHello\nServer closed connection:\t1000\t\n$`},
		{"spec_connect.lua", nil, `^Connected:\twebsocket\.client\(ws://127\.0\.0\.1:\d+/, open\)\n$`},
		{"spec_send.lua", nil, `^Echo:\tHello, WebSocket!\n$`},
		{"spec_close.lua", nil, `^Final message:\tclose\t1000\nChannel open:\tfalse\n$`},
		{"spec_receive.lua", nil, `^Received text:\tone\nReceived text:\ttwo\nServer closed connection:\t1000\t\n$`},
		{"echo.lua", nil, `^connected to\twebsocket\.client\(ws://127\.0\.0\.1:\d+/, open\)\n` +
			`text\tHello\ntext\tWebSocket\ntext\tfrom Lua\nbinary\t4 bytes\npong\tare you there\?\nclose\t1000\nchannel closed:\ttrue\n$`},
		{"echo.lua", []string{"custom", "words"}, `\ntext\tcustom\ntext\twords\nbinary\t4 bytes\n`},
		{"chat.lua", nil, `^\[bob sees\] alice: hi bob\n\[alice sees\] bob: hi alice, how are you\?\n` +
			`\[bob sees\] alice: fine, thanks\. bye!\n\[alice sees\] bob: bye!\n$`},
		{"reconnect.lua", nil, `^attempt 1: connection lost \(ABNORMAL_CLOSURE\), retrying in 50 ms\n` +
			`attempt 2: connection lost \(ABNORMAL_CLOSURE\), retrying in 100 ms\n` +
			`attempt 3: connection lost \(ABNORMAL_CLOSURE\), retrying in 200 ms\n` +
			`attempt 4: connected, server said "hello"\n$`},
		{"select_timeout.lua", nil, `^first wait:\ttimed out\nsecond wait:\thello\n$`},
		// The drop in the middle and Ctrl-C: lua/examples_test.go.
		{"longlived.lua", []string{"", "3", "20"}, `^connected\nreceived\ttick 1\nreceived\ttick 2\nreceived\ttick 3\n` +
			`closed: 1000  \(started by the client\)\n$`},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			args := append([]string{"--serve", filepath.Join(examplesDir, tt.script)}, tt.args...)
			code, out, errOut := runCmd(t, args...)
			require.Equal(t, 0, code, "stderr: %s\nstdout: %s", errOut, out)
			require.Empty(t, errOut)
			require.Regexp(t, regexp.MustCompile(tt.want), out)
		})
	}
}

// TestEveryExampleIsTested keeps the table above complete.
func TestEveryExampleIsTested(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.lua"))
	require.NoError(t, err)
	require.ElementsMatch(t, []string{
		"chat.lua", "echo.lua", "longlived.lua", "reconnect.lua", "select_timeout.lua", "spec_close.lua",
		"spec_complete.lua", "spec_connect.lua", "spec_receive.lua", "spec_send.lua",
	}, func() []string {
		var names []string
		for _, f := range files {
			names = append(names, filepath.Base(f))
		}
		return names
	}())
}
