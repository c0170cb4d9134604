package handshake

import (
	"testing"

	"go.uber.org/goleak"

	// Extended CONNECT for the HTTP/2 tests' servers (RFC 8441).
	_ "github.com/wslua/wslua/handshake/xconnect"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
