// Package xconnect, imported for its side effect, turns on HTTP/2 extended
// CONNECT (RFC 8441) in net/http's server and in golang.org/x/net/http2 for
// the whole process, so that handshake.Upgrade can accept WebSockets over
// HTTP/2:
//
//	import _ "github.com/wslua/wslua/handshake/xconnect"
//
// Go 1.26 ships the feature off: its HTTP/2 code enables it only when the
// GODEBUG environment variable holds http2xconnect=1 at the moment the
// package initializes. Neither a //go:debug directive nor a godebug line in
// go.mod can set it (the toolchain rejects the unknown setting), and setting
// the variable from main is too late. This package adds the setting to
// GODEBUG in its init function; it imports nothing but os, and Go
// initializes packages in import-path order among those whose imports are
// ready, so it always runs before net/http and golang.org/x/net/http2.
// Running the process with GODEBUG=http2xconnect=1 in its environment does
// the same without the import.
//
// The setting is process-wide: every net/http server in the process then
// advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, and browsers open their
// WebSockets to it over HTTP/2. Handlers that upgrade with a WebSocket
// library without RFC 8441 support refuse those requests, and the browser
// does not retry over HTTP/1.1; import this package only where every
// WebSocket handler uses handshake.Upgrade. Child processes inherit the
// variable.
package xconnect

import (
	"os"
	"strings"
)

// Setting is the GODEBUG entry that enables extended CONNECT.
const Setting = "http2xconnect=1"

func init() {
	v := os.Getenv("GODEBUG")
	if strings.Contains(v, Setting) {
		return
	}
	if v != "" {
		v += ","
	}
	_ = os.Setenv("GODEBUG", v+Setting)
}

// Enabled reports whether GODEBUG holds the setting. It says nothing about
// whether net/http saw it: that depends on the setting being present
// before net/http initialized, which importing this package guarantees.
func Enabled() bool { return strings.Contains(os.Getenv("GODEBUG"), Setting) }
