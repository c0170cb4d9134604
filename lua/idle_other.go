//go:build !linux

package lua

// shortReadEmpties is Linux's (see idle_linux.go).
const shortReadEmpties = false

// wouldBlock reports false where the socket is not peeked at (the shallow
// wait is Linux's only): the reader then goes straight to Read.
func wouldBlock(uintptr, []byte) bool { return false }
