package testserver

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// ?limit= lowers the read limit of /echo and never raises it above
// MaxMessageSize: a larger value is refused with 400, as a non-positive one.
func TestEchoLimitOnlyLowers(t *testing.T) {
	const max = 100
	s := newServer(t, &Options{MaxMessageSize: max})
	for _, tc := range []struct {
		limit  int64
		status int
	}{
		{1, http.StatusSwitchingProtocols},
		{max, http.StatusSwitchingProtocols},
		{max + 1, http.StatusBadRequest},
		{DefaultMaxMessageSize, http.StatusBadRequest},
		{1 << 62, http.StatusBadRequest},
	} {
		t.Run(strconv.FormatInt(tc.limit, 10), func(t *testing.T) {
			c := dialRaw(t, s, "/echo?limit="+strconv.FormatInt(tc.limit, 10))
			require.Equal(t, tc.status, c.resp.StatusCode)
		})
	}

	// At the ceiling: a message of MaxMessageSize is echoed, one byte more
	// fails with 1009.
	c := upgrade(t, s, "/echo?limit="+strconv.Itoa(max))
	c.send(true, framing.OpBinary, make([]byte, max))
	_, p := c.message()
	require.Len(t, p, max)
	c.send(true, framing.OpBinary, make([]byte, max+1))
	h, cp := c.frame()
	require.Equal(t, framing.OpClose, h.Opcode)
	require.Equal(t, []byte{0x03, 0xf1}, cp[:2], "1009 message too big")
}
