//go:build !linux

package lua

// wouldBlock reports false where the socket is not peeked at (the shallow
// wait is Linux's only): the reader then goes straight to Read.
func wouldBlock(uintptr, []byte) bool { return false }
