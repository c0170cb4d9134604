//go:build amd64 && !purego

package framing

// xorBlocks stores src XOR key (a little-endian 8-byte word) into dst, for
// the first len(src) rounded down to a multiple of 64 bytes; dst is at least
// that long, and is either src itself or does not overlap it. On amd64 it
// works 32 bytes at a time where the processor has AVX2 and 16 bytes at a
// time otherwise (SSE2, which every amd64 processor has), against the 8-byte
// words of the Go version. Mask of 64 KiB on a 2-vCPU AMD EPYC: 25-27 GB/s
// in Go, 40-48 with SSE2, 61-70 with AVX2 (a plain copy: 40-47).
//
//go:noescape
func xorBlocks(dst, src []byte, key uint64)

// cpuHasAVX2 reports whether the processor and the OS support AVX2.
func cpuHasAVX2() bool

// useAVX2 selects xorBlocks' AVX2 loop; tests turn it off to check the SSE2
// one.
var useAVX2 = cpuHasAVX2()
