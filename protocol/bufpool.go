package protocol

import (
	"math/bits"
	"sync"

	"github.com/wslua/wslua/framing"
)

// Write buffers come from size-class pools and go back as soon as the frame
// is written, so a Conn at rest holds no write buffer. Class i holds
// buffers of (1 << (minBufShift+i)) payload bytes plus hdrRoom bytes of room
// for a frame header in front, so a 64 KiB message fits the 64 KiB class
// exactly.
const (
	minBufShift = 9  // 512 B
	maxBufShift = 20 // 1 MiB
	numClasses  = maxBufShift - minBufShift + 1
	// maxPooledPayload is the largest payload that is copied into one
	// pooled buffer; larger frames are written in pieces or vectored.
	maxPooledPayload = 1 << maxBufShift
	// hdrRoom is the room kept in front of a payload in a write buffer:
	// framing.MaxHeaderSize rounded up to 8. A frame's payload starts at
	// offset hdrRoom, 8-byte aligned (Go allocates these buffers 8-byte
	// aligned at least), so that masking it stores whole aligned words, and
	// its header goes just before it.
	hdrRoom = 16
)

// hdrRoom must hold the largest header and keep the payload 8-byte
// aligned: these constant conversions fail to compile otherwise.
const (
	_ = uint(hdrRoom - framing.MaxHeaderSize)
	_ = uint(-(hdrRoom % 8))
)

var bufPools [numClasses]sync.Pool

// bufClass returns the class whose buffers hold n bytes, or -1.
func bufClass(n int) int {
	p := n - hdrRoom
	if p <= 1<<minBufShift {
		return 0
	}
	if i := bits.Len(uint(p-1)) - minBufShift; i < numClasses {
		return i
	}
	return -1
}

// bufSize is the length of the buffers of class i.
func bufSize(i int) int { return 1<<(minBufShift+i) + hdrRoom }

// getBuf returns a pooled buffer of length at least n, or nil when n is
// beyond the largest class.
func getBuf(n int) *[]byte {
	i := bufClass(n)
	if i < 0 {
		return nil
	}
	if bp, ok := bufPools[i].Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, bufSize(i))
	return &b
}

// putBuf returns a buffer obtained from getBuf.
func putBuf(bp *[]byte) {
	if i := bufClass(len(*bp)); i >= 0 && len(*bp) == bufSize(i) {
		bufPools[i].Put(bp)
	}
}

// Read buffers have pools of their own, of power-of-two sizes with no
// header room, so that a 4 KiB read buffer takes 4 KiB of memory, and
// net/http's 4 KiB reader buffer that a server Conn takes over (see
// takeBuffer) can join them when the Conn releases it. A Conn reads
// through the first size bytes of its buffer.
const (
	minReadShift = 4  // 16 B, minReadBufferSize
	maxReadShift = 20 // 1 MiB
)

var readPools [maxReadShift - minReadShift + 1]sync.Pool

// readClass returns the class whose buffers hold n bytes, or -1.
func readClass(n int) int {
	i := max(bits.Len(uint(n-1)), minReadShift) - minReadShift
	if n <= 0 || i >= len(readPools) {
		return -1
	}
	return i
}

// getReadBuf returns a pooled read buffer of length at least n, or nil when
// n is beyond the largest class.
func getReadBuf(n int) *[]byte {
	i := readClass(n)
	if i < 0 {
		return nil
	}
	if bp, ok := readPools[i].Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 1<<(minReadShift+i))
	return &b
}

// putReadBuf gives a read buffer to the pool of its class; one whose
// length is not a class's is dropped.
func putReadBuf(bp *[]byte) {
	if i := readClass(len(*bp)); i >= 0 && len(*bp) == 1<<(minReadShift+i) {
		readPools[i].Put(bp)
	}
}
