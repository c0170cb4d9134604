package interop

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/wslua/wslua/protocol"
)

// messageSizes are the payload sizes every peer exchanges: the edges of the
// three length encodings of RFC 6455 (7-bit, 16-bit, 64-bit) and 1 MiB.
var messageSizes = []int{0, 125, 126, 65535, 65536, 1 << 20}

// messageTypes are the two data message types.
var messageTypes = []protocol.MessageType{protocol.MessageText, protocol.MessageBinary}

// opTimeout bounds every single network operation of a test, so that a
// broken peer fails the test instead of hanging it.
const opTimeout = 30 * time.Second

// textRunes are the UTF-8 sequences text payloads are made of: 1 to 4 bytes
// long, so that fragment cuts fall inside multi-byte characters.
var textRunes = []string{"a", "é", "€", "𝄞", "z", " ", "ß", "中", "0", "😀"}

// textPayload returns exactly n bytes of valid UTF-8 (the last few bytes are
// ASCII when a multi-byte sequence would not fit). seed varies the content.
func textPayload(n, seed int) []byte {
	b := make([]byte, 0, n)
	for i := seed; len(b) < n; i++ {
		r := textRunes[i%len(textRunes)]
		if len(b)+len(r) > n {
			r = "x"
		}
		b = append(b, r...)
	}
	return b
}

// binaryPayload returns n pseudo-random bytes (not valid UTF-8 in general),
// the same for the same seed.
func binaryPayload(n, seed int) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(seed)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// payload returns a payload of type typ and n bytes.
func payload(typ protocol.MessageType, n, seed int) []byte {
	if typ == protocol.MessageText {
		return textPayload(n, seed)
	}
	return binaryPayload(n, seed)
}

// requireSamePayload fails the test if got differs from want, reporting the
// lengths and the first differing offset instead of dumping megabytes.
func requireSamePayload(t testing.TB, want, got []byte, what string) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	t.Fatalf("%s: payload differs: want %d bytes, got %d, first difference at offset %d", what, len(want), len(got), i)
}

// testCtx returns a context that ends with the test or after opTimeout.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	t.Cleanup(cancel)
	return ctx
}

// splitParts cuts p into n parts at the offsets i*len(p)/n (some may be
// empty when n > len(p)).
func splitParts(p []byte, n int) [][]byte {
	parts := make([][]byte, n)
	for i := range n {
		parts[i] = p[i*len(p)/n : (i+1)*len(p)/n]
	}
	return parts
}
