package handshake

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"strings"
)

// websocketGUID is the fixed string RFC 6455 appends to Sec-WebSocket-Key
// before hashing.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// keyLen is the number of random bytes in a Sec-WebSocket-Key.
const keyLen = 16

// AcceptKey returns the Sec-WebSocket-Accept value that answers the
// Sec-WebSocket-Key key: the base64 encoding of the SHA-1 hash of key followed
// by the GUID of RFC 6455, section 1.3.
func AcceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte(websocketGUID))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// newKey returns a fresh Sec-WebSocket-Key: 16 bytes from crypto/rand,
// base64-encoded.
func newKey() (string, error) {
	var b [keyLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// validKey reports whether key is the base64 encoding of exactly 16 bytes.
func validKey(key string) bool {
	key = strings.TrimSpace(key)
	if len(key) != base64.StdEncoding.EncodedLen(keyLen) {
		return false
	}
	var b [keyLen + 2]byte
	n, err := base64.StdEncoding.Strict().Decode(b[:], []byte(key))
	return err == nil && n == keyLen
}
