//go:build linux

package lua

import (
	"syscall"
	"unsafe"
)

// shortReadEmpties: a TCP read that returns less than asked has emptied
// the socket's receive queue, so the next data brings a new readiness edge
// (tcp_recvmsg copies until the queue is empty or the buffer full).
const shortReadEmpties = true

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
