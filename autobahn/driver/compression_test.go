package driver

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/autobahn/internal/fakeserver"
)

// The driver offers permessage-deflate unless told not to: without it the
// fuzzingserver's sections 12 and 13 silently turn UNIMPLEMENTED.
func TestRunOffersCompression(t *testing.T) {
	for _, tc := range []struct {
		name       string
		off        bool
		compressed bool
	}{
		{"default", false, true},
		{"NoCompression", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFake(t, []fakeserver.Case{fakeserver.CompressionCase()})
			results, _, err := runCollect(t, Config{URL: s.URL(), NoCompression: tc.off})
			require.NoError(t, err)
			require.Len(t, results, 1)
			require.NoError(t, results[0].Err)
			require.Equal(t, 2, results[0].Messages)
			s.Close()
			server := s.Results()
			require.Len(t, server, 1)
			require.NoError(t, server[0].Err, "the echo")
			require.Equal(t, tc.compressed, server[0].Compressed, "permessage-deflate agreed")
		})
	}
}
