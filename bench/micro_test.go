//go:build !wsbench_noours

package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// The micro-benchmarks run protocol.Conn over loopConn, an in-memory
// net.Conn, so that B/op and allocs/op are those of the Conn alone: no
// server shares the process's counters, no syscall blurs ns/op. Masking,
// header encoding and decoding are benchmarked in package framing
// (BenchmarkMask, BenchmarkCopy64K, BenchmarkParseHeader, BenchmarkReadHeader,
// BenchmarkPutHeader); run.sh runs those in place.

// loopConn is a net.Conn whose reads replay one byte stream endlessly and
// whose writes are discarded.
type loopConn struct {
	stream []byte
	off    int
}

func (c *loopConn) Read(p []byte) (int, error) {
	if len(c.stream) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.stream[c.off:])
	c.off += n
	if c.off == len(c.stream) {
		c.off = 0
	}
	return n, nil
}

func (c *loopConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *loopConn) Close() error                     { return nil }
func (c *loopConn) LocalAddr() net.Addr              { return loopAddr{} }
func (c *loopConn) RemoteAddr() net.Addr             { return loopAddr{} }
func (c *loopConn) SetDeadline(time.Time) error      { return nil }
func (c *loopConn) SetReadDeadline(time.Time) error  { return nil }
func (c *loopConn) SetWriteDeadline(time.Time) error { return nil }

// loopAddr is loopConn's address.
type loopAddr struct{}

func (loopAddr) Network() string { return "loop" }
func (loopAddr) String() string  { return "loop" }

// frameStream encodes one unfragmented message as the peer of role would
// send it: masked when the reader is a server.
func frameStream(role protocol.Role, op framing.Opcode, p []byte) []byte {
	h := framing.Header{Fin: true, Opcode: op, Length: int64(len(p))}
	payload := append([]byte(nil), p...)
	if role == protocol.RoleServer {
		h.Masked = true
		h.Mask = [4]byte{0x12, 0x34, 0x56, 0x78}
		framing.Mask(h.Mask, 0, payload)
	}
	return append(h.Append(nil), payload...)
}

// microConn returns a Conn of role reading stream forever.
func microConn(role protocol.Role, stream []byte) *protocol.Conn {
	nc := &loopConn{stream: stream}
	return protocol.NewConn(nc, nil, &protocol.Options{Role: role, ReadLimit: 32 << 20})
}

// roleName names a role in benchmark names.
func roleName(r protocol.Role) string {
	if r == protocol.RoleClient {
		return "client"
	}
	return "server"
}

// sizeName names a message size in benchmark names.
func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprint(n)
}

var (
	microSizes = []int{size16, size64K, size1M}
	roles      = []protocol.Role{protocol.RoleClient, protocol.RoleServer}
	sinkBytes  []byte
	sinkBool   bool
)

// BenchmarkConnWrite: Write of one binary message; 0 allocs expected.
func BenchmarkConnWrite(b *testing.B) {
	ctx := context.Background()
	for _, role := range roles {
		for _, size := range microSizes {
			b.Run(fmt.Sprintf("role=%s/size=%s", roleName(role), sizeName(size)), func(b *testing.B) {
				c := microConn(role, nil)
				p := binary(size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if err := c.Write(ctx, protocol.MessageBinary, p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkConnWriter: one binary message through Writer, written in one
// call; 0 allocs expected.
func BenchmarkConnWriter(b *testing.B) {
	ctx := context.Background()
	for _, role := range roles {
		for _, size := range microSizes {
			b.Run(fmt.Sprintf("role=%s/size=%s", roleName(role), sizeName(size)), func(b *testing.B) {
				c := microConn(role, nil)
				p := binary(size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					w, err := c.Writer(ctx, protocol.MessageBinary)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := w.Write(p); err != nil {
						b.Fatal(err)
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// readCase is one kind of message a read micro-benchmark receives.
type readCase struct {
	name string
	op   framing.Opcode
	p    []byte
}

// readCases are binary messages of every micro size, plus 64 KiB of text,
// which is validated: mixed scripts (a third of the bytes non-ASCII) and
// ASCII only.
func readCases() []readCase {
	var cs []readCase
	for _, size := range microSizes {
		cs = append(cs, readCase{"binary/size=" + sizeName(size), framing.OpBinary, binary(size)})
	}
	return append(cs,
		readCase{"text-mixed/size=64K", framing.OpText, textUTF8(size64K)},
		readCase{"text-ascii/size=64K", framing.OpText, textASCII(size64K)})
}

// forReadCases runs f for every role and read case over a fresh Conn.
func forReadCases(b *testing.B, f func(b *testing.B, c *protocol.Conn, size int)) {
	for _, role := range roles {
		for _, rc := range readCases() {
			b.Run(fmt.Sprintf("role=%s/%s", roleName(role), rc.name), func(b *testing.B) {
				c := microConn(role, frameStream(role, rc.op, rc.p))
				b.SetBytes(int64(len(rc.p)))
				b.ReportAllocs()
				f(b, c, len(rc.p))
			})
		}
	}
}

// BenchmarkConnReadAppend: ReadAppend into a reused buffer; 0 allocs
// expected.
func BenchmarkConnReadAppend(b *testing.B) {
	ctx := context.Background()
	forReadCases(b, func(b *testing.B, c *protocol.Conn, size int) {
		buf := make([]byte, 0, size)
		for b.Loop() {
			_, got, err := c.ReadAppend(ctx, buf[:0])
			if err != nil || len(got) != size {
				b.Fatal(len(got), err)
			}
			buf = got
		}
	})
}

// BenchmarkConnRead: Read returns a new slice; one allocation of exactly the
// message size expected (B/op equals the size for these sizes, which are
// allocation size classes).
func BenchmarkConnRead(b *testing.B) {
	ctx := context.Background()
	forReadCases(b, func(b *testing.B, c *protocol.Conn, size int) {
		for b.Loop() {
			_, got, err := c.Read(ctx)
			if err != nil || len(got) != size {
				b.Fatal(len(got), err)
			}
			sinkBytes = got
		}
	})
}

// BenchmarkConnReader: Reader, read to EOF into a fixed 32 KiB buffer; 0
// allocs expected.
func BenchmarkConnReader(b *testing.B) {
	ctx := context.Background()
	forReadCases(b, func(b *testing.B, c *protocol.Conn, size int) {
		buf := make([]byte, 32<<10)
		for b.Loop() {
			_, r, err := c.Reader(ctx)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				m, err := r.Read(buf)
				n += m
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			if n != size {
				b.Fatal(n, size)
			}
		}
	})
}

// BenchmarkUTF8Valid64K is the reference for ReadAppend's text cases:
// unicode/utf8.Valid over the same 64 KiB texts. Our validator is not
// exported; its cost is ReadAppend text minus ReadAppend binary.
func BenchmarkUTF8Valid64K(b *testing.B) {
	for _, tc := range []struct {
		name string
		p    []byte
	}{{"mixed", textUTF8(size64K)}, {"ascii", textASCII(size64K)}} {
		b.Run("text="+tc.name, func(b *testing.B) {
			if !utf8.Valid(tc.p) {
				b.Fatal("test text is not UTF-8")
			}
			b.SetBytes(int64(len(tc.p)))
			b.ReportAllocs()
			for b.Loop() {
				sinkBool = utf8.Valid(tc.p)
			}
		})
	}
}

// TestMicroFixtures checks the micro-benchmarks' fixtures: every read case
// decodes to its payload through a real Conn.
func TestMicroFixtures(t *testing.T) {
	ctx := context.Background()
	for _, role := range roles {
		for _, rc := range readCases() {
			t.Run(roleName(role)+"/"+rc.name, func(t *testing.T) {
				c := microConn(role, frameStream(role, rc.op, rc.p))
				for range 3 {
					typ, got, err := c.Read(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if string(got) != string(rc.p) || (typ == protocol.MessageText) != (rc.op == framing.OpText) {
						t.Fatalf("read back a different message (type %v, %d bytes)", typ, len(got))
					}
				}
			})
		}
	}
}

// BenchmarkMask64K compares framing.Mask with the one exported masking
// routine among the peers (gobwas/ws.Cipher, which has amd64 assembly) and
// with a plain copy of as many bytes. framing's own BenchmarkMask covers
// other sizes and alignments.
func BenchmarkMask64K(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	cases := []struct {
		name string
		f    func(p, src []byte)
	}{
		{"ours", func(p, _ []byte) { framing.Mask(key, 0, p) }},
		{"gobwas", func(p, _ []byte) { ws.Cipher(p, key, 0) }},
		{"copy", func(p, src []byte) { copy(p, src) }},
	}
	for _, tc := range cases {
		b.Run("impl="+tc.name, func(b *testing.B) {
			p, src := make([]byte, size64K), make([]byte, size64K)
			b.SetBytes(size64K)
			b.ReportAllocs()
			for b.Loop() {
				tc.f(p, src)
			}
		})
	}
}
