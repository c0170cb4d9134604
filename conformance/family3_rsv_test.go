package conformance

// Family 3: reserved bits (RFC 6455, section 5.2: RSV1-3 must be 0 unless an
// extension defining them was negotiated; none is).

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// rsvCombos are every non-empty combination of the reserved bits, with the
// query of the testserver's /rsv script that sets them.
var rsvCombos = []struct {
	bits  byte
	query string
}{
	{framing.Rsv1, "bit=1"},
	{framing.Rsv2, "bit=2"},
	{framing.Rsv3, "bit=3"},
	{framing.Rsv1 | framing.Rsv2, "bit=1&bit=2"},
	{framing.Rsv1 | framing.Rsv3, "bit=1&bit=3"},
	{framing.Rsv2 | framing.Rsv3, "bit=2&bit=3"},
	{framing.Rsv1 | framing.Rsv2 | framing.Rsv3, "bit=1&bit=2&bit=3"},
}

func TestServerReservedBits(t *testing.T) {
	frames := []struct {
		name string
		f    wf
	}{
		{"text", txt("hello")},
		{"binary", bin([]byte{1, 2, 3})},
		{"ping", ping("p")},
		{"pong", pong("p")},
		{"close", closeF(closeBody(1000, ""))},
	}
	var cases []srvCase
	for _, rc := range rsvCombos {
		for _, fr := range frames {
			cases = append(cases, srvCase{
				name:  fmt.Sprintf("rsv %#x on %s", rc.bits, fr.name),
				steps: []step{send(withRsv(rc.bits, fr.f)), wantClose(1002)},
			})
		}
		cases = append(cases,
			srvCase{name: fmt.Sprintf("rsv %#x after a valid message", rc.bits),
				steps: []step{send(txt("ok"), withRsv(rc.bits, txt("bad"))), wantText("ok"), wantClose(1002)}},
			srvCase{name: fmt.Sprintf("rsv %#x then a ping", rc.bits),
				steps: []step{send(withRsv(rc.bits, txt("bad")), ping("p")), wantClose(1002)}},
			srvCase{name: fmt.Sprintf("rsv %#x on a continuation", rc.bits),
				steps: []step{send(first(framing.OpText, "a"), withRsv(rc.bits, cont("b", true))), wantClose(1002)}},
		)
	}
	runServerCases(t, cases)
}

func TestClientReservedBits(t *testing.T) {
	ops := []struct {
		name string
		op   framing.Opcode
	}{{"text", framing.OpText}, {"binary", framing.OpBinary}, {"ping", framing.OpPing}, {"pong", framing.OpPong}}
	var cases []cliCase
	for _, rc := range rsvCombos {
		for _, o := range ops {
			cases = append(cases, cliCase{
				name:   fmt.Sprintf("rsv %#x on %s", rc.bits, o.name),
				target: "/rsv?" + rc.query + "&op=" + strconv.Itoa(int(o.op)),
				code:   protocol.StatusProtocolError, sent: protocol.StatusProtocolError, cause: framing.ErrProtocol,
			})
		}
	}
	runClientCases(t, cases)
}
