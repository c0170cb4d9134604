//go:build wsbench_noours

package echo

import "net/http"

// oursHandler stands in for the wslua server when the bench is built with
// the wsbench_noours tag (while the main module does not compile).
func oursHandler(*Server) http.Handler { return http.NotFoundHandler() }

// OursBuilt reports whether the wslua implementation is compiled in.
const OursBuilt = false
