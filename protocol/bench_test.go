package protocol

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/wslua/wslua/framing"
)

var benchSizes = []struct {
	name string
	n    int
}{{"16B", 16}, {"64KiB", 64 << 10}}

// BenchmarkWrite measures Write over loopback TCP; the far end discards.
func BenchmarkWrite(b *testing.B) {
	for _, role := range []Role{RoleClient, RoleServer} {
		for _, sz := range benchSizes {
			b.Run(role.String()+"/"+sz.name, func(b *testing.B) {
				a, far := tcpPair(b)
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { defer wg.Done(); _, _ = io.Copy(io.Discard, far) }()
				c := NewConn(a, nil, &Options{Role: role})
				p := bytes.Repeat([]byte("x"), sz.n)
				b.SetBytes(int64(sz.n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := c.Write(bg(), MessageBinary, p); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				c.CloseNow()
				wg.Wait()
			})
		}
	}
}

// feed starts a goroutine that writes the same block of frames to nc until
// it fails; the returned function stops it.
func feed(b *testing.B, nc net.Conn, block []byte) func() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if _, err := nc.Write(block); err != nil {
				return
			}
		}
	}()
	return func() { nc.Close(); wg.Wait() }
}

// readBench reads b.N messages of every size over loopback TCP with read.
func readBench(b *testing.B, op framing.Opcode, read func(c *Conn, buf []byte) ([]byte, error)) {
	for _, role := range []Role{RoleClient, RoleServer} {
		for _, sz := range benchSizes {
			b.Run(role.String()+"/"+sz.name, func(b *testing.B) {
				a, far := tcpPair(b)
				payload := bytes.Repeat([]byte("x"), sz.n)
				one := frames(role, op, payload, 1)
				block := bytes.Repeat(one, max(1, (256<<10)/len(one)))
				stop := feed(b, far, block)
				c := NewConn(a, nil, &Options{Role: role})
				buf := make([]byte, 0, sz.n)
				b.SetBytes(int64(sz.n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					m, err := read(c, buf[:0])
					if err != nil || len(m) != sz.n {
						b.Fatal(err, len(m))
					}
				}
				b.StopTimer()
				c.CloseNow()
				stop()
			})
		}
	}
}

// BenchmarkReadAppend measures ReadAppend into a reused buffer.
func BenchmarkReadAppend(b *testing.B) {
	readBench(b, framing.OpBinary, func(c *Conn, buf []byte) ([]byte, error) {
		_, m, err := c.ReadAppend(bg(), buf)
		return m, err
	})
}

// BenchmarkReadAppendText is ReadAppend of text messages (UTF-8 checked).
func BenchmarkReadAppendText(b *testing.B) {
	readBench(b, framing.OpText, func(c *Conn, buf []byte) ([]byte, error) {
		_, m, err := c.ReadAppend(bg(), buf)
		return m, err
	})
}

// BenchmarkRead measures Read, which allocates each message.
func BenchmarkRead(b *testing.B) {
	readBench(b, framing.OpBinary, func(c *Conn, _ []byte) ([]byte, error) {
		_, m, err := c.Read(bg())
		return m, err
	})
}

// BenchmarkReader measures the streaming reader.
func BenchmarkReader(b *testing.B) {
	readBench(b, framing.OpBinary, func(c *Conn, buf []byte) ([]byte, error) {
		_, r, err := c.Reader(bg())
		if err != nil {
			return nil, err
		}
		n, err := io.ReadFull(r, buf[:cap(buf)])
		return buf[:n], err
	})
}

// BenchmarkUTF8 measures the validator on 64 KiB of text.
func BenchmarkUTF8(b *testing.B) {
	inputs := []struct {
		name string
		data []byte
	}{
		{"ascii", bytes.Repeat([]byte("The quick brown fox jumps over the lazy dog. "), 1500)[:64<<10]},
		{"mixed", bytes.Repeat([]byte("héllo wörld!!!"), 4096)},
		{"cjk", bytes.Repeat([]byte("世界你好世"), 4370)[:64<<10-4]},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if utf8Feed(utf8Accept, in.data) == utf8Reject {
					b.Fatal("invalid")
				}
			}
		})
		b.Run(in.name+"/stdlib", func(b *testing.B) { // reference: unicode/utf8.Valid
			b.SetBytes(int64(len(in.data)))
			for i := 0; i < b.N; i++ {
				if !utf8.Valid(in.data) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
