package interop

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	coder "github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/protocol"
	"github.com/wslua/wslua/testserver"
)

// Compression interop (permessage-deflate, RFC 7692): our client against
// Node ws, gorilla, coder and Python websockets servers with compression
// on, and Node ws, gorilla and coder clients against our testserver, for
// combinations of every negotiated parameter (context takeover of either
// side, both window sizes, including 8, 9, 15 and the bare
// client_max_window_bits offer) and of the local ones (level, threshold).
//
// Every connection sends the same sequence of messages (pmdSequence) one
// at a time and checks each echo byte for byte. A frame tap on the wire
// (tap_test.go) checks, message by message, that RSV1 is set exactly when
// the sender should compress (our threshold, the peer's), and the last
// two messages, one random block of 16 KiB sent twice, show context
// takeover: with a 32 KiB window and takeover allowed, the second copy
// compresses to almost nothing; without either, it cannot. The agreed
// parameters are checked on both sides: Conn.Compression() for our
// client, the parameters Node ws reports for its client, the
// Sec-WebSocket-Extensions response seen on the wire for the others.

// Payload kinds: compressible (text, binary) and not (the random ones);
// repeat sends the previous payload again.
const (
	kindText         = "text"
	kindTextRandom   = "text-random"
	kindBinary       = "binary"
	kindBinaryRandom = "binary-random"
	kindRepeat       = "repeat"
)

// repeatSize is the size of the random block sent twice at the end of
// every sequence.
const repeatSize = 16 << 10

// pmdMessage is one message of a sequence (also the JSON the Node client
// reads).
type pmdMessage struct {
	Kind string `json:"kind"`
	Size int    `json:"size"`
}

// pmdSequence returns the messages a compression test sends: text and
// binary, compressible and random, of 0, 1, 125, 126 and 64 KiB bytes,
// with a random block of 200 bytes sent twice in between (a back
// reference into the previous message that even a 256-byte window
// reaches); if big, compressible text and random binary of 1 MiB (only
// some cases send them: the race detector makes compress/flate slow);
// then the repeated random block.
func pmdSequence(big bool) []pmdMessage {
	var seq []pmdMessage
	for _, n := range []int{0, 1, 125, 126, 64 << 10} {
		for _, k := range []string{kindText, kindTextRandom, kindBinary, kindBinaryRandom} {
			seq = append(seq, pmdMessage{k, n})
		}
		if n == 126 {
			seq = append(seq, pmdMessage{kindBinaryRandom, 200}, pmdMessage{kindRepeat, 200})
		}
	}
	if big {
		seq = append(seq, pmdMessage{kindText, 1 << 20}, pmdMessage{kindBinaryRandom, 1 << 20})
	}
	return append(seq, pmdMessage{kindBinaryRandom, repeatSize}, pmdMessage{kindRepeat, repeatSize})
}

// randomText returns exactly n bytes of UTF-8 made of random code points
// of every encoded length: no repeated strings for LZ77 to find.
func randomText(n, seed int) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(seed)+1))
	b := make([]byte, 0, n)
	for len(b) < n {
		var r rune
		switch rng.IntN(4) {
		case 0:
			r = 0x20 + rng.Int32N(0x5f)
		case 1:
			r = 0x80 + rng.Int32N(0x780)
		case 2:
			r = 0x800 + rng.Int32N(0xd000) // below the surrogates
		default:
			r = 0x10000 + rng.Int32N(0x100000)
		}
		if len(b)+utf8.RuneLen(r) > n {
			r = 'x'
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

// compressibleBinary returns n bytes of low-entropy binary data.
func compressibleBinary(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i/64+seed) & 0x0f
		if i%97 == 0 {
			b[i] = 0xff
		}
	}
	return b
}

// pmdPayloads returns the type and payload of every message of seq.
func pmdPayloads(seq []pmdMessage) ([]protocol.MessageType, [][]byte) {
	types := make([]protocol.MessageType, len(seq))
	payloads := make([][]byte, len(seq))
	for i, m := range seq {
		switch m.Kind {
		case kindText:
			types[i], payloads[i] = protocol.MessageText, textPayload(m.Size, i)
		case kindTextRandom:
			types[i], payloads[i] = protocol.MessageText, randomText(m.Size, i)
		case kindBinary:
			types[i], payloads[i] = protocol.MessageBinary, compressibleBinary(m.Size, i)
		case kindBinaryRandom:
			types[i], payloads[i] = protocol.MessageBinary, binaryPayload(m.Size, i)
		case kindRepeat:
			types[i], payloads[i] = types[i-1], payloads[i-1]
		default:
			panic("unknown payload kind " + m.Kind)
		}
	}
	return types, payloads
}

// pmdSender is how one endpoint compresses the messages it sends, once
// permessage-deflate is agreed.
type pmdSender struct {
	// threshold: messages of at least this many bytes are compressed
	// (RSV1), shorter ones are not.
	threshold int
	// repeat: how much the second copy of the repeated random block
	// refers to the first.
	repeat repeatUse
}

// repeatUse tells how a sender compresses the second copy of the repeated
// random block, which only back references to the first copy can shrink.
type repeatUse int

const (
	// repeatNone: no context takeover, or a window too small to reach
	// the first copy: it does not shrink (random data).
	repeatNone repeatUse = iota
	// repeatSome: context takeover with compress/flate's BestSpeed, whose
	// fast encoder finds only some of the matches in the previous message
	// (from 10% to a third of the block, as measured, depending on how
	// the message is written): the copy shrinks below its stored size.
	repeatSome
	// repeatMost: context takeover with a full matcher (zlib, flate level
	// 2 and up): the copy is almost entirely one run of back references.
	repeatMost
)

// ownParams returns the parameters binding the sender of one side of an
// agreement: its no_context_takeover and its window bits (0: 15).
func ownParams(a *protocol.CompressionOptions, client bool) (noTakeover bool, bits int) {
	if client {
		return a.ClientNoContextTakeover, a.ClientMaxWindowBits
	}
	return a.ServerNoContextTakeover, a.ServerMaxWindowBits
}

// oursSender is how our Conn sends, as documented in package protocol:
// messages from Threshold (default 128, negative: all) on; no context
// takeover when the agreement forbids it, with a window below 15 bits
// (independent chunks) or Huffman-only coding.
func oursSender(a *protocol.CompressionOptions, client bool) pmdSender {
	noTakeover, bits := ownParams(a, client)
	s := pmdSender{threshold: a.Threshold}
	switch {
	case s.threshold == 0:
		s.threshold = protocol.DefaultCompressionThreshold
	case s.threshold < 0:
		s.threshold = 0
	}
	switch {
	case noTakeover || (bits != 0 && bits != 15) || a.Level == flate.HuffmanOnly || repeatSize < s.threshold:
	case a.Level == 0 || a.Level == flate.BestSpeed:
		s.repeat = repeatSome
	default:
		s.repeat = repeatMost
	}
	return s
}

// nodeSender is how Node ws sends: with context takeover it compresses
// every message; without, those from its threshold (default 1024) on. It
// uses context takeover whenever allowed.
func nodeSender(a *protocol.CompressionOptions, client bool, opts map[string]any) pmdSender {
	noTakeover, bits := ownParams(a, client)
	s := pmdSender{}
	if !noTakeover && (bits == 0 || bits == 15) {
		s.repeat = repeatMost
	}
	if noTakeover {
		s.threshold = 1024
		if v, ok := opts["threshold"].(int); ok {
			s.threshold = v
		}
	}
	return s
}

// coderSender: coder compresses messages from 128 bytes on with context
// takeover, from 512 without (CompressionThreshold unset), at BestSpeed.
func coderSender(a *protocol.CompressionOptions, client bool) pmdSender {
	noTakeover, _ := ownParams(a, client)
	if noTakeover {
		return pmdSender{threshold: 512}
	}
	return pmdSender{threshold: 128, repeat: repeatSome}
}

// gorillaSender: gorilla compresses every message, never with context
// takeover. Python websockets (10.4) too: its server compresses with a
// 12-bit window, too small for the repeated block.
var gorillaSender, pythonSender = pmdSender{}, pmdSender{}

// checkPmdWire checks the messages a sender put on the wire for seq:
// RSV1 exactly on the ones it should compress (none if !agreed), and the
// compressed size of the repeated block.
func checkPmdWire(t *testing.T, what string, seq []pmdMessage, msgs []tapMessage, tapErr error, agreed bool, s pmdSender) {
	t.Helper()
	require.NoError(t, tapErr, "%s: decoding the frames on the wire", what)
	require.Len(t, msgs, len(seq), "%s: data messages on the wire", what)
	compressed := 0
	for i, m := range seq {
		want := agreed && m.Size >= s.threshold
		require.Equal(t, want, msgs[i].rsv1, "%s: RSV1 of message %d (%s, %d bytes; threshold %d)", what, i, m.Kind, m.Size, s.threshold)
		if msgs[i].rsv1 {
			compressed++
		}
	}
	if agreed {
		require.NotZero(t, compressed, "%s: no message was compressed", what)
	}
	last := msgs[len(msgs)-1]
	if !last.rsv1 {
		return
	}
	switch s.repeat {
	case repeatMost:
		require.Less(t, last.wire, int64(repeatSize/16), "%s: the repeated block should refer to its first copy (context takeover)", what)
	case repeatSome:
		require.Less(t, last.wire, int64(repeatSize), "%s: the repeated block should refer to its first copy in part (context takeover at BestSpeed)", what)
	default:
		require.Greater(t, last.wire, int64(repeatSize*95/100), "%s: the repeated block cannot refer to its first copy (no context takeover or a small window)", what)
	}
	t.Logf("%s: %d of %d messages compressed; repeated block: %d bytes on the wire", what, compressed, len(seq), last.wire)
}

// pmdRoundTrips sends every message of seq through c, checks its echo,
// and closes normally.
func pmdRoundTrips(t *testing.T, c clientConn, seq []pmdMessage) {
	t.Helper()
	types, payloads := pmdPayloads(seq)
	for i := range seq {
		what := fmt.Sprintf("echo %d (%s, %d bytes)", i, seq[i].Kind, seq[i].Size)
		require.NoError(t, c.write(testCtx(t), types[i], payloads[i]), what)
		readMessage(t, c, types[i], payloads[i], what)
	}
	closeNormally(t, c)
}

// pmdParams returns the agreed parameters as Node ws reports them (JSON:
// true for the flags, numbers for the window bits).
func pmdParams(a *protocol.CompressionOptions) map[string]any {
	if a == nil {
		return nil
	}
	m := map[string]any{}
	if a.ServerNoContextTakeover {
		m["server_no_context_takeover"] = true
	}
	if a.ClientNoContextTakeover {
		m["client_no_context_takeover"] = true
	}
	if a.ServerMaxWindowBits != 0 {
		m["server_max_window_bits"] = float64(a.ServerMaxWindowBits)
	}
	if a.ClientMaxWindowBits != 0 {
		m["client_max_window_bits"] = float64(a.ClientMaxWindowBits)
	}
	return m
}

// pmdName names a generated case after its parameters.
func pmdName(a protocol.CompressionOptions) string {
	name := strings.TrimPrefix(a.String(), "permessage-deflate")
	name = name[:strings.Index(name, " (")]
	name = strings.ReplaceAll(strings.TrimPrefix(name, "; "), "; ", "+")
	if name == "" {
		return "offer-default"
	}
	return name
}

// normExtensions normalizes a Sec-WebSocket-Extensions value with one
// element: lower case, no spaces, parameters sorted.
func normExtensions(v string) string {
	if v == "" {
		return ""
	}
	parts := strings.Split(strings.ToLower(strings.ReplaceAll(v, " ", "")), ";")
	sort.Strings(parts[1:])
	return strings.Join(parts, ";")
}

// withPolicy returns want with the local settings of policy (Level and
// Threshold are not negotiated: Conn.Compression reports them as given).
func withPolicy(want protocol.CompressionOptions, policy protocol.CompressionOptions) *protocol.CompressionOptions {
	want.Level, want.Threshold = policy.Level, policy.Threshold
	return &want
}

// windowPairs are the (server_max_window_bits, client_max_window_bits)
// offers of the generated matrices; 0 means no server_max_window_bits, and
// for the client parameter the bare offer (or none: see the tests).
var windowPairs = [][2]int{{0, 0}, {8, 8}, {9, 9}, {15, 15}, {10, 12}}

// ---- our client against Node ws, gorilla, coder, Python servers ----

// oursClientCase is one compression test of our client against a server.
type oursClientCase struct {
	name   string
	policy protocol.CompressionOptions // what our client offers
	// node: the server's perMessageDeflate options (Node ws only).
	node map[string]any
	// want: the agreement (Conn.Compression()); nil: the server declined
	// and the connection works without compression.
	want *protocol.CompressionOptions
	// dialFails: the handshake must fail (the server accepted an offer
	// without confirming what it had to confirm).
	dialFails string
	big       bool // send the 1 MiB messages too
}

// runOursClientCase dials url with the case's policy, checks the
// agreement, runs the sequence and checks the wire both ways.
func runOursClientCase(t *testing.T, tc oursClientCase, u string, server func(*protocol.CompressionOptions) pmdSender) {
	policy := tc.policy
	c, err := (oursClient{compression: &policy}).dial(testCtx(t), u, nil)
	if tc.dialFails != "" {
		require.Error(t, err, "the handshake should fail")
		require.Contains(t, err.Error(), tc.dialFails)
		return
	}
	require.NoError(t, err, "dial %s", u)
	t.Cleanup(c.abort)
	oc := c.(*oursConn)
	got := oc.c.Compression()
	require.Equal(t, tc.want, got, "Conn.Compression() (response %q)", oc.t.in.header("Sec-WebSocket-Extensions"))
	if tc.want != nil {
		t.Logf("agreed: %s", got)
	}
	seq := pmdSequence(tc.big)
	pmdRoundTrips(t, c, seq)

	agreed := tc.want != nil
	var ours, peer pmdSender
	if agreed {
		ours, peer = oursSender(tc.want, true), server(tc.want)
	}
	out, outErr := oc.t.out.messages()
	in, inErr := oc.t.in.messages()
	checkPmdWire(t, "our client's messages", seq, out, outErr, agreed, ours)
	checkPmdWire(t, "the server's echoes", seq, in, inErr, agreed, peer)
}

// nodeServerCases: a generated matrix (every context takeover pair times
// windowPairs, against a ws server accepting any offer, which echoes the
// offer), ws servers imposing or refusing parameters, and local settings.
func nodeServerCases() []oursClientCase {
	var cases []oursClientCase
	for _, nct := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		for _, w := range windowPairs {
			p := protocol.CompressionOptions{
				ServerNoContextTakeover: nct[0], ClientNoContextTakeover: nct[1],
				ServerMaxWindowBits: w[0], ClientMaxWindowBits: w[1],
			}
			cases = append(cases, oursClientCase{
				name: pmdName(p), policy: p, node: map[string]any{}, want: withPolicy(p, p),
				big: nct[0] == nct[1] && w == windowPairs[0],
			})
		}
	}
	type o = protocol.CompressionOptions
	cases = append(cases, []oursClientCase{
		{name: "ws-imposes-server_no_context_takeover", node: map[string]any{"serverNoContextTakeover": true},
			want: &o{ServerNoContextTakeover: true}},
		{name: "ws-imposes-server_no_context_takeover-threshold-200", node: map[string]any{"serverNoContextTakeover": true, "threshold": 200},
			want: &o{ServerNoContextTakeover: true}},
		{name: "ws-imposes-client_no_context_takeover", node: map[string]any{"clientNoContextTakeover": true},
			want: &o{ClientNoContextTakeover: true}},
		{name: "ws-imposes-server_max_window_bits=10", node: map[string]any{"serverMaxWindowBits": 10},
			want: &o{ServerMaxWindowBits: 10}},
		{name: "ws-narrows-server_max_window_bits-12-to-10", policy: o{ServerMaxWindowBits: 12}, node: map[string]any{"serverMaxWindowBits": 10},
			want: &o{ServerMaxWindowBits: 10}},
		{name: "ws-imposes-server_max_window_bits=8", node: map[string]any{"serverMaxWindowBits": 8},
			want: &o{ServerMaxWindowBits: 8}},
		{name: "ws-answers-bare-client_max_window_bits-with-9", node: map[string]any{"clientMaxWindowBits": 9},
			want: &o{ClientMaxWindowBits: 9}},
		{name: "ws-narrows-client_max_window_bits-12-to-9", policy: o{ClientMaxWindowBits: 12}, node: map[string]any{"clientMaxWindowBits": 9},
			want: &o{ClientMaxWindowBits: 9}},
		{name: "ws-answers-bare-client_max_window_bits-with-8", node: map[string]any{"clientMaxWindowBits": 8},
			want: &o{ClientMaxWindowBits: 8}},
		{name: "ws-imposes-everything-threshold-0", node: map[string]any{
			"serverNoContextTakeover": true, "clientNoContextTakeover": true, "serverMaxWindowBits": 8, "clientMaxWindowBits": 8, "threshold": 0},
			want: &o{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 8}, big: true},
		// Offers ws cannot accept: it refuses the handshake (400).
		{name: "ws-refuses-server_max_window_bits-9-below-its-12", policy: o{ServerMaxWindowBits: 9}, node: map[string]any{"serverMaxWindowBits": 12},
			dialFails: "400"},
		{name: "ws-refuses-client_max_window_bits-8-below-its-12", policy: o{ClientMaxWindowBits: 8}, node: map[string]any{"clientMaxWindowBits": 12},
			dialFails: "400"},
		{name: "ws-refuses-server_no_context_takeover", policy: o{ServerNoContextTakeover: true}, node: map[string]any{"serverNoContextTakeover": false},
			dialFails: "400"},
		// Local settings.
		{name: "level-huffman-only", policy: o{Level: flate.HuffmanOnly}, node: map[string]any{},
			want: &o{Level: flate.HuffmanOnly}},
		{name: "level-huffman-only-client_max_window_bits=8", policy: o{Level: flate.HuffmanOnly, ClientMaxWindowBits: 8}, node: map[string]any{},
			want: &o{Level: flate.HuffmanOnly, ClientMaxWindowBits: 8}},
		{name: "level-best-compression", policy: o{Level: flate.BestCompression}, node: map[string]any{},
			want: &o{Level: flate.BestCompression}},
		{name: "level-best-compression-client_max_window_bits=9", policy: o{Level: flate.BestCompression, ClientMaxWindowBits: 9}, node: map[string]any{},
			want: &o{Level: flate.BestCompression, ClientMaxWindowBits: 9}},
		{name: "level-default-threshold-all", policy: o{Level: flate.DefaultCompression, Threshold: -1}, node: map[string]any{},
			want: &o{Level: flate.DefaultCompression, Threshold: -1}},
		{name: "threshold-1MiB", policy: o{Threshold: 1 << 20}, node: map[string]any{},
			want: &o{Threshold: 1 << 20}, big: true},
	}...)
	for i := range cases {
		if cases[i].want != nil {
			cases[i].want = withPolicy(*cases[i].want, cases[i].policy)
		}
	}
	return cases
}

func TestCompressionOursClientNodeServer(t *testing.T) {
	tg := newNodeTarget(t)
	for _, tc := range nodeServerCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pmd, err := json.Marshal(tc.node)
			require.NoError(t, err)
			u := tg.url("/echo", url.Values{"id": {newSessionID()}, "pmd": {string(pmd)}})
			runOursClientCase(t, tc, u, func(a *protocol.CompressionOptions) pmdSender {
				return nodeSender(a, false, tc.node)
			})
		})
	}
}

func TestCompressionOursClientGoServers(t *testing.T) {
	type o = protocol.CompressionOptions
	both := o{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	servers := []struct {
		name   string
		start  func(t *testing.T) *target
		sender func(*protocol.CompressionOptions) pmdSender
		cases  []oursClientCase
	}{
		{"gorilla", newGorillaCompressionTarget, func(*protocol.CompressionOptions) pmdSender { return gorillaSender }, []oursClientCase{
			// gorilla answers any offer with both no_context_takeover.
			{name: "default", want: &both, big: true},
			{name: "no-context-takeover", policy: both, want: &both},
			{name: "client_max_window_bits=9-level-9", policy: o{ClientMaxWindowBits: 9, Level: 9},
				want: &o{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ClientMaxWindowBits: 9, Level: 9}},
			{name: "threshold-all", policy: o{Threshold: -1}, want: &o{ServerNoContextTakeover: true, ClientNoContextTakeover: true, Threshold: -1}},
			// gorilla accepts the offer without confirming the server window.
			{name: "server_max_window_bits=10-unconfirmed", policy: o{ServerMaxWindowBits: 10}, dialFails: "server_max_window_bits"},
		}},
		{"coder-context-takeover", newCoderCompressionTarget(coder.CompressionContextTakeover), func(a *protocol.CompressionOptions) pmdSender { return coderSender(a, false) }, []oursClientCase{
			{name: "default", want: &o{}, big: true},
			{name: "server_no_context_takeover", policy: o{ServerNoContextTakeover: true}, want: &o{ServerNoContextTakeover: true}},
			{name: "client_no_context_takeover", policy: o{ClientNoContextTakeover: true}, want: &o{ClientNoContextTakeover: true}},
			{name: "client_max_window_bits=8", policy: o{ClientMaxWindowBits: 8}, want: &o{ClientMaxWindowBits: 8}},
			{name: "client_max_window_bits=15-level-9", policy: o{ClientMaxWindowBits: 15, Level: 9}, want: &o{ClientMaxWindowBits: 15, Level: 9}},
			// coder declines windows other than 15 for itself...
			{name: "server_max_window_bits=10-declined", policy: o{ServerMaxWindowBits: 10}},
			// ...and accepts 15 without confirming it.
			{name: "server_max_window_bits=15-unconfirmed", policy: o{ServerMaxWindowBits: 15}, dialFails: "server_max_window_bits"},
		}},
		{"coder-no-context-takeover", newCoderCompressionTarget(coder.CompressionNoContextTakeover), func(a *protocol.CompressionOptions) pmdSender { return coderSender(a, false) }, []oursClientCase{
			{name: "default", want: &both, big: true},
			{name: "client_max_window_bits=9-level-9", policy: o{ClientMaxWindowBits: 9, Level: 9},
				want: &o{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ClientMaxWindowBits: 9, Level: 9}},
			{name: "huffman-only-threshold-all", policy: o{Level: flate.HuffmanOnly, Threshold: -1},
				want: &o{ServerNoContextTakeover: true, ClientNoContextTakeover: true, Level: flate.HuffmanOnly, Threshold: -1}},
		}},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			tg := srv.start(t)
			for _, tc := range srv.cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					runOursClientCase(t, tc, tg.echoURL(newSessionID()), srv.sender)
				})
			}
		})
	}
}

// TestCompressionOursClientPythonServer: websockets' server (10.4, its
// default permessage-deflate: server_max_window_bits=12 and
// client_max_window_bits=12 unless the offer asks for less).
func TestCompressionOursClientPythonServer(t *testing.T) {
	tg := newPythonTarget(t)
	type o = protocol.CompressionOptions
	cases := []oursClientCase{
		{name: "default", want: &o{ServerMaxWindowBits: 12, ClientMaxWindowBits: 12}, big: true},
		{name: "no-context-takeover", policy: o{ServerNoContextTakeover: true, ClientNoContextTakeover: true},
			want: &o{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 12, ClientMaxWindowBits: 12}},
		{name: "windows-9-and-8", policy: o{ServerMaxWindowBits: 9, ClientMaxWindowBits: 8},
			want: &o{ServerMaxWindowBits: 9, ClientMaxWindowBits: 8}},
		{name: "windows-15-level-9", policy: o{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15, Level: 9},
			want: &o{ServerMaxWindowBits: 12, ClientMaxWindowBits: 12, Level: 9}},
	}
	for i := range cases {
		cases[i].want = withPolicy(*cases[i].want, cases[i].policy)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runOursClientCase(t, tc, tg.echoURL(newSessionID()), func(*protocol.CompressionOptions) pmdSender { return pythonSender })
		})
	}
}

// newGorillaCompressionTarget is the gorilla contract server with
// EnableCompression.
func newGorillaCompressionTarget(t *testing.T) *target {
	return newGorillaTargetWith(t, true)
}

// newCoderCompressionTarget returns a starter of the coder contract server
// with the given CompressionMode.
func newCoderCompressionTarget(mode coder.CompressionMode) func(t *testing.T) *target {
	return func(t *testing.T) *target { return newCoderTargetWith(t, mode) }
}

// ---- peers' clients against our testserver ----

// tappedServer is our testserver (NewHandler) behind a listener that puts
// every accepted connection through a frameTap, found by the client's port:
// in is what the client sent, out what the server sent.
type tappedServer struct {
	base string
	mu   sync.Mutex
	taps map[int]*frameTap
}

type tapListener struct {
	net.Listener
	s *tappedServer
}

func (l tapListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &frameTap{Conn: nc}
	l.s.mu.Lock()
	l.s.taps[nc.RemoteAddr().(*net.TCPAddr).Port] = tc
	l.s.mu.Unlock()
	return tc, nil
}

func newTappedTestserver(t *testing.T, policy protocol.CompressionOptions) *tappedServer {
	h := testserver.NewHandler(&testserver.Options{Compression: &policy})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &tappedServer{taps: map[int]*frameTap{}}
	hs := httptest.NewUnstartedServer(h)
	hs.Listener = tapListener{Listener: ln, s: s}
	hs.Start()
	t.Cleanup(func() {
		h.Close()
		hs.Close()
	})
	s.base = "ws" + strings.TrimPrefix(hs.URL, "http")
	return s
}

func (s *tappedServer) tap(t *testing.T, port int) *frameTap {
	s.mu.Lock()
	defer s.mu.Unlock()
	tc := s.taps[port]
	require.NotNil(t, tc, "no connection from port %d", port)
	return tc
}

// nodeClientReport is what interop/node/client.js prints.
type nodeClientReport struct {
	OK        bool           `json:"ok"`
	Error     string         `json:"error"`
	Params    map[string]any `json:"params"`
	LocalPort int            `json:"localPort"`
	Echoed    int            `json:"echoed"`
	CloseCode int            `json:"closeCode"`
}

// nodeClientCase is one compression test of the Node ws client against
// our testserver.
type nodeClientCase struct {
	name   string
	node   map[string]any              // the client's perMessageDeflate options
	policy protocol.CompressionOptions // our server's
	want   *protocol.CompressionOptions
	big    bool // send the 1 MiB messages too
}

// nodeClientCases: a generated matrix (every context takeover pair times
// windowPairs offered by ws, against our server's default policy, which
// accepts them as offered), our server imposing parameters, and local
// settings.
func nodeClientCases() []nodeClientCase {
	var cases []nodeClientCase
	for _, nct := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		for _, w := range windowPairs {
			node := map[string]any{"threshold": 0}
			want := protocol.CompressionOptions{ServerNoContextTakeover: nct[0], ClientNoContextTakeover: nct[1], ServerMaxWindowBits: w[0], ClientMaxWindowBits: w[1]}
			if nct[0] {
				node["serverNoContextTakeover"] = true
			}
			if nct[1] {
				node["clientNoContextTakeover"] = true
			}
			if w[0] != 0 {
				node["serverMaxWindowBits"] = w[0]
			}
			if w[1] != 0 {
				node["clientMaxWindowBits"] = w[1]
			}
			cases = append(cases, nodeClientCase{name: pmdName(want), node: node, want: &want,
				big: nct[0] == nct[1] && w == windowPairs[0]})
		}
	}
	type o = protocol.CompressionOptions
	none := map[string]any{}
	cases = append(cases, []nodeClientCase{
		{name: "ours-imposes-server_no_context_takeover", node: none, policy: o{ServerNoContextTakeover: true}, want: &o{ServerNoContextTakeover: true}},
		{name: "ours-imposes-client_no_context_takeover", node: none, policy: o{ClientNoContextTakeover: true}, want: &o{ClientNoContextTakeover: true}},
		{name: "ours-imposes-client_no_context_takeover-ws-threshold-200", node: map[string]any{"threshold": 200}, policy: o{ClientNoContextTakeover: true}, want: &o{ClientNoContextTakeover: true}},
		{name: "ours-imposes-server_max_window_bits=10", node: none, policy: o{ServerMaxWindowBits: 10}, want: &o{ServerMaxWindowBits: 10}},
		{name: "ours-imposes-server_max_window_bits=8", node: none, policy: o{ServerMaxWindowBits: 8}, want: &o{ServerMaxWindowBits: 8}},
		{name: "ours-narrows-server_max_window_bits-12-to-10", node: map[string]any{"serverMaxWindowBits": 12}, policy: o{ServerMaxWindowBits: 10}, want: &o{ServerMaxWindowBits: 10}},
		{name: "ours-keeps-server_max_window_bits-9-below-12", node: map[string]any{"serverMaxWindowBits": 9}, policy: o{ServerMaxWindowBits: 12}, want: &o{ServerMaxWindowBits: 9}},
		{name: "ours-answers-bare-client_max_window_bits-with-9", node: none, policy: o{ClientMaxWindowBits: 9}, want: &o{ClientMaxWindowBits: 9}},
		{name: "ours-narrows-client_max_window_bits-12-to-9", node: map[string]any{"clientMaxWindowBits": 12}, policy: o{ClientMaxWindowBits: 9}, want: &o{ClientMaxWindowBits: 9}},
		{name: "ours-keeps-client_max_window_bits-8-below-12", node: map[string]any{"clientMaxWindowBits": 8}, policy: o{ClientMaxWindowBits: 12}, want: &o{ClientMaxWindowBits: 8}},
		{name: "ours-client_max_window_bits-not-offered", node: map[string]any{"clientMaxWindowBits": false}, policy: o{ClientMaxWindowBits: 9}, want: &o{}},
		{name: "ours-imposes-everything", node: none,
			policy: o{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 8},
			want:   &o{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8, ClientMaxWindowBits: 8}},
		{name: "level-huffman-only", node: none, policy: o{Level: flate.HuffmanOnly}, want: &o{}},
		{name: "level-best-compression", node: none, policy: o{Level: flate.BestCompression}, want: &o{}},
		{name: "level-best-compression-server_max_window_bits=9", node: none, policy: o{Level: flate.BestCompression, ServerMaxWindowBits: 9}, want: &o{ServerMaxWindowBits: 9}},
		{name: "threshold-all", node: none, policy: o{Threshold: -1}, want: &o{}},
		{name: "threshold-1MiB", node: none, policy: o{Threshold: 1 << 20}, want: &o{}, big: true},
	}...)
	for i := range cases {
		cases[i].want = withPolicy(*cases[i].want, cases[i].policy)
	}
	return cases
}

// nodeClientPath returns node and the directory of client.js, or skips
// (fails under CI) when they are missing.
func nodeClientPath(t *testing.T) (node, dir string) {
	node, err := exec.LookPath("node")
	if err != nil {
		missingPeer(t, "node is not installed: %v", err)
	}
	dir, err = filepath.Abs("node")
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); err != nil {
		missingPeer(t, "the ws package is not installed in interop/node (npm ci): %v", err)
	}
	return node, dir
}

func TestCompressionNodeClientOurServer(t *testing.T) {
	node, dir := nodeClientPath(t)
	for _, tc := range nodeClientCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newTappedTestserver(t, tc.policy)
			seq := pmdSequence(tc.big)
			cfg, err := json.Marshal(map[string]any{"url": srv.base + "/echo", "pmd": tc.node, "messages": seq})
			require.NoError(t, err)
			cmd := exec.CommandContext(testCtx(t), node, "client.js", string(cfg))
			cmd.Dir = dir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			require.NoError(t, err, "node client.js: %s", stderr.String())
			var rep nodeClientReport
			require.NoError(t, json.Unmarshal(out, &rep), "report %q", out)
			require.Empty(t, rep.Error, "the ws client failed")
			require.Equal(t, len(seq), rep.Echoed, "echoes checked by the ws client")
			require.Equal(t, 1000, rep.CloseCode, "close code the ws client got")
			require.True(t, rep.OK)
			require.Equal(t, pmdParams(tc.want), rep.Params, "parameters the ws client agreed")

			tap := srv.tap(t, rep.LocalPort)
			t.Logf("our server answered %q", tap.out.header("Sec-WebSocket-Extensions"))
			in, inErr := tap.in.messages()
			outm, outErr := tap.out.messages()
			checkPmdWire(t, "the ws client's messages", seq, in, inErr, true, nodeSender(tc.want, true, tc.node))
			checkPmdWire(t, "our server's echoes", seq, outm, outErr, true, oursSender(tc.want, false))
		})
	}
}

// TestCompressionGoClientsOurServer: gorilla (EnableCompression: no
// context takeover either way) and coder (both modes) clients against our
// testserver with compression, under several server policies.
func TestCompressionGoClientsOurServer(t *testing.T) {
	type o = protocol.CompressionOptions
	both := o{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	cases := []struct {
		name   string
		client clientImpl
		policy protocol.CompressionOptions
		want   protocol.CompressionOptions // agreed
		resp   string                      // our server's Sec-WebSocket-Extensions
	}{
		{"gorilla/default", gorillaClient{compression: true}, o{}, both,
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"gorilla/server_max_window_bits=10-level-9", gorillaClient{compression: true}, o{ServerMaxWindowBits: 10, Level: 9},
			o{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"},
		{"gorilla/threshold-all", gorillaClient{compression: true}, o{Threshold: -1}, both,
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"coder-context-takeover/default", coderClient{mode: coder.CompressionContextTakeover}, o{}, o{},
			"permessage-deflate"},
		{"coder-context-takeover/ours-imposes-server_no_context_takeover", coderClient{mode: coder.CompressionContextTakeover}, o{ServerNoContextTakeover: true},
			o{ServerNoContextTakeover: true}, "permessage-deflate; server_no_context_takeover"},
		{"coder-context-takeover/ours-imposes-client_no_context_takeover", coderClient{mode: coder.CompressionContextTakeover}, o{ClientNoContextTakeover: true},
			o{ClientNoContextTakeover: true}, "permessage-deflate; client_no_context_takeover"},
		{"coder-context-takeover/ours-imposes-server_max_window_bits=9", coderClient{mode: coder.CompressionContextTakeover}, o{ServerMaxWindowBits: 9},
			o{ServerMaxWindowBits: 9}, "permessage-deflate; server_max_window_bits=9"},
		{"coder-context-takeover/huffman-only-threshold-all", coderClient{mode: coder.CompressionContextTakeover}, o{Level: flate.HuffmanOnly, Threshold: -1},
			o{}, "permessage-deflate"},
		{"coder-no-context-takeover/default", coderClient{mode: coder.CompressionNoContextTakeover}, o{}, both,
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"coder-no-context-takeover/server_max_window_bits=8-level-9", coderClient{mode: coder.CompressionNoContextTakeover}, o{ServerMaxWindowBits: 8, Level: 9},
			o{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 8},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			policy := tc.policy
			srv := testserver.New(&testserver.Options{Compression: &policy})
			t.Cleanup(srv.Close)
			c := dialT(t, tc.client, srv.URL()+"/echo", nil)
			require.Equal(t, normExtensions(tc.resp), normExtensions(c.tap().in.header("Sec-WebSocket-Extensions")), "our server's answer")
			// The 1 MiB messages only in the default case of each client.
			seq := pmdSequence(strings.HasSuffix(tc.name, "/default"))
			pmdRoundTrips(t, c, seq)
			agreed := withPolicy(tc.want, tc.policy)
			peer := gorillaSender
			if _, ok := tc.client.(coderClient); ok {
				peer = coderSender(agreed, true)
			}
			out, outErr := c.tap().out.messages()
			in, inErr := c.tap().in.messages()
			checkPmdWire(t, tc.client.name()+" client's messages", seq, out, outErr, true, peer)
			checkPmdWire(t, "our server's echoes", seq, in, inErr, true, oursSender(agreed, false))
		})
	}
}
