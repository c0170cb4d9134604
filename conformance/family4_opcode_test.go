package conformance

// Family 4: opcodes (RFC 6455, section 5.2: 0x3-0x7 and 0xB-0xF are
// reserved; an endpoint receiving one must fail the connection).

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// reservedOpcodes are the opcodes RFC 6455 reserves.
var reservedOpcodes = []framing.Opcode{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}

func TestServerReservedOpcodes(t *testing.T) {
	var cases []srvCase
	for _, op := range reservedOpcodes {
		f := wf{fin: true, op: op, payload: []byte("reserved")}
		empty := wf{fin: true, op: op}
		cases = append(cases,
			srvCase{name: fmt.Sprintf("opcode %#x", op), steps: []step{send(f), wantClose(1002)}},
			srvCase{name: fmt.Sprintf("opcode %#x empty", op), steps: []step{send(empty), wantClose(1002)}},
			srvCase{name: fmt.Sprintf("opcode %#x after a valid message", op),
				steps: []step{send(txt("ok"), f), wantText("ok"), wantClose(1002)}},
			srvCase{name: fmt.Sprintf("opcode %#x then a ping", op),
				steps: []step{send(f, ping("p")), wantClose(1002)}},
			srvCase{name: fmt.Sprintf("opcode %#x inside a fragmented message", op),
				steps: []step{send(first(framing.OpText, "a"), notFin(f), cont("b", true)), wantClose(1002)}},
		)
	}
	runServerCases(t, cases)
}

func TestClientReservedOpcodes(t *testing.T) {
	var cases []cliCase
	for _, op := range reservedOpcodes {
		q := "/opcode?op=" + strconv.Itoa(int(op))
		cases = append(cases,
			cliCase{name: fmt.Sprintf("opcode %#x", op), target: q,
				code: protocol.StatusProtocolError, sent: protocol.StatusProtocolError, cause: framing.ErrProtocol},
			cliCase{name: fmt.Sprintf("opcode %#x after a valid message", op), target: q + "&after=1",
				read: []msg{textMsg("hello")},
				code: protocol.StatusProtocolError, sent: protocol.StatusProtocolError, cause: framing.ErrProtocol},
		)
	}
	runClientCases(t, cases)
}
