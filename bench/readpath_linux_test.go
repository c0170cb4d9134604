package bench

import (
	binenc "encoding/binary"
	"io"
	"net"
	"syscall"
	"unsafe"
)

// On Linux, ReadPath64K also measures read=readv: one readv(2) of the prefix
// into a 4-byte array and the message into its own memory, the size known.
// It is exact with the prefix in a separate piece, as a speculative read
// that places the header in the Conn's buffer and the payload in the
// caller's would do.
func init() {
	readStrategies = append(readStrategies, "readv")
	newPlatformReader = func(strategy string, c net.Conn) messageReader {
		if strategy != "readv" {
			return nil
		}
		rc, err := c.(syscall.Conn).SyscallConn()
		if err != nil {
			panic(err)
		}
		return &readvReader{rc: rc}
	}
}

// readvReader reads the prefix and the message with readv(2).
type readvReader struct {
	rc     syscall.RawConn
	prefix [4]byte
	iov    [2]syscall.Iovec
}

func (r *readvReader) read(dst []byte) ([]byte, error) {
	total, got := 4+len(dst), 0
	for got < total {
		// The pieces still to fill, from got on.
		iov := r.iov[:0]
		if got < 4 {
			iov = append(iov, syscall.Iovec{Base: &r.prefix[got]})
			iov[0].SetLen(4 - got)
			iov = append(iov, syscall.Iovec{Base: unsafe.SliceData(dst)})
			iov[1].SetLen(len(dst))
		} else {
			iov = append(iov, syscall.Iovec{Base: &dst[got-4]})
			iov[0].SetLen(total - got)
		}
		var n uintptr
		var errno syscall.Errno
		err := r.rc.Read(func(fd uintptr) bool {
			n, _, errno = syscall.Syscall(syscall.SYS_READV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
			return errno != syscall.EAGAIN
		})
		switch {
		case err != nil:
			return nil, err
		case errno != 0:
			return nil, errno
		case n == 0:
			return nil, io.ErrUnexpectedEOF
		}
		got += int(n)
	}
	if int(binenc.BigEndian.Uint32(r.prefix[:])) != len(dst) {
		return nil, errUnexpectedSize
	}
	return dst, nil
}
