//go:build linux

package lua

import (
	"syscall"
	"unsafe"
)

// wouldBlock reports whether a read of the socket fd would wait: it peeks
// at one byte (into b) without consuming it.
func wouldBlock(fd uintptr, b []byte) bool {
	for {
		// recvfrom(2) without an address: syscall.Recvfrom would allocate one.
		_, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1, syscall.MSG_PEEK, 0, 0)
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return true
		}
		return false // data, end of stream or an error: Read reports it
	}
}
