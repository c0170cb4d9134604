package protocol

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
	"unicode/utf8"
)

// streamConn is a net.Conn reading from a fixed byte stream (then io.EOF)
// and discarding writes.
type streamConn struct{ r *bytes.Reader }

func (c *streamConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *streamConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *streamConn) Close() error                     { return nil }
func (c *streamConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *streamConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *streamConn) SetDeadline(time.Time) error      { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }

const fuzzLimit = 1 << 16

// FuzzReadMessages feeds arbitrary bytes to a Conn as the stream from its
// peer (the first byte picks the role and the read API): it must never
// panic or hang, never return a message beyond the read limit nor allocate
// much beyond what it received, and end with a *CloseError.
func FuzzReadMessages(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		sel := data[0]
		role := RoleServer
		if sel&4 != 0 {
			role = RoleClient
		}
		c := NewConn(&streamConn{bytes.NewReader(data[1:])}, nil, &Options{Role: role, ReadLimit: fuzzLimit})
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var err error
		buf := make([]byte, 0, 16)
		for msgs := 0; err == nil; msgs++ {
			if msgs > len(data) {
				t.Fatal("more messages than input bytes")
			}
			var typ MessageType
			var m []byte
			switch sel % 3 {
			case 0:
				typ, m, err = c.Read(bg())
			case 1:
				typ, m, err = c.ReadAppend(bg(), buf[:0])
			default:
				var r io.Reader
				if typ, r, err = c.Reader(bg()); err == nil {
					m, err = io.ReadAll(io.LimitReader(r, fuzzLimit+1))
				}
			}
			if err != nil {
				break
			}
			if typ != MessageText && typ != MessageBinary {
				t.Fatalf("message type %d", typ)
			}
			if len(m) > fuzzLimit {
				t.Fatalf("message of %d bytes beyond the limit", len(m))
			}
			if typ == MessageText && !utf8.Valid(m) {
				t.Fatalf("invalid UTF-8 text returned: %q", m)
			}
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > uint64(8*len(data)+4*fuzzLimit+1<<20) {
			t.Fatalf("allocated %d bytes for %d input bytes", grew, len(data))
		}
		var ce *CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("final error %v (%T) is not a *CloseError", err, err)
		}
		if ce.Code < 1000 || ce.Code > 4999 {
			t.Fatalf("close code %d", ce.Code)
		}
		if _, _, err2 := c.Read(bg()); err2 != error(ce) {
			t.Fatalf("Read after the end returned %v, want the same CloseError", err2)
		}
	})
}

// FuzzUTF8 checks the incremental validator against unicode/utf8.Valid for
// any input split at any point, and that it rejects at the first byte after
// which no continuation could make the input valid.
func FuzzUTF8(f *testing.F) {
	for _, s := range utf8Cases {
		f.Add([]byte(s), len(s)/2)
	}
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		want := utf8.Valid(data)
		if got := validUTF8(data); got != want {
			t.Fatalf("validUTF8(%q) = %v, want %v", data, got, want)
		}
		if split < 0 {
			split = -split
		}
		if split < 0 || len(data) == 0 {
			split = 0
		} else {
			split %= len(data) + 1
		}
		s := utf8Feed(utf8Accept, data[:split])
		if s != utf8Reject {
			s = utf8Feed(s, data[split:])
		}
		if (s == utf8Accept) != want {
			t.Fatalf("%q split at %d: state %d, want valid=%v", data, split, s, want)
		}
		if len(data) > 256 {
			return
		}
		st := utf8Accept
		for i := range data {
			st = utf8Feed(st, data[i:i+1])
			if st == utf8Reject {
				if canComplete(data[:i+1]) || !canComplete(data[:i]) {
					t.Fatalf("%q rejected at byte %d, not where it became hopeless", data, i)
				}
				return
			}
		}
	})
}
