package main

import (
	"regexp"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVersionFlag(t *testing.T) {
	for _, flag := range []string{"--version", "-v"} {
		code, out, errOut := runCmd(t, flag)
		require.Equal(t, exitOK, code, errOut)
		require.Regexp(t, regexp.MustCompile(`^wslua \S.* \(`+regexp.QuoteMeta(runtime.Version())+`\)\n$`), out)
	}
}

func TestModuleVersion(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"released", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v1.2.3"}, Settings: vcs}, "v1.2.3"},
		{"checkout", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}, Settings: vcs}, "(devel) 0123456789ab+dirty"},
		{"no VCS", debug.BuildInfo{Main: debug.Module{Path: modulePath}}, "(devel)"},
		{"dependency", debug.BuildInfo{Main: debug.Module{Path: "example.com/other"},
			Deps: []*debug.Module{{Path: modulePath, Version: "v0.4.0"}}}, "v0.4.0"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, moduleVersion(&tt.bi), tt.name)
	}
}

// --help lists the subcommands and the script flags.
func TestHelpListsSubcommands(t *testing.T) {
	code, out, _ := runCmd(t, "--help")
	require.Equal(t, exitOK, code)
	for _, want := range []string{"wslua connect [flags] URL", "wslua serve [flags]", "--version", "-e chunk", "--serve", "--cpuprofile"} {
		require.Contains(t, out, want)
	}
}
