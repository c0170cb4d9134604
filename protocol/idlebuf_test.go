package protocol

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// A read that waits for data holds no read buffer: every read path (frame
// headers, control frames, discarded and streamed payloads, speculation)
// gives it back while waiting and takes one again when data arrives, and
// reads the same bytes as without waits.
func TestIdleReleasesBuffer(t *testing.T) {
	for seed := range uint64(8) {
		for _, role := range []Role{RoleClient, RoleServer} {
			t.Run(fmt.Sprintf("seed=%d/%s", seed, role), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 11))
				frames, msgs := randomTraffic(rng, 40)
				stream := encode(role, frames...)
				segs := cut(stream, func() int { return 1 + rng.IntN(1+rng.IntN(100000)) })
				sc := (&segConn{chunk: rng.IntN(3) * rng.IntN(5000), wait: true}).setSegments(segs...)
				c := sc.conn(t, role)
				var buf []byte
				for i, want := range msgs {
					got := readAny(t, rng, c, &buf)
					require.True(t, bytes.Equal(want, got), "message %d: %d bytes, want %d", i, len(got), len(want))
				}
				require.Positive(t, sc.waits)
				require.Zero(t, sc.heldWhile, "reads that held a buffer while waiting")
				require.Zero(t, sc.remaining())
			})
		}
	}
}

// The buffer taken from the handshake's reader goes to the read pool at
// the first wait; its replacements come from the pool, of the same size.
func TestIdleTakenBuffer(t *testing.T) {
	p := pattern(3000, 9)
	stream := encode(RoleServer, msg(p[:10]), msg(p), msg(p[:100]))
	br := bufio.NewReaderSize(bytes.NewReader(stream[:5]), 4096)
	_, err := br.Peek(5)
	require.NoError(t, err)
	taken, _ := br.Peek(0)
	taken = taken[:cap(taken)]

	sc := (&segConn{wait: true, chunk: 100}).setSegments(stream[5:])
	c := NewConn(sc, br, &Options{Role: RoleServer})
	c.br.rv = sc
	defer c.CloseNow()
	require.Same(t, &taken[0], &c.br.own[0], "the handshake's buffer")
	require.Nil(t, c.br.ownp)
	for _, want := range [][]byte{p[:10], p, p[:100]} {
		_, got, err := c.Read(bg())
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	require.Zero(t, sc.heldWhile)
	require.NotNil(t, c.br.ownp, "a pooled buffer")
	require.Equal(t, 4096, c.br.Size())
	require.Len(t, c.br.own, 4096)
}

func TestReadPool(t *testing.T) {
	for _, tc := range []struct{ n, class int }{
		{-1, -1}, {0, -1}, {1, 0}, {16, 0}, {17, 1}, {4095, 8}, {4096, 8}, {4097, 9},
		{1 << 20, 16}, {1<<20 + 1, -1},
	} {
		require.Equal(t, tc.class, readClass(tc.n), "readClass(%d)", tc.n)
		if bp := getReadBuf(tc.n); tc.class < 0 {
			require.Nil(t, bp)
		} else {
			require.Len(t, *bp, 16<<tc.class)
		}
	}
	if raceEnabled {
		t.Skip("sync.Pool drops some buffers at random with -race")
	}
	b := make([]byte, 4096)
	putReadBuf(&b)
	require.Same(t, &b[0], &(*getReadBuf(3000))[0], "a 4 KiB buffer from elsewhere joins the pool")
	odd := make([]byte, 5000)
	putReadBuf(&odd)
	require.NotSame(t, &odd[0], &(*getReadBuf(5000))[0], "other lengths are dropped")
}

// A buffer too large for the pool's classes is kept while waiting.
func TestIdleKeepsUnpooledBuffer(t *testing.T) {
	const size = maxPooledPayload + 1024
	require.Negative(t, readClass(size))
	p := pattern(200, 3)
	sc := (&segConn{wait: true}).setSegments(encode(RoleClient, msg(p), msg(p)))
	c := NewConn(sc, nil, &Options{Role: RoleClient, ReadBufferSize: size})
	c.br.rv = sc
	defer c.CloseNow()
	for range 2 {
		_, got, err := c.Read(bg())
		require.NoError(t, err)
		require.Equal(t, p, got)
	}
	require.Equal(t, sc.waits, sc.heldWhile, "the buffer is kept while waiting")
	require.Len(t, c.br.own, size)
}

// Over TCP (vectored reads on Linux): a read waiting for data holds no
// buffer, and a frame that arrives in pieces, with waits between them, is
// read whole.
func TestIdleTCP(t *testing.T) {
	a, b := tcpPair(t)
	c := NewConn(a, nil, &Options{Role: RoleClient, ReadLimit: -1})
	defer c.CloseNow()
	if c.br.rv == nil {
		t.Skip("no vectored reads on this platform: the buffer is kept")
	}
	go func() { _, _ = io.Copy(io.Discard, b) }()

	ctx, cancel := context.WithTimeout(bg(), 50*time.Millisecond)
	defer cancel()
	_, _, err := c.Read(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Nil(t, c.br.own, "a read cancelled while waiting held no buffer")
	require.Nil(t, c.br.buf)

	a2, b2 := tcpPair(t)
	c2 := NewConn(a2, nil, &Options{Role: RoleClient, ReadLimit: -1})
	defer c2.CloseNow()
	go func() { _, _ = io.Copy(io.Discard, b2) }()
	small, big := pattern(20, 1), pattern(100000, 2)
	stream := encode(RoleClient, msg(small), msg(big), msg(big), msg(small), wframe{op: framing.OpPing, fin: true, payload: []byte("hi")}, msg(small))
	errc := make(chan error, 1)
	go func() {
		// Cut everywhere: inside headers, payloads and between frames.
		for rest, i := stream, 0; len(rest) > 0; i++ {
			n := min(len(rest), []int{1, 3, 7000, 10, 60000, 2}[i%6])
			if _, err := b2.Write(rest[:n]); err != nil {
				errc <- err
				return
			}
			rest = rest[n:]
			time.Sleep(2 * time.Millisecond)
		}
		errc <- nil
	}()
	var buf []byte
	for i, want := range [][]byte{small, big, big, small, small} {
		var got []byte
		var err error
		if i == 2 {
			got, err = readAllReader(c2)
		} else {
			_, got, err = c2.ReadAppend(readCtx(t), buf[:0])
			buf = got
		}
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "message %d", i)
	}
	require.NoError(t, recv(t, "the result", errc))
}

func readAllReader(c *Conn) ([]byte, error) {
	_, r, err := c.Reader(bg())
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// FuzzIdleRead reads arbitrary bytes through the vectored read paths with
// the buffer released at every read (segConn.wait), the stream cut in
// pieces of data[0] bytes, and checks that the messages and the final
// error are those of plain buffered reads of the same stream.
func FuzzIdleRead(f *testing.F) {
	p := pattern(5000, 1)
	f.Add([]byte{0x00}, encode(RoleServer, msg(p[:10]), msg(p), msg(p), msg(p[:600])))
	f.Add([]byte{0x07}, encode(RoleServer, msg(p[:600]), wframe{op: framing.OpPing, fin: true, payload: []byte("x")}, msg(p[:700])))
	f.Add([]byte{0x31}, encode(RoleServer, wframe{op: framing.OpText, payload: []byte("hé")}, wframe{op: framing.OpContinuation, fin: true, payload: []byte("llo")}))
	f.Add([]byte{0xff, 0x02}, encode(RoleServer, wframe{op: framing.OpBinary, fin: true, payload: p[:1000], long: true}))
	f.Fuzz(func(t *testing.T, sel, stream []byte) {
		if len(sel) == 0 || len(stream) > 1<<20 {
			return
		}
		opts := func() *Options { return &Options{Role: RoleServer, ReadLimit: fuzzLimit} }
		chunk := int(sel[0])
		if len(sel) > 1 {
			chunk *= int(sel[1]) + 1
		}
		read := func(c *Conn) ([][]byte, error) {
			var msgs [][]byte
			buf := make([]byte, 0, 16)
			for i := 0; ; i++ {
				var m []byte
				var err error
				switch (i + int(sel[0])) % 3 {
				case 0:
					_, m, err = c.Read(bg())
				case 1:
					_, m, err = c.ReadAppend(bg(), buf[:0])
					buf = m
				default:
					m, err = readAllReader(c)
				}
				if err != nil {
					return msgs, err
				}
				msgs = append(msgs, append([]byte(nil), m...))
			}
		}
		plain := NewConn(&streamConn{bytes.NewReader(stream)}, nil, opts())
		want, wantErr := read(plain)

		sc := (&segConn{chunk: chunk, wait: true}).setSegments(stream)
		c := NewConn(sc, nil, opts())
		c.br.rv = sc
		got, err := read(c)
		if len(got) != len(want) {
			t.Fatalf("%d messages, want %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("message %d differs", i)
			}
		}
		var ce, wce *CloseError
		if !errors.As(err, &ce) || !errors.As(wantErr, &wce) || ce.Code != wce.Code {
			t.Fatalf("final error %v, want %v", err, wantErr)
		}
		if sc.heldWhile != 0 {
			t.Fatalf("%d waits with a buffer held", sc.heldWhile)
		}
	})
}

// TestParkedReaderStack: a goroutine waiting for the next message never
// needs more than the smallest goroutine stack (2 KB), whichever call it
// waits in (Read, ReadAppend, Reader; its context cancellable or not), so
// that a server holding thousands of quiet connections pays 2 KB of stack
// for each reader goroutine. A stack that grew is never shrunk back to 2 KB
// (the collector shrinks one only while less than a quarter of it is in
// use, counting 800 bytes for the runtime), so the peak matters, not only
// where the goroutine parks. Reader used to wait deep in the frame
// reading, on a 4 KB stack.
//
// The runtime starts new goroutines with the average stack of earlier
// ones (GODEBUG adaptivestackstart), so the test runs itself again with
// that off: every reader starts at 2 KB and grows only if it needs to.
func TestParkedReaderStack(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector enlarges stack frames")
	}
	if os.Getenv("WSLUA_PARKED_STACK") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestParkedReaderStack$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "WSLUA_PARKED_STACK=1", "GODEBUG=adaptivestackstart=0")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Contains(t, string(out), "--- PASS: TestParkedReaderStack/Reader/cancellable=true")
		return
	}
	reads := []struct {
		name string
		read func(ctx context.Context, c *Conn) error
	}{
		{"Read", func(ctx context.Context, c *Conn) error { _, _, err := c.Read(ctx); return err }},
		{"ReadAppend", func(ctx context.Context, c *Conn) error {
			_, _, err := c.ReadAppend(ctx, make([]byte, 0, 64))
			return err
		}},
		{"Reader", func(ctx context.Context, c *Conn) error { _, _, err := c.Reader(ctx); return err }},
	}
	for _, rd := range reads {
		for _, cancellable := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/cancellable=%v", rd.name, cancellable), func(t *testing.T) {
				const n = 200
				ctx := bg()
				if cancellable {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					defer cancel()
				}
				conns := make([]*Conn, n)
				for i := range conns {
					_, conns[i] = connPair(t, "tcp", nil, nil)
				}
				if conns[0].br.rv == nil {
					t.Skip("no vectored reads on this platform: readers park in the frame reading")
				}
				stackInUse := func() int {
					runtime.GC()
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					return int(ms.StackInuse)
				}
				before := stackInUse()
				errc := make(chan error, n)
				for _, c := range conns {
					go func() { errc <- rd.read(ctx, c) }()
				}
				time.Sleep(200 * time.Millisecond) // every reader parks
				per := (stackInUse() - before) / n
				for _, c := range conns {
					c.CloseNow()
				}
				for range conns {
					require.Error(t, recv(t, "a reader's end", errc))
				}
				t.Logf("%d bytes of stack per parked reader", per)
				require.Less(t, per, 3000, "stack bytes per parked reader")
			})
		}
	}
}
