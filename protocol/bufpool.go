package protocol

import (
	"sync"

	"github.com/wslua/wslua/framing"
)

// Write buffers come from size-class pools and go back as soon as the frame
// is written, so a Conn at rest holds no write buffer. Class i holds
// buffers of (minBufClass << i) payload bytes plus room for the largest
// frame header, so a 64 KiB message fits the 64 KiB class exactly.
const (
	minBufShift = 9  // 512 B
	maxBufShift = 20 // 1 MiB
	numClasses  = maxBufShift - minBufShift + 1
	// maxPooledPayload is the largest payload that is copied into one
	// pooled buffer; larger frames are written in pieces or vectored.
	maxPooledPayload = 1 << maxBufShift
)

var bufPools [numClasses]sync.Pool

// bufClass returns the class whose buffers hold n bytes, or -1.
func bufClass(n int) int {
	for i := 0; i < numClasses; i++ {
		if n <= (1<<(minBufShift+i))+framing.MaxHeaderSize {
			return i
		}
	}
	return -1
}

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
	b := make([]byte, (1<<(minBufShift+i))+framing.MaxHeaderSize)
	return &b
}

// putBuf returns a buffer obtained from getBuf.
func putBuf(bp *[]byte) {
	if i := bufClass(len(*bp)); i >= 0 && len(*bp) == (1<<(minBufShift+i))+framing.MaxHeaderSize {
		bufPools[i].Put(bp)
	}
}
