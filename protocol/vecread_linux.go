//go:build linux

package protocol

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// vecReader makes vectored reads (readv) on a TCP or Unix socket through
// its syscall.RawConn, so that the runtime's network poller still does the
// waiting and deadlines apply as for Read. It allocates nothing per read:
// the callback is made once and its arguments live in the struct.
type vecReader struct {
	nc    net.Conn
	rc    syscall.RawConn
	fn    func(fd uintptr) bool // rv.do, made once
	cr    *connReader           // whose read is under way
	iov   [3]syscall.Iovec
	niov  int
	n     int
	errno syscall.Errno
}

// maxVecRead bounds one read, as the runtime bounds its own.
const maxVecRead = 1 << 30

// newVecReader returns a vecReader for nc, or nil if nc does not support
// vectored reads.
func newVecReader(nc net.Conn) *vecReader {
	var sc syscall.Conn
	switch c := nc.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	v := &vecReader{nc: nc, rc: rc}
	v.fn = v.do
	return v
}

// do is the RawConn.Read callback: one readv into the memory cr.vector
// returns, retried on EINTR. On EAGAIN it lets cr release its buffer and
// returns false: the poller waits for readability, then calls do again.
func (v *vecReader) do(fd uintptr) bool {
	a, b, c := v.cr.vector()
	v.niov = 0
	v.add(c, v.add(b, v.add(a, 0)))
	for {
		n, _, e := syscall.Syscall(syscall.SYS_READV, fd, uintptr(unsafe.Pointer(&v.iov[0])), uintptr(v.niov))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			v.iov = [3]syscall.Iovec{} // no reference to a released buffer
			v.cr.idle()
			return false
		}
		v.n, v.errno = int(n), e
		return true
	}
}

// add appends b, if not empty, to the vector, within maxVecRead in all.
func (v *vecReader) add(b []byte, total int) int {
	if len(b) == 0 || total >= maxVecRead {
		return total
	}
	b = b[:min(len(b), maxVecRead-total)]
	v.iov[v.niov].Base = &b[0]
	v.iov[v.niov].SetLen(len(b))
	v.niov++
	return total + len(b)
}

// readv reads once into the memory r.vector returns (see vectorReader).
func (v *vecReader) readv(r *connReader) (int, error) {
	v.cr = r
	v.n, v.errno = 0, 0
	err := v.rc.Read(v.fn)
	n, errno := v.n, v.errno
	v.iov = [3]syscall.Iovec{} // keep no reference to the caller's memory
	v.cr = nil
	if err != nil || errno != 0 || n == 0 {
		return 0, v.readvError(err, errno)
	}
	return n, nil
}

// readvError returns the error of a read that failed (err or errno) or
// found the end of the stream, as Read would. It is kept out of readv,
// whose frame a goroutine parked in a read holds.
//
//go:noinline
func (v *vecReader) readvError(err error, errno syscall.Errno) error {
	switch {
	case err != nil:
		if oe, ok := err.(*net.OpError); ok {
			oe.Op = "read" // not "raw-read": the same errors as Read
		}
		return err
	case errno != 0:
		return &net.OpError{Op: "read", Net: v.nc.LocalAddr().Network(), Source: v.nc.LocalAddr(), Addr: v.nc.RemoteAddr(), Err: os.NewSyscallError("readv", errno)}
	}
	return io.EOF
}
