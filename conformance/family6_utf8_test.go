package conformance

// Family 6: UTF-8 handling (RFC 6455, section 8.1: text must be valid UTF-8
// as a whole message; on invalid data the endpoint fails the connection
// with 1007, section 7.4.1). Fragment boundaries may split a character.
// Validation must fail fast: 1007 as soon as the invalid byte arrives, not
// when the message completes.

import (
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

func TestServerUTF8Valid(t *testing.T) {
	var cases []srvCase
	for _, tc := range validUTF8 {
		steps := []step{send(txt(tc.b)), wantText(tc.b)}
		// Split in two fragments at every byte position.
		for k := 0; k <= len(tc.b); k++ {
			steps = append(steps, send(first(framing.OpText, tc.b[:k]), cont(tc.b[k:], true)), wantText(tc.b))
		}
		// One byte per fragment.
		steps = append(steps, send(fragments(framing.OpText, tc.b, max(1, len(tc.b)))...), wantText(tc.b))
		// One frame, delivered one byte per TCP write.
		steps = append(steps, sendChunked(1, txt(tc.b)), wantText(tc.b))
		cases = append(cases, srvCase{name: tc.name, steps: steps})
	}
	// The validator's state survives control frames between fragments.
	cases = append(cases,
		srvCase{name: "character split around a ping", steps: []step{
			send(first(framing.OpText, "a\xf0\x90"), ping("p"), cont("\x80\x80z", true)), wantPong("p"), wantText("a\xf0\x90\x80\x80z")}},
		srvCase{name: "invalid continuation after a ping", steps: []step{
			send(first(framing.OpText, "a\xf0\x90"), ping("p"), cont("z", true)), wantPong("p"), wantClose(1007)}},
	)
	runServerCases(t, cases)
}

func TestServerUTF8Invalid(t *testing.T) {
	var cases []srvCase
	for _, tc := range invalidUTF8 {
		cases = append(cases, srvCase{name: tc.name + ", one frame", steps: []step{send(txt(tc.b)), wantClose(1007)}})
		for k := 0; k <= len(tc.b); k++ {
			cases = append(cases, srvCase{
				name:  fmt.Sprintf("%s, split at %d", tc.name, k),
				steps: []step{send(first(framing.OpText, tc.b[:k]), cont(tc.b[k:], true)), wantClose(1007)},
			})
		}
		cases = append(cases, srvCase{name: tc.name + ", after a valid message",
			steps: []step{send(txt("ok"), txt(tc.b)), wantText("ok"), wantClose(1007)}})
		bad := utf8FirstBad([]byte(tc.b))
		if bad < 0 {
			continue // truncated: only the end of the message makes it invalid
		}
		// Fail fast, fragment level: only a first, non-final fragment
		// ending with the first invalid byte is ever sent.
		cases = append(cases, srvCase{name: tc.name + ", fail fast on the first fragment",
			steps: []step{send(first(framing.OpText, tc.b[:bad+1])), wantClose(1007)}})
		// Fail fast, byte level: a frame announcing more payload than is
		// sent; the bytes sent end with the first invalid one.
		cases = append(cases, srvCase{name: tc.name + ", fail fast inside a frame",
			steps: []step{partialFrame(framing.OpText, tc.b+"0123456789", bad+1), wantClose(1007)}})
	}
	runServerCases(t, cases)
}

// partialFrame sends the header of a final frame carrying payload, but only
// the first n payload bytes.
func partialFrame(op framing.Opcode, payload string, n int) step {
	return func(t *testing.T, c *rawConn) {
		t.Helper()
		b := c.encode(true, 0, op, []byte(payload))
		c.mustWrite(b[:len(b)-len(payload)+n])
	}
}

func TestClientUTF8(t *testing.T) {
	var cases []cliCase
	for _, tc := range validUTF8 {
		cases = append(cases,
			cliCase{name: tc.name + ", one frame", target: rawHex(txt(tc.b)), read: []msg{textMsg(tc.b)}},
			cliCase{name: tc.name + ", one byte per fragment",
				target: rawHex(fragments(framing.OpText, tc.b, max(1, len(tc.b)))...), read: []msg{textMsg(tc.b)}},
		)
		for k := 1; k < len(tc.b); k++ {
			cases = append(cases, cliCase{name: fmt.Sprintf("%s, split at %d", tc.name, k),
				target: rawHex(first(framing.OpText, tc.b[:k]), cont(tc.b[k:], true)), read: []msg{textMsg(tc.b)}})
		}
	}
	c1007 := func(name, target string) cliCase {
		return cliCase{name: name, target: target, code: protocol.StatusInvalidFramePayloadData,
			sent: protocol.StatusInvalidFramePayloadData, cause: protocol.ErrInvalidUTF8}
	}
	cases = append(cases,
		cliCase{name: "character split around a ping", target: rawHex(first(framing.OpText, "a\xf0\x90"), ping("p"), cont("\x80\x80z", true)),
			read: []msg{textMsg("a\xf0\x90\x80\x80z")}},
		c1007("invalid continuation after a ping", rawHex(first(framing.OpText, "a\xf0\x90"), ping("p"), cont("z", true))),
	)
	cases = append(cases, c1007("badutf8 script", "/badutf8"), c1007("badutf8 script, first fragment only", "/badutf8?frag=1"))
	for _, tc := range invalidUTF8 {
		cases = append(cases, c1007(tc.name+", one frame", rawHex(txt(tc.b))))
		for k := 1; k < len(tc.b); k++ {
			cases = append(cases, c1007(fmt.Sprintf("%s, split at %d", tc.name, k),
				rawHex(first(framing.OpText, tc.b[:k]), cont(tc.b[k:], true))))
		}
		if bad := utf8FirstBad([]byte(tc.b)); bad >= 0 {
			// The server never sends the rest: only a client that fails
			// fast returns.
			cases = append(cases, c1007(tc.name+", fail fast on the first fragment",
				"/badutf8?frag=1&hex="+hex.EncodeToString([]byte(tc.b[:bad+1]))))
			cases = append(cases, c1007(tc.name+", fail fast inside a frame",
				"/raw?hex="+hex.EncodeToString(partialUnmasked(tc.b+"0123456789", bad+1))))
		}
	}
	runClientCases(t, cases)
}

// partialUnmasked returns a final text frame header announcing payload,
// followed by only its first n bytes.
func partialUnmasked(payload string, n int) []byte {
	b := framing.AppendFrame(nil, framing.Header{Fin: true, Opcode: framing.OpText}, []byte(payload))
	return b[:len(b)-len(payload)+n]
}
