package main

import (
	"runtime"
	"runtime/debug"
)

// modulePath is the main module, whose version wslua reports.
const modulePath = "github.com/wslua/wslua"

// versionLine returns "wslua VERSION (go1.x.y)": the module version from the
// build information ("(devel)" in a build from a checkout, with the VCS
// revision when known), and the Go version wslua was built with.
func versionLine() string {
	v := "(unknown)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = moduleVersion(bi)
	}
	return "wslua " + v + " (" + runtime.Version() + ")"
}

// moduleVersion returns the version of the main module in bi, followed by
// the VCS revision and a "+dirty" mark when the build recorded them.
func moduleVersion(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if bi.Main.Path != modulePath {
		// Tests and "go run" of another module: find this module among
		// the dependencies.
		v = ""
		for _, d := range bi.Deps {
			if d.Path == modulePath {
				v = d.Version
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" && v == "(devel)" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev + dirty
	}
	return v
}
