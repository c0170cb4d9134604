package protocol

import (
	"compress/flate"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// countingConn counts the bytes read through it.
type countingConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

var benchCompression = []struct {
	name string
	a    *CompressionOptions
}{
	{"off", nil},
	{"takeover", &CompressionOptions{}},
	{"no-takeover", &CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true}},
	{"level6-takeover", &CompressionOptions{Level: flate.DefaultCompression}},
	{"window10", &CompressionOptions{ServerMaxWindowBits: 10, ClientMaxWindowBits: 10}},
}

// BenchmarkCompressedMessage measures a 64 KiB text message written by one
// end and read (ReadAppend into a reused buffer) by the other over loopback
// TCP, with and without permessage-deflate. wire-B/msg is what went over
// the network per message.
func BenchmarkCompressedMessage(b *testing.B) {
	msg := testText(20, 64<<10)
	for _, sender := range []Role{RoleClient, RoleServer} {
		for _, bc := range benchCompression {
			b.Run(sender.String()+"/"+bc.name, func(b *testing.B) {
				a1, a2 := tcpPair(b)
				cc := &countingConn{Conn: a2}
				recvRole := RoleServer
				if sender == RoleServer {
					recvRole = RoleClient
				}
				w := NewConn(a1, nil, &Options{Role: sender, Compression: bc.a})
				r := NewConn(cc, nil, &Options{Role: recvRole, Compression: bc.a})
				var wg sync.WaitGroup
				wg.Add(1)
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				b.ResetTimer()
				go func() {
					defer wg.Done()
					for i := 0; i < b.N; i++ {
						if err := w.Write(bg(), MessageText, msg); err != nil {
							b.Error(err)
							return
						}
					}
				}()
				buf := make([]byte, 0, len(msg))
				for i := 0; i < b.N; i++ {
					var err error
					if _, buf, err = r.ReadAppend(bg(), buf[:0]); err != nil {
						b.Fatal(err)
					}
					if len(buf) != len(msg) {
						b.Fatalf("read %d bytes", len(buf))
					}
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(cc.n.Load())/float64(b.N), "wire-B/msg")
				w.CloseNow()
				r.CloseNow()
			})
		}
	}
}

// BenchmarkCompressionConnMemory reports the heap a Conn holds after it
// exchanged 64 KiB messages both ways (active), and once its sending side
// went idle (compressors back in the pool, pools emptied by GC). The
// figure includes the Conn's read buffer (4 KiB) and its share of the test
// connections.
func BenchmarkCompressionConnMemory(b *testing.B) {
	const pairs = 32
	msg := testText(21, 64<<10)
	for _, bc := range benchCompression[:3] {
		b.Run(bc.name, func(b *testing.B) {
			var active, idle float64
			for i := 0; i < b.N; i++ {
				var ms runtime.MemStats
				heap := func() float64 {
					runtime.GC()
					runtime.GC() // the second empties the pools' victim caches
					runtime.ReadMemStats(&ms)
					return float64(ms.HeapAlloc)
				}
				base := heap()
				conns := make([]*Conn, 0, 2*pairs)
				for j := 0; j < pairs; j++ {
					cl, sv := connPair(b, "tcp", &Options{Compression: bc.a}, &Options{Compression: bc.a})
					conns = append(conns, cl, sv)
					for _, dir := range [][2]*Conn{{cl, sv}, {sv, cl}} {
						errc := make(chan error, 1)
						go func() { errc <- dir[0].Write(bg(), MessageText, msg) }()
						if _, _, err := dir[1].Read(bg()); err != nil {
							b.Fatal(err)
						}
						if err := <-errc; err != nil {
							b.Fatal(err)
						}
					}
				}
				active += (heap() - base) / float64(len(conns))
				for _, c := range conns {
					if c.pmd != nil {
						c.releaseIdleCompressor()
					}
				}
				idle += (heap() - base) / float64(len(conns))
				runtime.KeepAlive(conns)
				for _, c := range conns {
					c.CloseNow()
				}
			}
			b.ReportMetric(active/float64(b.N), "active-B/conn")
			b.ReportMetric(idle/float64(b.N), "idle-B/conn")
		})
	}
}
