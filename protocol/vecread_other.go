//go:build !linux

package protocol

import "net"

// vecReader makes vectored reads where the platform allows it; elsewhere
// there is none and the Conn reads through its buffer.
type vecReader struct{ vectorReader }

func newVecReader(net.Conn) *vecReader { return nil }
