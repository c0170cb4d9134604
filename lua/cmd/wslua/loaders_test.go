package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The functions that compile Lua at run time report syntax errors as the
// script's are reported, "name:line: message" (siblings of issue 10, item
// 8); dofile'd code may block in the scheduler.
func TestLoadersSyntaxErrors(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"good.lua":   "local M = {}\nfunction M.answer() return 42 end\nreturn M\n",
		"bad.lua":    "local x = 1\nlocal y = = 2\n",
		"sleepy.lua": "time.sleep(1)\nreturn ...\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600))
	}
	bad := filepath.Join(dir, "bad.lua")
	code, out, errOut := runCmdIn(t, "return 'from stdin'", "-e", `
		package.path = "`+dir+`/?.lua"
		print(loadstring("x = = 1"))
		print(loadstring("if x then\n", "chunk"))
		print(loadstring("return 1 + 1")())
		print(loadfile("`+bad+`"))
		print(loadfile()())
		print(require("good").answer())
		print(pcall(require, "bad"))
		print(select(2, pcall(require, "missing")):match("no file '[^']*missing.lua'") ~= nil)
		print(pcall(dofile, "`+bad+`"))
		coroutine.spawn(function() print("dofile", dofile("`+filepath.Join(dir, "sleepy.lua")+`")) end)
	`)
	require.Equal(t, exitOK, code, errOut)
	want := strings.Join([]string{
		"nil\t<string>:1: syntax error near '='",
		"nil\tchunk:2: syntax error near '<eof>'",
		"2",
		"nil\t" + bad + ":2: syntax error near '='",
		"from stdin",
		"42",
		"false\t(command line):9: error loading module 'bad' from file '" + bad + "':\n\t" + bad + ":2: syntax error near '='",
		"true",
		"false\t" + bad + ":2: syntax error near '='",
		"dofile",
		"",
	}, "\n")
	require.Equal(t, want, out)
}
