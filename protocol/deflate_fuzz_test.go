package protocol

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"runtime"
	"testing"
	"unicode/utf8"

	"github.com/wslua/wslua/framing"
)

// refInflateLimited inflates payload (tail stripped) after hist with
// compress/flate, reading at most limit+1 bytes.
func refInflateLimited(hist, payload []byte, limit int) ([]byte, error) {
	fr := flate.NewReaderDict(io.MultiReader(bytes.NewReader(payload), bytes.NewReader(inflateTrailer[:])), hist)
	return io.ReadAll(io.LimitReader(fr, int64(limit)+1))
}

// FuzzInflate sends arbitrary bytes as the payload of two compressed
// messages in a row (the first byte picks the role, the frame size, the
// read API, text or binary, and context takeover). The Conn must never
// panic nor allocate much beyond the read limit, and must agree with
// compress/flate: the same bytes when the data inflates within the limit,
// 1009 beyond it, 1007 for invalid data (or invalid text).
func FuzzInflate(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		sel, payload := data[0], data[1:]
		role := RoleServer
		if sel&1 != 0 {
			role = RoleClient
		}
		frameSize := []int{1, 3, 64, len(payload) + 1}[(sel>>1)&3]
		reader := sel&8 != 0
		op := framing.OpBinary
		if sel&16 != 0 {
			op = framing.OpText
		}
		takeover := sel&32 != 0
		a := &CompressionOptions{ServerNoContextTakeover: !takeover, ClientNoContextTakeover: !takeover}

		peer := &rawPeer{t: t, client: role == RoleServer}
		var stream []byte
		for i := 0; i < 2; i++ {
			stream = append(stream, peer.compressedFrames(op, payload, frameSize)...)
		}
		c := NewConn(&streamConn{bytes.NewReader(stream)}, nil, &Options{Role: role, ReadLimit: fuzzLimit, Compression: a})

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var hist []byte
		for i := 0; i < 2; i++ {
			var got []byte
			var err error
			if reader {
				var r io.Reader
				if _, r, err = c.Reader(bg()); err == nil {
					got, err = io.ReadAll(io.LimitReader(r, fuzzLimit+2))
				}
			} else {
				_, got, err = c.Read(bg())
			}
			if len(got) > fuzzLimit+1 {
				t.Fatalf("read %d bytes, beyond the limit", len(got))
			}
			want, werr := refInflateLimited(hist, payload, fuzzLimit)
			code := CloseStatus(err)
			switch {
			case err != nil && code < 0:
				t.Fatalf("message %d: error %v is not a *CloseError", i, err)
			case werr == nil && len(want) > fuzzLimit:
				if code != StatusMessageTooBig && !(op == framing.OpText && code == StatusInvalidFramePayloadData) {
					t.Fatalf("message %d inflates beyond the limit: got %v, want 1009", i, err)
				}
			case werr != nil:
				if code != StatusInvalidFramePayloadData {
					t.Fatalf("message %d: compress/flate fails (%v), got %v, want 1007", i, werr, err)
				}
				if op == framing.OpBinary && !errors.Is(err, ErrInvalidCompressedData) {
					t.Fatalf("message %d: cause %v, want ErrInvalidCompressedData", i, err)
				}
			case op == framing.OpText && !utf8.Valid(want):
				if code != StatusInvalidFramePayloadData || !errors.Is(err, ErrInvalidUTF8) {
					t.Fatalf("message %d: invalid text, got %v, want 1007", i, err)
				}
			default:
				if err != nil {
					t.Fatalf("message %d: %v, want %d bytes", i, err, len(want))
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("message %d: got %d bytes, want %d", i, len(got), len(want))
				}
			}
			if err != nil {
				break
			}
			if takeover {
				hist = append(hist, got...)
			}
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(8*len(data)+4*fuzzLimit+1<<20) {
			t.Fatalf("allocated %d bytes for %d input bytes", grew, len(data))
		}
	})
}
