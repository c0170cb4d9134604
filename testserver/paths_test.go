package testserver

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// Paths lists exactly the paths the server dispatches on, each with a
// one-line summary.
func TestPaths(t *testing.T) {
	srv := New(nil)
	defer srv.Close()
	paths := Paths()
	require.Len(t, paths, len(routes))
	require.Equal(t, "/", paths[0].Path)
	for _, p := range paths {
		_, ok := routes[p.Path]
		require.True(t, ok, "%s is not routed", p.Path)
		require.NotEmpty(t, p.Summary, p.Path)
		require.NotContains(t, p.Summary, "\n", p.Path)
		// The server answers a plain GET of each with 400 (not an
		// upgrade), an unknown path with 404.
		resp, err := http.Get(srv.HTTPURL() + p.Path)
		require.NoError(t, err)
		resp.Body.Close()
		require.NotEqual(t, http.StatusNotFound, resp.StatusCode, p.Path)
	}
	resp, err := http.Get(srv.HTTPURL() + "/no-such-path")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
