package framing_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

func TestCheck(t *testing.T) {
	type tc struct {
		name       string
		h          framing.Header
		allowedRsv byte
		wantMasked bool
		reason     string // substring of the ProtocolError reason; "" = accepted
	}
	key := [4]byte{1, 2, 3, 4}
	// fromClient is a valid frame as a server receives it; fromServer as a
	// client receives it.
	fromClient := func(fin bool, op framing.Opcode, n int64) framing.Header {
		return framing.Header{Fin: fin, Opcode: op, Masked: true, Mask: key, Length: n}
	}
	fromServer := func(fin bool, op framing.Opcode, n int64) framing.Header {
		return framing.Header{Fin: fin, Opcode: op, Length: n}
	}
	var tests []tc

	// Every opcode: the reserved ones are refused, the others accepted.
	for _, op := range allOpcodes() {
		reason := ""
		if op.IsReserved() {
			reason = "reserved opcode"
		}
		tests = append(tests,
			tc{fmt.Sprintf("opcode %#x to server", byte(op)), fromClient(true, op, 0), 0, true, reason},
			tc{fmt.Sprintf("opcode %#x to client", byte(op)), fromServer(true, op, 0), 0, false, reason})
	}
	for _, op := range []framing.Opcode{0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		tests = append(tests, tc{fmt.Sprintf("reserved opcode %#x even with all rsv allowed", byte(op)),
			fromServer(true, op, 0), framing.Rsv1 | framing.Rsv2 | framing.Rsv3, false, "reserved opcode"})
	}

	// Reserved bits: refused unless an extension allows them.
	for _, rsv := range []byte{framing.Rsv1, framing.Rsv2, framing.Rsv3} {
		h := fromServer(true, framing.OpText, 10)
		h.Rsv = rsv
		tests = append(tests,
			tc{fmt.Sprintf("rsv %#x not allowed", rsv), h, 0, false, "reserved bits"},
			tc{fmt.Sprintf("rsv %#x allowed", rsv), h, rsv, false, ""},
			tc{fmt.Sprintf("rsv %#x with all allowed", rsv), h, framing.Rsv1 | framing.Rsv2 | framing.Rsv3, false, ""})
		for _, other := range []byte{framing.Rsv1, framing.Rsv2, framing.Rsv3} {
			if other != rsv {
				tests = append(tests, tc{fmt.Sprintf("rsv %#x with only %#x allowed", rsv, other), h, other, false, "reserved bits"})
			}
		}
	}
	{
		h := fromClient(true, framing.OpBinary, 10)
		h.Rsv = framing.Rsv1 | framing.Rsv3
		tests = append(tests,
			tc{"rsv1|rsv3 with rsv1 allowed", h, framing.Rsv1, true, "reserved bits"},
			tc{"rsv1|rsv3 with both allowed", h, framing.Rsv1 | framing.Rsv3, true, ""})
	}

	// Control frames: at most 125 bytes and never fragmented.
	for _, op := range []framing.Opcode{framing.OpClose, framing.OpPing, framing.OpPong} {
		tests = append(tests,
			tc{fmt.Sprintf("%v 0 bytes", op), fromServer(true, op, 0), 0, false, ""},
			tc{fmt.Sprintf("%v 125 bytes", op), fromServer(true, op, 125), 0, false, ""},
			tc{fmt.Sprintf("%v 126 bytes", op), fromServer(true, op, 126), 0, false, "longer than 125"},
			tc{fmt.Sprintf("%v 65536 bytes", op), fromClient(true, op, 65536), 0, true, "longer than 125"},
			tc{fmt.Sprintf("%v 1<<62 bytes", op), fromClient(true, op, 1<<62), 0, true, "longer than 125"},
			tc{fmt.Sprintf("%v fragmented", op), fromServer(false, op, 5), 0, false, "fragmented control"},
			tc{fmt.Sprintf("%v fragmented to server", op), fromClient(false, op, 0), 0, true, "fragmented control"})
	}
	// Data frames may be long and fragmented.
	for _, op := range []framing.Opcode{framing.OpContinuation, framing.OpText, framing.OpBinary} {
		tests = append(tests,
			tc{fmt.Sprintf("%v 126 bytes", op), fromServer(true, op, 126), 0, false, ""},
			tc{fmt.Sprintf("%v 1<<62 bytes", op), fromClient(true, op, 1<<62), 0, true, ""},
			tc{fmt.Sprintf("%v not final", op), fromServer(false, op, 70000), 0, false, ""},
			tc{fmt.Sprintf("%v not final to server", op), fromClient(false, op, 1), 0, true, ""})
	}

	// Masking as the receiving side requires.
	for _, op := range []framing.Opcode{framing.OpText, framing.OpBinary, framing.OpContinuation, framing.OpClose, framing.OpPing, framing.OpPong} {
		tests = append(tests,
			tc{fmt.Sprintf("masked %v to client", op), fromClient(true, op, 3), 0, false, "masked frame from server"},
			tc{fmt.Sprintf("unmasked %v to server", op), fromServer(true, op, 3), 0, true, "unmasked frame from client"},
			tc{fmt.Sprintf("masked %v to server", op), fromClient(true, op, 3), 0, true, ""},
			tc{fmt.Sprintf("unmasked %v to client", op), fromServer(true, op, 3), 0, false, ""})
	}
	{
		h := fromClient(true, framing.OpText, 3)
		h.Mask = [4]byte{} // an all-zero key still marks the frame masked
		tests = append(tests, tc{"zero key to server", h, 0, true, ""}, tc{"zero key to client", h, 0, false, "masked frame from server"})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			err := h.Check(tt.allowedRsv, tt.wantMasked)
			require.Equal(t, tt.h, h, "Check must not modify the header")
			if tt.reason == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, framing.ErrProtocol)
			var pe *framing.ProtocolError
			require.ErrorAs(t, err, &pe)
			require.Contains(t, pe.Reason, tt.reason)
		})
	}
}

func TestCheckZeroAllocs(t *testing.T) {
	good := framing.Header{Fin: true, Opcode: framing.OpText, Length: 3}
	bad := framing.Header{Opcode: framing.OpPing, Length: 300}
	var errGood, errBad error
	allocs := testing.AllocsPerRun(100, func() {
		errGood = good.Check(0, false)
		errBad = bad.Check(0, false)
	})
	require.NoError(t, errGood)
	require.ErrorIs(t, errBad, framing.ErrProtocol)
	require.Zero(t, allocs)
}
