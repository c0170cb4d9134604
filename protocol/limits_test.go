package protocol

import (
	"bytes"
	"net"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// header returns just a frame header announcing n payload bytes.
func (p *rawPeer) header(op framing.Opcode, fin bool, n int64) []byte {
	h := framing.Header{Fin: fin, Opcode: op, Masked: p.client, Mask: [4]byte{1, 2, 3, 4}, Length: n}
	return h.Append(nil)
}

// RFC 6455, section 10.4: messages beyond the read limit fail with 1009 as
// soon as a header announces them, before any payload is buffered.
func TestRFC10_4_ReadLimit(t *testing.T) {
	tests := []struct {
		name  string
		limit int64
		send  func(p *rawPeer)
		want  int // length of the accepted message, or -1 for a 1009 failure
	}{
		{"exactly the limit", 100, func(p *rawPeer) { p.send(framing.OpBinary, true, make([]byte, 100)) }, 100},
		{"one byte over, header only", 100, func(p *rawPeer) { p.write(p.header(framing.OpBinary, true, 101)) }, -1},
		{"huge announced length", 100, func(p *rawPeer) { p.write(p.header(framing.OpText, false, 1<<62)) }, -1},
		{"fragments within the limit", 100, func(p *rawPeer) {
			p.send(framing.OpBinary, false, make([]byte, 50))
			p.send(0, true, make([]byte, 50))
		}, 100},
		{"fragments over the limit, second header only", 100, func(p *rawPeer) {
			p.send(framing.OpBinary, false, make([]byte, 60))
			p.write(p.header(0, true, 41))
		}, -1},
		{"default limit 16 MiB", 0, func(p *rawPeer) { p.write(p.header(framing.OpBinary, true, 16<<20+1)) }, -1},
		{"negative is unlimited", -1, func(p *rawPeer) {
			// Accepted: the connection ends (1006) for lack of payload, not 1009.
			p.write(p.header(framing.OpBinary, true, 1<<50), make([]byte, 1000))
			p.nc.(*net.TCPConn).CloseWrite()
		}, -2},
	}
	for _, tc := range tests {
		for _, mode := range []string{"Read", "ReadAppend", "Reader"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				c, p := withRaw(t, RoleServer, &Options{ReadLimit: tc.limit})
				go tc.send(p)
				msg, err := readMode(t, c, mode)
				if tc.want == -2 {
					require.Equal(t, StatusAbnormalClosure, CloseStatus(err), "%v", err)
					return
				}
				if tc.want >= 0 {
					require.NoError(t, err)
					require.Len(t, msg, tc.want)
					return
				}
				require.ErrorIs(t, err, ErrMessageTooBig)
				requireFailed(t, c, p, err, StatusMessageTooBig)
			})
		}
	}
}

// A single-frame message is read into a slice of exactly its size.
func TestReadExactAllocation(t *testing.T) {
	c, p := withRaw(t, RoleServer, nil)
	for _, n := range []int{0, 1, 1000, 70000, maxPrealloc, maxPrealloc + 12345} {
		p.send(framing.OpBinary, true, bytes.Repeat([]byte{7}, n))
		_, msg, err := c.Read(readCtx(t))
		require.NoError(t, err)
		require.Len(t, msg, n)
		require.Equal(t, n, cap(msg), "capacity of a %d-byte message", n)
	}
}

// An announced length is never trusted for allocation beyond what arrives:
// a frame announcing a terabyte that ends after a few bytes costs little.
func TestUntrustedLengthAllocation(t *testing.T) {
	for _, mode := range []string{"Read", "ReadAppend", "Reader"} {
		t.Run(mode, func(t *testing.T) {
			c, p := withRaw(t, RoleServer, &Options{ReadLimit: -1})
			p.write(p.header(framing.OpBinary, true, 1<<40), make([]byte, 3<<20))
			p.nc.(interface{ CloseWrite() error }).CloseWrite()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := readMode(t, c, mode)
			runtime.ReadMemStats(&after)
			require.Equal(t, StatusAbnormalClosure, CloseStatus(err))
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(24<<20), "allocated for 3 MiB received")
		})
	}
}

// grow never allocates by an untrusted length and doubles for fragments.
func TestGrow(t *testing.T) {
	tests := []struct {
		len, cap int
		need     int64
		double   bool
		want     int
	}{
		{0, 0, 10, false, 10},
		{10, 10, 5, true, 20},               // next fragment: doubling
		{10, 10, 50, true, 60},              // fragment larger than the buffer
		{10, 10, 5, false, 15},              // rest of the same frame: exact
		{0, 0, 1 << 40, false, maxPrealloc}, // announced length not trusted
		{0, 0, 1 << 40, true, maxPrealloc},  //
		{3 * maxPrealloc, 3 * maxPrealloc, 1 << 40, false, 6 * maxPrealloc},
		{3 * maxPrealloc, 3 * maxPrealloc, maxPrealloc + 1, false, 4*maxPrealloc + 1},
		{maxPrealloc, maxPrealloc, 12345, false, maxPrealloc + 12345},
	}
	for _, tc := range tests {
		b := grow(make([]byte, tc.len, tc.cap), tc.need, tc.double)
		require.Equal(t, tc.want, cap(b), "%+v", tc)
		require.Equal(t, tc.len, len(b))
	}
}
