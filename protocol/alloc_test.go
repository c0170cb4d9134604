package protocol

import (
	"bytes"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// loopConn is an in-memory net.Conn: Read serves the same bytes (whole
// frames) over and over, Write discards. It makes allocation counts and
// CPU benchmarks independent of the network.
type loopConn struct {
	data []byte
	off  int
}

func (c *loopConn) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.off:])
	c.off = (c.off + n) % len(c.data)
	return n, nil
}
func (c *loopConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *loopConn) Close() error                     { return nil }
func (c *loopConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *loopConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *loopConn) SetDeadline(time.Time) error      { return nil }
func (c *loopConn) SetReadDeadline(time.Time) error  { return nil }
func (c *loopConn) SetWriteDeadline(time.Time) error { return nil }

// frames returns count copies of a frame with payload as sent to role.
func frames(role Role, op framing.Opcode, payload []byte, fragments int) []byte {
	var out []byte
	step := max(1, len(payload)/fragments)
	for i := 0; i < fragments; i++ {
		part := payload[min(i*step, len(payload)):]
		if i < fragments-1 {
			part = part[:min(step, len(part))]
		}
		h := framing.Header{Fin: i == fragments-1, Opcode: op, Masked: role == RoleServer, Mask: [4]byte{5, 6, 7, 8}}
		if i > 0 {
			h.Opcode = framing.OpContinuation
		}
		out = framing.AppendFrame(out, h, part)
	}
	return out
}

func loopConnOf(role Role, op framing.Opcode, payload []byte, fragments int) *Conn {
	return NewConn(&loopConn{data: frames(role, op, payload, fragments)}, nil, &Options{Role: role, ReadLimit: -1})
}

func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful with -race")
	}
	text := bytes.Repeat([]byte("héllo wörld!!!"), 4096) // 16 bytes each
	for _, role := range []Role{RoleClient, RoleServer} {
		for _, size := range []int{16, 64 << 10} {
			payload := text[:size]
			name := role.String() + "/" + map[int]string{16: "16B", 64 << 10: "64KiB"}[size]
			t.Run(name, func(t *testing.T) {
				c := NewConn(&loopConn{data: []byte{0}}, nil, &Options{Role: role})
				require.Zero(t, testing.AllocsPerRun(200, func() {
					_ = c.Write(bg(), MessageBinary, payload)
				}), "Write")
				require.Zero(t, testing.AllocsPerRun(200, func() {
					w, _ := c.Writer(bg(), MessageText)
					_, _ = w.Write(payload)
					_, _ = w.Write(payload)
					_ = w.Close()
				}), "Writer")
				require.Zero(t, testing.AllocsPerRun(200, func() {
					_ = c.Ping(bg(), payload[:min(size, 125)])
				}), "Ping")

				for _, frags := range []int{1, 3} {
					r := loopConnOf(role, framing.OpText, payload, frags)
					buf := make([]byte, 0, size)
					require.Zero(t, testing.AllocsPerRun(200, func() {
						_, b, err := r.ReadAppend(bg(), buf[:0])
						if err != nil || len(b) != size {
							panic(err)
						}
					}), "ReadAppend, %d fragments", frags)
					require.Zero(t, testing.AllocsPerRun(200, func() {
						_, rd, err := r.Reader(bg())
						if err != nil {
							panic(err)
						}
						if _, err := io.ReadFull(rd, buf[:size]); err != nil {
							panic(err)
						}
					}), "Reader, %d fragments", frags)
				}
				r := loopConnOf(role, framing.OpBinary, payload, 1)
				require.Equal(t, 1.0, testing.AllocsPerRun(200, func() {
					_, _, _ = r.Read(bg())
				}), "Read allocates the message only")
			})
		}
	}
}

// TestReadLargeAllocatesOnce: Read of a one-frame message of up to 1 MiB
// allocates once, exactly the message's size (its first 64 KiB wait in a
// pooled buffer until they have arrived).
func TestReadLargeAllocatesOnce(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful with -race")
	}
	for _, tc := range []struct {
		size   int
		allocs float64
	}{{1 << 20, 1}, {512<<10 + 3, 1}} {
		payload := bytes.Repeat([]byte{'x'}, tc.size)
		r := loopConnOf(RoleClient, framing.OpBinary, payload, 1)
		_, got, err := r.Read(bg())
		require.NoError(t, err)
		require.Equal(t, payload, got)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		allocs := testing.AllocsPerRun(20, func() {
			if _, b, err := r.Read(bg()); err != nil || len(b) != tc.size {
				panic(err)
			}
		})
		runtime.ReadMemStats(&after)
		require.Equal(t, tc.allocs, allocs, "allocations for a %d-byte message", tc.size)
		if tc.allocs == 1 {
			perRead := float64(after.TotalAlloc-before.TotalAlloc) / 21 // AllocsPerRun makes one warm-up run
			require.InDelta(t, float64(tc.size), perRead, 8192,         // the heap rounds to 8 KiB pages
				"bytes allocated per Read of %d bytes", tc.size)
		}
	}
}
