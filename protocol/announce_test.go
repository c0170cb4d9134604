package protocol

import (
	"context"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// heapInUse returns the live heap after two collections (the second empties
// sync.Pool victim caches).
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestAnnouncedLengthCostsNothing: 1,000 connections that each sent the
// 14-byte header of a frame announcing 8 MiB, then went silent, with a
// server Conn of default options reading each, cost less than 100 MiB in
// all: nothing is allocated for a payload before its bytes arrive. The
// same for compressed frames (no inflater, no output buffer).
func TestAnnouncedLengthCostsNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("heap figures are not meaningful with -race")
	}
	for _, compressed := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "compressed"}[compressed], func(t *testing.T) {
			const conns = 1000
			h := framing.Header{Fin: true, Opcode: framing.OpBinary, Length: 8 << 20, Masked: true, Mask: [4]byte{1, 2, 3, 4}}
			if compressed {
				h.Rsv = framing.Rsv1
			}
			hdr := h.Append(nil)
			require.Len(t, hdr, 14)

			before := heapInUse()
			ctx, cancel := context.WithCancel(bg())
			var reads, sent sync.WaitGroup
			servers := make([]*Conn, 0, conns)
			peers := make([]net.Conn, 0, conns)
			for i := 0; i < conns; i++ {
				a, b := net.Pipe()
				opts := &Options{Role: RoleServer}
				if compressed {
					opts.Compression = &CompressionOptions{}
				}
				sv := NewConn(b, nil, opts)
				servers, peers = append(servers, sv), append(peers, a)
				reads.Add(1)
				go func() { defer reads.Done(); _, _, _ = sv.Read(ctx) }()
				sent.Add(1)
				go func() { defer sent.Done(); _, _ = a.Write(hdr) }() // returns once the Conn read it all
			}
			done := make(chan struct{})
			go func() { sent.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the Conns did not read the headers within 10 s")
			}
			time.Sleep(50 * time.Millisecond) // let the readers reach their next wait; not an assertion
			grown := int64(heapInUse()) - int64(before)
			t.Logf("%d connections holding a header each: %.1f MiB", conns, float64(grown)/(1<<20))
			cancel()
			closeAll(servers, peers)
			reads.Wait()
			require.Less(t, grown, int64(100<<20), "heap growth for %d silent announcements", conns)
		})
	}
}

// TestSentBytesBoundAllocation: a peer that sends 64 KiB of a frame
// announcing 8 MiB, then goes silent, makes a Read allocate at most 16
// times what it sent (1 MiB, see stageLarge), never the announced length.
func TestSentBytesBoundAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("heap figures are not meaningful with -race")
	}
	const conns = 20
	h := framing.Header{Fin: true, Opcode: framing.OpBinary, Length: 8 << 20, Masked: true, Mask: [4]byte{1, 2, 3, 4}}
	frame := append(h.Append(nil), make([]byte, maxPrealloc)...)
	before := heapInUse()
	ctx, cancel := context.WithCancel(bg())
	var reads, sent sync.WaitGroup
	var servers []*Conn
	var peers []net.Conn
	for i := 0; i < conns; i++ {
		a, b := net.Pipe()
		sv := NewConn(b, nil, &Options{Role: RoleServer, ReadLimit: 32 << 20})
		servers, peers = append(servers, sv), append(peers, a)
		reads.Add(1)
		go func() { defer reads.Done(); _, _, _ = sv.Read(ctx) }()
		sent.Add(1)
		go func() { defer sent.Done(); _, _ = a.Write(frame) }() // returns once the Conn read it all
	}
	waitGroup(t, "the Conns reading 64 KiB each", &sent)
	time.Sleep(50 * time.Millisecond) // let the readers allocate and wait again; not an assertion
	grown := int64(heapInUse()) - int64(before)
	t.Logf("%d connections that sent 64 KiB of 8 MiB: %.1f MiB", conns, float64(grown)/(1<<20))
	cancel()
	closeAll(servers, peers)
	waitGroup(t, "the reads", &reads)
	require.Less(t, grown, int64(conns*(maxAmplify*maxPrealloc+maxPrealloc)), "heap growth")
	require.Greater(t, grown, int64(conns*maxPrealloc), "the reads kept what they received (the test measures something)")
}

// closeAll closes the Conns and their peers' ends.
func closeAll(servers []*Conn, peers []net.Conn) {
	for i := range servers {
		servers[i].CloseNow()
		peers[i].Close()
	}
}
