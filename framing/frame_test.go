package framing_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

func TestAppendFrameGolden(t *testing.T) {
	// The examples of RFC 6455, section 5.7.
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	tests := []struct {
		name    string
		h       framing.Header
		payload string
		want    []byte
	}{
		{"unmasked text", framing.Header{Fin: true, Opcode: framing.OpText}, "Hello",
			[]byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"masked text", framing.Header{Fin: true, Opcode: framing.OpText, Masked: true, Mask: key}, "Hello",
			[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"first fragment", framing.Header{Opcode: framing.OpText}, "Hel", []byte{0x01, 0x03, 0x48, 0x65, 0x6c}},
		{"last fragment", framing.Header{Fin: true}, "lo", []byte{0x80, 0x02, 0x6c, 0x6f}},
		{"unmasked ping", framing.Header{Fin: true, Opcode: framing.OpPing}, "Hello",
			[]byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"masked pong", framing.Header{Fin: true, Opcode: framing.OpPong, Masked: true, Mask: key}, "Hello",
			[]byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"empty close", framing.Header{Fin: true, Opcode: framing.OpClose}, "", []byte{0x88, 0x00}},
		{"length in header is replaced", framing.Header{Fin: true, Opcode: framing.OpText, Length: 1 << 40}, "Hi",
			[]byte{0x81, 0x02, 'H', 'i'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := []byte(tt.payload)
			require.Equal(t, tt.want, framing.AppendFrame(nil, tt.h, payload))
			require.Equal(t, tt.payload, string(payload), "payload modified")
		})
	}
}

func TestAppendFrameRoundTrip(t *testing.T) {
	sizes := []int{0, 1, 3, 125, 126, 127, 1000, 65535, 65536, 70001}
	for _, size := range sizes {
		for _, masked := range []bool{false, true} {
			payload := make([]byte, size)
			for i := range payload {
				payload[i] = byte(i*31 + 7)
			}
			orig := bytes.Clone(payload)
			h := framing.Header{Fin: size%2 == 0, Rsv: framing.Rsv1, Opcode: framing.OpBinary, Masked: masked, Mask: [4]byte{0xde, 0xad, 0xbe, byte(size)}}
			prefix := []byte("already here")
			dst := make([]byte, len(prefix), len(prefix)+3) // forces growth
			copy(dst, prefix)

			out := framing.AppendFrame(dst, h, payload)
			require.Equal(t, orig, payload, "payload modified (size %d, masked %v)", size, masked)
			require.Equal(t, prefix, out[:len(prefix)], "dst prefix modified")

			got, n, err := framing.ParseHeader(out[len(prefix):])
			require.NoError(t, err)
			want := h
			want.Length = int64(size)
			if !masked {
				want.Mask = [4]byte{} // the key is not sent for unmasked frames
			}
			require.Equal(t, want, got)
			body := out[len(prefix)+n:]
			require.Len(t, body, size)
			if masked {
				if size >= 4 {
					require.NotEqual(t, orig, body, "masked payload sent in clear")
				}
				body = bytes.Clone(body)
				refMask(h.Mask, 0, body)
			}
			require.Equal(t, orig, body)
		}
	}
}

func TestAppendFrameInPlace(t *testing.T) {
	// Appending into spare capacity must not disturb bytes already in dst.
	buf := make([]byte, 4, 64)
	copy(buf, "abcd")
	out := framing.AppendFrame(buf, framing.Header{Fin: true, Opcode: framing.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, []byte("xyz"))
	require.Equal(t, []byte{'a', 'b', 'c', 'd', 0x81, 0x83, 1, 2, 3, 4, 'x' ^ 1, 'y' ^ 2, 'z' ^ 3}, out)
}
