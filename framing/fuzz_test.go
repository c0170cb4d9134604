package framing_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/wslua/wslua/framing"
)

// FuzzParseHeader feeds arbitrary bytes to ParseHeader and ReadHeader. Each
// must answer a header or a clear error (never panic), agree with the naive
// reference decoder, and a parsed header must re-encode to the same bytes,
// or, when the input used a longer length form than needed, to a shorter
// encoding that decodes to the same header. Seeds: testdata/fuzz/FuzzParseHeader.
func FuzzParseHeader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		h, n, err := framing.ParseHeader(data)
		want, wantN, res, nonMinimal := refDecode(data)
		switch res {
		case refShort:
			if !errors.Is(err, framing.ErrShortHeader) || n != 0 {
				t.Fatalf("ParseHeader(%x) = %+v, %d, %v; want ErrShortHeader", data, h, n, err)
			}
		case refProtocol:
			if !errors.Is(err, framing.ErrProtocol) || errors.Is(err, framing.ErrShortHeader) || n != 0 {
				t.Fatalf("ParseHeader(%x) = %d, %v; want a protocol error", data, n, err)
			}
		case refOK:
			if err != nil || n != wantN || h != want {
				t.Fatalf("ParseHeader(%x) = %+v, %d, %v; want %+v, %d", data, h, n, err, want, wantN)
			}
		}

		// ReadHeader on the same bytes agrees, with EOF errors for short input.
		// The smallest buffer bufio allows (16 bytes) must hold any header.
		rh, rerr := framing.ReadHeader(bufio.NewReaderSize(bytes.NewReader(data), 16))
		switch {
		case res == refShort && len(data) == 0:
			if rerr != io.EOF {
				t.Fatalf("ReadHeader(empty) = %v; want io.EOF", rerr)
			}
		case res == refShort:
			if rerr != io.ErrUnexpectedEOF {
				t.Fatalf("ReadHeader(%x) = %v; want io.ErrUnexpectedEOF", data, rerr)
			}
		case res == refProtocol:
			if !errors.Is(rerr, framing.ErrProtocol) {
				t.Fatalf("ReadHeader(%x) = %v; want a protocol error", data, rerr)
			}
		default:
			if rerr != nil || rh != h {
				t.Fatalf("ReadHeader(%x) = %+v, %v; want %+v", data, rh, rerr, h)
			}
		}
		if err != nil {
			return
		}

		// Check never panics and answers nil or a protocol error.
		for _, allowed := range []byte{0, framing.Rsv1, framing.Rsv1 | framing.Rsv2 | framing.Rsv3} {
			for _, wantMasked := range []bool{false, true} {
				if cerr := h.Check(allowed, wantMasked); cerr != nil && !errors.Is(cerr, framing.ErrProtocol) {
					t.Fatalf("Check = %v, not a protocol error", cerr)
				}
			}
		}

		// Re-encode.
		var buf [framing.MaxHeaderSize]byte
		m := h.Put(buf[:])
		if m != h.Size() {
			t.Fatalf("Put wrote %d bytes, Size says %d", m, h.Size())
		}
		if !nonMinimal {
			if !bytes.Equal(buf[:m], data[:n]) {
				t.Fatalf("re-encoding of %+v is %x; input was %x", h, buf[:m], data[:n])
			}
			return
		}
		if m >= n {
			t.Fatalf("non-minimal input %x re-encoded to %x, not shorter", data[:n], buf[:m])
		}
		h2, n2, err := framing.ParseHeader(buf[:m])
		if err != nil || n2 != m || h2 != h {
			t.Fatalf("decode of re-encoding %x = %+v, %d, %v; want %+v", buf[:m], h2, n2, err, h)
		}
	})
}

// FuzzMask checks that masking whole, masking in the pieces cuts describes
// (feeding back the returned offset) and the naive reference agree, and
// that masking twice restores the input. Seeds: testdata/fuzz/FuzzMask.
func FuzzMask(f *testing.F) {
	f.Fuzz(func(t *testing.T, key uint32, pos int, data []byte, cuts []byte) {
		k := [4]byte{byte(key), byte(key >> 8), byte(key >> 16), byte(key >> 24)}
		pos &= 0xFFFF // offsets are payload positions: keep pos+len from overflowing

		want := bytes.Clone(data)
		refMask(k, pos, want)

		whole := bytes.Clone(data)
		ret := framing.Mask(k, pos, whole)
		if !bytes.Equal(whole, want) {
			t.Fatalf("Mask(%x, %d, %x) = %x; want %x", k, pos, data, whole, want)
		}
		if ret != (pos+len(data))&3 {
			t.Fatalf("Mask returned %d; want %d", ret, (pos+len(data))&3)
		}

		pieces := bytes.Clone(data)
		p := pos
		rest := pieces
		for _, c := range cuts {
			l := min(int(c), len(rest))
			p = framing.Mask(k, p, rest[:l])
			rest = rest[l:]
		}
		p = framing.Mask(k, p, rest)
		if !bytes.Equal(pieces, want) {
			t.Fatalf("Mask in pieces %x of %x = %x; want %x", cuts, data, pieces, want)
		}
		if p != ret {
			t.Fatalf("offset after pieces %d; whole %d", p, ret)
		}

		framing.Mask(k, pos, whole)
		if !bytes.Equal(whole, data) {
			t.Fatalf("masking twice changed %x to %x", data, whole)
		}
	})
}
