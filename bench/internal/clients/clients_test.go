package clients_test

import (
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wslua/wslua/bench/internal/clients"
	"github.com/wslua/wslua/bench/internal/echo"
)

func TestMain(m *testing.M) {
	clients.FullCheck = true
	goleak.VerifyTestMain(m)
}

// impls returns the implementations to test: all, or those listed in
// WSBENCH_IMPLS (comma-separated).
func impls() []string {
	if v := os.Getenv("WSBENCH_IMPLS"); v != "" {
		return strings.Split(v, ",")
	}
	return echo.Impls
}

// TestEchoMatrix runs every client against every server it can talk to
// (every WebSocket client with every WebSocket server, TCP with TCP),
// comparing every echoed byte.
func TestEchoMatrix(t *testing.T) {
	servers := map[string]*echo.Server{}
	for _, impl := range impls() {
		s, err := echo.Start(impl, "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		servers[impl] = s
	}
	big := make([]byte, 1<<20)
	_, _ = rand.Read(big)
	text := []byte(strings.Repeat("héllo wörld ✓ ", 300))
	cases := []struct {
		name string
		text bool
		p    []byte
	}{
		{"text16", true, []byte("0123456789abcdef")},
		{"empty", false, nil},
		{"binary125", false, big[:125]},
		{"binary126", false, big[:126]},
		{"text-utf8", true, text},
		{"binary64K", false, big[:64<<10]},
		{"binary65537", false, big[:65537]},
		{"binary1M", false, big},
	}
	for _, ci := range impls() {
		for _, si := range impls() {
			if (ci == echo.TCP) != (si == echo.TCP) {
				continue
			}
			t.Run(fmt.Sprintf("client=%s/server=%s", ci, si), func(t *testing.T) {
				c, err := clients.Dial(ci, servers[si].URL(echo.EchoPath))
				require.NoError(t, err)
				defer c.Close()
				for _, tc := range cases {
					require.NoError(t, c.RoundTrips(3, tc.text, tc.p), tc.name)
				}
				s, err := clients.Dial(ci, servers[si].URL(echo.SinkPath))
				require.NoError(t, err)
				defer s.Close()
				require.NoError(t, s.Stream(2*echo.AckEvery, big[:64<<10]))
				require.Error(t, s.Stream(echo.AckEvery+1, big[:10]), "n not a multiple of AckEvery")
			})
		}
	}
}

// TestStreamDetectsBadAck points Stream at an echo server: the first
// "ack" it reads is the echo of its own message, which must be refused.
func TestStreamDetectsBadAck(t *testing.T) {
	for _, impl := range impls() {
		t.Run(impl, func(t *testing.T) {
			s, err := echo.Start(impl, "127.0.0.1:0")
			require.NoError(t, err)
			defer s.Close()
			c, err := clients.Dial(impl, s.URL(echo.EchoPath))
			require.NoError(t, err)
			defer c.Close()
			require.Error(t, c.Stream(echo.AckEvery, []byte("not an ack")))
		})
	}
}
