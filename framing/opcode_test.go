package framing_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

func TestOpcode(t *testing.T) {
	tests := []struct {
		op       framing.Opcode
		name     string
		control  bool
		reserved bool
	}{
		{framing.OpContinuation, "continuation", false, false},
		{framing.OpText, "text", false, false},
		{framing.OpBinary, "binary", false, false},
		{0x3, "reserved(0x3)", false, true},
		{0x4, "reserved(0x4)", false, true},
		{0x5, "reserved(0x5)", false, true},
		{0x6, "reserved(0x6)", false, true},
		{0x7, "reserved(0x7)", false, true},
		{framing.OpClose, "close", true, false},
		{framing.OpPing, "ping", true, false},
		{framing.OpPong, "pong", true, false},
		{0xB, "reserved(0xb)", true, true},
		{0xC, "reserved(0xc)", true, true},
		{0xD, "reserved(0xd)", true, true},
		{0xE, "reserved(0xe)", true, true},
		{0xF, "reserved(0xf)", true, true},
		// Not 4-bit values at all: reserved, and named without truncation.
		{0x10, "reserved(0x10)", false, true},
		{0x13, "reserved(0x13)", false, true},
		{0x81, "reserved(0x81)", false, true},
		{0xFF, "reserved(0xff)", false, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%#x", byte(tt.op)), func(t *testing.T) {
			require.Equal(t, tt.name, tt.op.String())
			require.Equal(t, tt.name, fmt.Sprint(tt.op), "fmt uses String")
			require.Equal(t, tt.reserved, tt.op.IsReserved())
			if tt.op <= 0xF {
				require.Equal(t, tt.control, tt.op.IsControl())
			}
		})
	}
	// Every distinct value has a distinct name.
	seen := map[string]framing.Opcode{}
	for i := range 256 {
		op := framing.Opcode(i)
		prev, dup := seen[op.String()]
		require.False(t, dup, "%#x and %#x are both named %q", byte(prev), i, op.String())
		seen[op.String()] = op
	}
}
