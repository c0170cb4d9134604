package framing_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// lengthForms lists payload lengths at and around every boundary of the
// three length encodings of RFC 6455, section 5.2, with the 7-bit length
// field and total header size (unmasked) each must be encoded with.
var lengthForms = []struct {
	length int64
	len7   byte // the 7-bit "Payload len" field
	size   int  // encoded header size without a masking key
}{
	{0, 0, 2},
	{1, 1, 2},
	{125, 125, 2},
	{126, 126, 4},
	{127, 126, 4},
	{65535, 126, 4},
	{65536, 127, 10},
	{1 << 32, 127, 10},
	{1 << 62, 127, 10},
	{1<<63 - 1, 127, 10},
}

// allOpcodes is every 4-bit opcode, defined or reserved.
func allOpcodes() []framing.Opcode {
	ops := make([]framing.Opcode, 16)
	for i := range ops {
		ops[i] = framing.Opcode(i)
	}
	return ops
}

var rsvCombos = []byte{0, framing.Rsv1, framing.Rsv2, framing.Rsv3, framing.Rsv1 | framing.Rsv2 | framing.Rsv3}

var maskKeys = [][4]byte{{0, 0, 0, 0}, {0x37, 0xfa, 0x21, 0x3d}, {0xff, 0xff, 0xff, 0xff}, {1, 2, 3, 4}}

// headerCases returns the cross product of every length form, FIN, each RSV
// bit, every opcode and masking (off, or on with several keys).
func headerCases() []framing.Header {
	var hs []framing.Header
	for _, lf := range lengthForms {
		for _, fin := range []bool{false, true} {
			for _, rsv := range rsvCombos {
				for _, op := range allOpcodes() {
					hs = append(hs, framing.Header{Fin: fin, Rsv: rsv, Opcode: op, Length: lf.length})
					for _, key := range maskKeys {
						hs = append(hs, framing.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: true, Mask: key, Length: lf.length})
					}
				}
			}
		}
	}
	return hs
}

func TestHeaderGolden(t *testing.T) {
	// Header bytes of the examples in RFC 6455, section 5.7, and of each
	// length form written out by hand.
	tests := []struct {
		name string
		h    framing.Header
		want []byte
	}{
		{"unmasked text Hello", framing.Header{Fin: true, Opcode: framing.OpText, Length: 5}, []byte{0x81, 0x05}},
		{"masked text Hello", framing.Header{Fin: true, Opcode: framing.OpText, Masked: true, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5},
			[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}},
		{"first fragment", framing.Header{Opcode: framing.OpText, Length: 3}, []byte{0x01, 0x03}},
		{"last fragment", framing.Header{Fin: true, Opcode: framing.OpContinuation, Length: 2}, []byte{0x80, 0x02}},
		{"unmasked ping", framing.Header{Fin: true, Opcode: framing.OpPing, Length: 5}, []byte{0x89, 0x05}},
		{"masked pong", framing.Header{Fin: true, Opcode: framing.OpPong, Masked: true, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5},
			[]byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d}},
		{"256 bytes binary", framing.Header{Fin: true, Opcode: framing.OpBinary, Length: 256}, []byte{0x82, 0x7e, 0x01, 0x00}},
		{"64 KiB binary", framing.Header{Fin: true, Opcode: framing.OpBinary, Length: 65536},
			[]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}},
		{"rsv1 close", framing.Header{Fin: true, Rsv: framing.Rsv1, Opcode: framing.OpClose}, []byte{0xc8, 0x00}},
		{"rsv2", framing.Header{Rsv: framing.Rsv2, Opcode: framing.OpBinary}, []byte{0x22, 0x00}},
		{"rsv3", framing.Header{Rsv: framing.Rsv3, Opcode: framing.OpBinary}, []byte{0x12, 0x00}},
		{"largest", framing.Header{Fin: true, Opcode: framing.OpBinary, Masked: true, Mask: [4]byte{9, 8, 7, 6}, Length: 1<<63 - 1},
			[]byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 9, 8, 7, 6}},
		{"negative length encodes as 0", framing.Header{Fin: true, Opcode: framing.OpText, Length: -7}, []byte{0x81, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.h.Append(nil))
			require.Equal(t, len(tt.want), tt.h.Size())
			if tt.h.Length >= 0 {
				got, n, err := framing.ParseHeader(tt.want)
				require.NoError(t, err)
				require.Equal(t, len(tt.want), n)
				require.Equal(t, tt.h, got)
			}
		})
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range headerCases() {
		want := refEncode(h)
		var buf [framing.MaxHeaderSize + 4]byte
		for i := range buf {
			buf[i] = 0xEE
		}
		n := h.Put(buf[:])
		require.Equal(t, want, buf[:n], "Put %+v", h)
		for i, c := range buf[n:] {
			require.Equal(t, byte(0xEE), c, "Put %+v wrote past its size at %d", h, n+i)
		}
		require.Equal(t, n, h.Size(), "Size %+v", h)
		require.Equal(t, want, h.Append(nil), "Append %+v", h)
		require.Equal(t, append([]byte("prefix"), want...), h.Append([]byte("prefix")), "Append to non-empty %+v", h)

		got, m, err := framing.ParseHeader(append(bytes.Clone(want), "payload"...))
		require.NoError(t, err, "ParseHeader %+v", h)
		require.Equal(t, n, m, "ParseHeader size %+v", h)
		require.Equal(t, h, got)

		rh, err := framing.ReadHeader(bufio.NewReader(bytes.NewReader(want)))
		require.NoError(t, err, "ReadHeader %+v", h)
		require.Equal(t, h, rh)
	}
}

func TestHeaderShortestForm(t *testing.T) {
	for _, lf := range lengthForms {
		for _, masked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/masked=%v", lf.length, masked), func(t *testing.T) {
				h := framing.Header{Fin: true, Opcode: framing.OpBinary, Masked: masked, Mask: [4]byte{1, 2, 3, 4}, Length: lf.length}
				want := lf.size
				if masked {
					want += 4
				}
				enc := h.Append(nil)
				require.Len(t, enc, want)
				require.Equal(t, want, h.Size())
				require.Equal(t, lf.len7, enc[1]&0x7F)
				require.LessOrEqual(t, h.Size(), framing.MaxHeaderSize)
			})
		}
	}
}

func TestParseHeaderTruncated(t *testing.T) {
	for _, lf := range lengthForms {
		for _, masked := range []bool{false, true} {
			h := framing.Header{Fin: true, Opcode: framing.OpBinary, Masked: masked, Mask: [4]byte{1, 2, 3, 4}, Length: lf.length}
			enc := h.Append(nil)
			for i := range len(enc) {
				got, n, err := framing.ParseHeader(enc[:i])
				require.ErrorIs(t, err, framing.ErrShortHeader, "prefix %d of %x", i, enc)
				require.NotErrorIs(t, err, framing.ErrProtocol)
				require.Zero(t, n)
				require.Equal(t, framing.Header{}, got)
			}
		}
	}
	// A header whose length has its top bit set is still short while incomplete.
	enc := []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
	for i := range len(enc) {
		_, _, err := framing.ParseHeader(enc[:i])
		require.ErrorIs(t, err, framing.ErrShortHeader, "prefix %d", i)
	}
}

func TestLengthTopBit(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"only top bit", []byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}},
		{"all ones", []byte{0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"masked", []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, n, err := framing.ParseHeader(tt.b)
			require.ErrorIs(t, err, framing.ErrProtocol)
			require.NotErrorIs(t, err, framing.ErrShortHeader)
			require.Zero(t, n)
			var pe *framing.ProtocolError
			require.ErrorAs(t, err, &pe)
			require.Contains(t, pe.Reason, "most significant bit")
			require.Equal(t, "websocket: protocol error: "+pe.Reason, err.Error())

			_, err = framing.ReadHeader(bufio.NewReader(bytes.NewReader(tt.b)))
			require.ErrorIs(t, err, framing.ErrProtocol)
		})
	}
}

func TestErrorsDistinct(t *testing.T) {
	require.False(t, errors.Is(framing.ErrShortHeader, framing.ErrProtocol))
	require.False(t, errors.Is(framing.ErrProtocol, framing.ErrShortHeader))
	require.ErrorIs(t, fmt.Errorf("wrapped: %w", &framing.ProtocolError{Reason: "x"}), framing.ErrProtocol)
}

// errBoom is a transport error that is not EOF.
var errBoom = errors.New("boom")

func TestReadHeaderEOF(t *testing.T) {
	t.Run("clean end", func(t *testing.T) {
		_, err := framing.ReadHeader(bufio.NewReader(bytes.NewReader(nil)))
		require.Equal(t, io.EOF, err)
	})
	for _, lf := range lengthForms {
		for _, masked := range []bool{false, true} {
			h := framing.Header{Opcode: framing.OpText, Masked: masked, Mask: [4]byte{4, 3, 2, 1}, Length: lf.length}
			enc := h.Append(nil)
			t.Run(fmt.Sprintf("inside %d-byte header", len(enc)), func(t *testing.T) {
				for i := 1; i < len(enc); i++ {
					_, err := framing.ReadHeader(bufio.NewReader(bytes.NewReader(enc[:i])))
					require.Equal(t, io.ErrUnexpectedEOF, err, "prefix %d of %x", i, enc)
				}
			})
		}
	}
	t.Run("transport error passes through", func(t *testing.T) {
		for i := range 3 {
			r := io.MultiReader(bytes.NewReader([]byte{0x82, 0x7e, 0x01}[:i]), iotest.ErrReader(errBoom))
			_, err := framing.ReadHeader(bufio.NewReader(r))
			require.ErrorIs(t, err, errBoom, "after %d bytes", i)
		}
	})
}

func TestReadHeaderStream(t *testing.T) {
	// Frames back to back, read through a reader that returns one byte per
	// call: every header must come out whole, and the stream end cleanly.
	var stream []byte
	var want []framing.Header
	for i, lf := range lengthForms[:6] {
		h := framing.Header{Fin: i%2 == 0, Opcode: framing.OpBinary, Length: lf.length}
		if i%3 == 0 {
			h.Masked, h.Mask = true, [4]byte{byte(i), 2, 3, 4}
		}
		want = append(want, h)
		stream = framing.AppendFrame(stream, h, bytes.Repeat([]byte{byte(i)}, int(lf.length)))
	}
	br := bufio.NewReader(iotest.OneByteReader(bytes.NewReader(stream)))
	for i, w := range want {
		h, err := framing.ReadHeader(br)
		require.NoError(t, err, "frame %d", i)
		require.Equal(t, w, h)
		payload := make([]byte, h.Length)
		_, err = io.ReadFull(br, payload)
		require.NoError(t, err)
		if h.Masked {
			framing.Mask(h.Mask, 0, payload)
		}
		require.Equal(t, bytes.Repeat([]byte{byte(i)}, int(h.Length)), payload)
	}
	_, err := framing.ReadHeader(br)
	require.Equal(t, io.EOF, err)
}

func TestHeaderZeroAllocs(t *testing.T) {
	hs := []framing.Header{
		{Fin: true, Opcode: framing.OpText, Length: 5},
		{Opcode: framing.OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 300},
		{Fin: true, Opcode: framing.OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 1 << 40},
	}
	const runs = 100
	for _, h := range hs {
		enc := h.Append(nil)
		stream := bytes.Repeat(enc, runs+1)
		r := bytes.NewReader(stream)
		br := bufio.NewReader(r)
		var got framing.Header
		var err error
		allocs := testing.AllocsPerRun(runs, func() {
			got, err = framing.ReadHeader(br)
		})
		require.NoError(t, err)
		require.Equal(t, h, got)
		require.Zero(t, allocs, "ReadHeader of %x", enc)

		var buf [framing.MaxHeaderSize]byte
		allocs = testing.AllocsPerRun(runs, func() {
			got, _, err = framing.ParseHeader(enc)
			_ = got.Put(buf[:])
			_ = got.Size()
		})
		require.NoError(t, err)
		require.Zero(t, allocs, "ParseHeader+Put of %x", enc)
	}

	// The failure paths are free of allocations too.
	bad := []byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}
	r := bytes.NewReader(bad)
	br := bufio.NewReader(r)
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(bad)
		br.Reset(r)
		_, err = framing.ReadHeader(br)
		_, _, _ = framing.ParseHeader(bad[:5])
		_, _, _ = framing.ParseHeader(bad)
	})
	require.ErrorIs(t, err, framing.ErrProtocol)
	require.Zero(t, allocs)
}
