package autobahn

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/autobahn/internal/fakeserver"
)

// client.lua offers permessage-deflate: without it the fuzzingserver's
// sections 12 and 13 silently turn UNIMPLEMENTED.
func TestLuaDriverOffersCompression(t *testing.T) {
	s := newFake(t, []fakeserver.Case{fakeserver.CompressionCase()})
	r := runLua(t, s.URL(), "lua compression")
	require.Equal(t, 0, r.status, "stderr:\n%s", r.stderr)
	s.Close()
	server := s.Results()
	require.Len(t, server, 1)
	require.NoError(t, server[0].Err, "the echo")
	require.True(t, server[0].Compressed, "permessage-deflate agreed")
}
