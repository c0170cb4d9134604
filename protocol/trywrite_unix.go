//go:build unix

package protocol

import "syscall"

// rawWriteSupported: write(2) on the socket's descriptor never blocks, the
// runtime's network poller keeps it non-blocking.
const rawWriteSupported = true

// tryWriteRaw makes one non-blocking write of b to the socket and returns
// how many bytes it took: 0 when its send buffer is full or on any error
// (Write, which the caller falls back to, then reports the error). The
// caller holds the frame lock.
func (c *Conn) tryWriteRaw(b []byte) int {
	var n int
	err := c.raw.Write(func(fd uintptr) bool {
		for {
			var errno error
			n, errno = syscall.Write(int(fd), b)
			if errno == syscall.EINTR {
				continue
			}
			if errno != nil {
				n = 0
			}
			return true // one attempt: never wait for the socket
		}
	})
	if err != nil { // closed, or a write deadline already passed
		return 0
	}
	return n
}
