package protocol

import (
	"crypto/rand"
	"sync"
)

// Masking keys come from crypto/rand, as RFC 6455 section 5.3 requires
// ("derived from a strong source of entropy"), drawn 256 keys per call into
// a process-wide buffer so that a message costs a short locked copy, not a
// call into the random source.
var maskKeys struct {
	mu  sync.Mutex
	buf [256 * 4]byte
	pos int
}

func init() { maskKeys.pos = len(maskKeys.buf) }

// newMaskKey returns a fresh masking key.
func newMaskKey() (k [4]byte) {
	maskKeys.mu.Lock()
	if maskKeys.pos == len(maskKeys.buf) {
		_, _ = rand.Read(maskKeys.buf[:]) // never fails (crypto/rand, Go >= 1.24)
		maskKeys.pos = 0
	}
	copy(k[:], maskKeys.buf[maskKeys.pos:maskKeys.pos+4])
	maskKeys.pos += 4
	maskKeys.mu.Unlock()
	return k
}
