//go:build !linux

package protocol

import (
	"io"
	"net"
)

// vecReader makes vectored reads where the platform allows it; elsewhere
// there is none and the Conn reads through its buffer.
type vecReader struct{}

func newVecReader(net.Conn) *vecReader { return nil }

// read2 and read3 are never called: newVecReader returns nil.
func (*vecReader) read2(a, b []byte) (int, error)    { return 0, io.ErrNoProgress }
func (*vecReader) read3(a, b, c []byte) (int, error) { return 0, io.ErrNoProgress }
