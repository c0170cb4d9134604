//go:build linux

package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/testserver"
)

// On a terminal, lines typed are sent, messages print after "< " (binary as
// a preview, control characters escaped), and Ctrl-D closes with 1000.
func TestConnectTerminalSession(t *testing.T) {
	srv := testserver.New(nil)
	defer srv.Close()
	url := srv.URL() + "/send?binary=%00%01hi&text=%1b[31mred"
	term := startInTerminal(t, wslua(t, "connect", "--show-ping", url))
	term.waitFor(t, "connected to "+srv.URL()+"/send; Ctrl-D closes (1000), Ctrl-C closes (1001)\n")
	term.waitFor(t, "< binary 4 bytes: 00 01 68 69 \"\\x00\\x01hi\"\n")
	term.waitFor(t, "< \\x1b[31mred\n")
	term.typeIn(t, "hello there\n")
	term.waitFor(t, "hello there\n< hello there\n") // the terminal's echo, then the server's
	term.typeIn(t, "\x04")
	term.waitFor(t, "closed by us with 1000 (normal closure); the server replied 1000 (normal closure)\n")
	require.Equal(t, exitOK, waitExit(t, term.cmd, 20*time.Second))
}

// A close started by the server is printed with its code, reason and who
// started it; a code other than 1000 gives status 1.
func TestConnectTerminalServerCloses(t *testing.T) {
	srv := testserver.New(nil)
	defer srv.Close()
	term := startInTerminal(t, wslua(t, "connect", srv.URL()+"/close?code=4000&reason=bye"))
	term.waitFor(t, "closed by the server with 4000 \"bye\"\n")
	require.Equal(t, exitFailure, waitExit(t, term.cmd, 20*time.Second))
}

// Ctrl-C closes with 1001 and says what it waits for; when the server does
// not answer, a second Ctrl-C quits at once with 130.
func TestConnectTerminalCtrlC(t *testing.T) {
	srv := testserver.New(nil)
	defer srv.Close()

	// The server answers: one Ctrl-C ends the session.
	term := startInTerminal(t, wslua(t, "connect", srv.URL()+"/"))
	term.waitFor(t, "Ctrl-C closes (1001)\n")
	term.typeIn(t, "\x03")
	term.waitFor(t, "closed by us with 1001 (going away); the server replied 1001 (going away)\n")
	require.Equal(t, exitInterrupted, waitExit(t, term.cmd, 20*time.Second))

	// The server never answers the close: the second Ctrl-C quits.
	term = startInTerminal(t, wslua(t, "connect", "--close-timeout", "1m", srv.URL()+"/noclose"))
	term.waitFor(t, "Ctrl-C closes (1001)\n")
	term.typeIn(t, "\x03")
	term.waitFor(t, "closing with 1001 (waiting up to 1m0s for the server's close reply); Ctrl-C again to quit\n")
	start := time.Now()
	term.typeIn(t, "\x03")
	require.Equal(t, exitInterrupted, waitExit(t, term.cmd, 10*time.Second))
	require.Less(t, time.Since(start), 10*time.Second)
	term.waitFor(t, "wslua: interrupted again: quitting\n")
}

// wslua serve at a terminal: Ctrl-C stops it with status 0.
func TestServeTerminalCtrlC(t *testing.T) {
	term := startInTerminal(t, wslua(t, "serve"))
	term.waitFor(t, "(Ctrl-C stops)\n")
	term.waitFor(t, "  /raw ")
	term.typeIn(t, "\x03")
	term.waitFor(t, "wslua serve: stopped\n")
	require.Equal(t, exitOK, waitExit(t, term.cmd, 20*time.Second))
}
