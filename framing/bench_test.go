package framing_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/wslua/wslua/framing"
)

// Sinks keep the compiler from discarding benchmarked work.
var (
	sinkInt    int
	sinkHeader framing.Header
)

// BenchmarkMask measures Mask on common payload sizes and on odd sizes that
// start in the middle of the key and at an unaligned address.
func BenchmarkMask(b *testing.B) {
	cases := []struct {
		size  int
		pos   int // key offset passed to Mask
		align int // start of the masked slice inside its buffer
	}{
		{65536, 0, 0},
		{4096, 0, 0},
		{125, 0, 0},
		{16, 0, 0},
		{65537, 3, 3},
		{4099, 1, 5},
		{127, 2, 1},
		{7, 3, 0},
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, c := range cases {
		name := fmt.Sprintf("%d", c.size)
		if c.pos != 0 || c.align != 0 {
			name = fmt.Sprintf("%d/pos%d/align%d", c.size, c.pos, c.align)
		}
		b.Run(name, func(b *testing.B) {
			buf := make([]byte, c.size+c.align)
			p := buf[c.align:]
			b.SetBytes(int64(c.size))
			b.ReportAllocs()
			for b.Loop() {
				sinkInt = framing.Mask(key, c.pos, p)
			}
		})
	}
}

// BenchmarkMaskCopy64K measures MaskCopy of 64 KiB into another buffer,
// as a client builds a frame: next to BenchmarkCopy64K, the cost of the
// masking on top of the copy.
func BenchmarkMaskCopy64K(b *testing.B) {
	src := make([]byte, 65536)
	dst := make([]byte, 65536)
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		sinkInt = framing.MaskCopy(dst, src, key, 0)
	}
}

// BenchmarkCopy64K is the baseline for BenchmarkMask/65536: a plain copy of
// 64 KiB, which reads and writes as many bytes as masking in place does.
func BenchmarkCopy64K(b *testing.B) {
	src := make([]byte, 65536)
	dst := make([]byte, 65536)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		sinkInt = copy(dst, src)
	}
}

// headerSamples is one header of each length form, masked and not.
var headerSamples = []framing.Header{
	{Fin: true, Opcode: framing.OpText, Length: 5},
	{Fin: true, Opcode: framing.OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 300},
	{Fin: false, Opcode: framing.OpBinary, Masked: true, Mask: [4]byte{5, 6, 7, 8}, Length: 1 << 20},
}

func BenchmarkParseHeader(b *testing.B) {
	for _, h := range headerSamples {
		enc := h.Append(nil)
		b.Run(fmt.Sprintf("%dB", len(enc)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, n, err := framing.ParseHeader(enc)
				if err != nil {
					b.Fatal(err)
				}
				sinkHeader, sinkInt = got, n
			}
		})
	}
}

func BenchmarkReadHeader(b *testing.B) {
	for _, h := range headerSamples {
		enc := h.Append(nil)
		// Many headers back to back, so the reader is refilled rarely.
		stream := bytes.Repeat(enc, 4096)
		b.Run(fmt.Sprintf("%dB", len(enc)), func(b *testing.B) {
			r := bytes.NewReader(stream)
			br := bufio.NewReaderSize(r, 64<<10)
			b.ReportAllocs()
			for b.Loop() {
				got, err := framing.ReadHeader(br)
				if err == io.EOF {
					r.Reset(stream)
					br.Reset(r)
					got, err = framing.ReadHeader(br)
				}
				if err != nil {
					b.Fatal(err)
				}
				sinkHeader = got
			}
		})
	}
}

func BenchmarkPutHeader(b *testing.B) {
	var buf [framing.MaxHeaderSize]byte
	for _, h := range headerSamples {
		b.Run(fmt.Sprintf("%dB", h.Size()), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkInt = h.Put(buf[:])
			}
		})
	}
}
