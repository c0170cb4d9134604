package protocol

import (
	"bufio"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wslua/wslua/framing"
)

// Hostile peers against a server Conn with default options. Each scenario
// must end with the connection closed and every goroutine it started
// returned, within a few seconds (the default CloseTimeout and
// ControlTimeout are 5 s), having cost bounded memory. The scenarios run in
// parallel; the heap is measured once all of them are under way.

// hostileBudget bounds each scenario's wall time.
const hostileBudget = 10 * time.Second

// scenario is one hostile peer: setup starts it and returns once the
// hostility is under way; finish ends it and checks the outcome.
type scenario struct {
	name  string
	setup func(t *testing.T) (finish func())
}

// readAll runs a read loop on c and returns its final error through the
// channel.
func readAll(c *Conn) <-chan error {
	errc := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.Read(bg()); err != nil {
				errc <- err
				return
			}
		}
	}()
	return errc
}

func TestHostilePeers(t *testing.T) {
	base := goleak.IgnoreCurrent()
	big := make([]byte, 16<<20) // the large writes' payload, allocated before the baseline
	var scenarios = []scenario{
		{name: "header then silence", setup: func(t *testing.T) func() {
			// 100 connections each announce an 8 MiB frame and go silent.
			h := framing.Header{Fin: true, Opcode: framing.OpBinary, Length: 8 << 20, Masked: true}
			conns := make([]*Conn, 100)
			reads := make([]<-chan error, 100)
			for i := range conns {
				c, p := withRaw(t, RoleServer, nil)
				p.write(h.Append(nil))
				conns[i], reads[i] = c, readAll(c)
			}
			return func() {
				var wg sync.WaitGroup
				for _, c := range conns {
					wg.Add(1)
					go func() { defer wg.Done(); _ = c.Close(StatusNormalClosure, "") }()
				}
				wg.Wait()
				for _, r := range reads {
					err := waitErr(t, r, time.Second, "a read loop after Close")
					require.ErrorIs(t, err, ErrClosed)
					require.True(t, IsNormalClose(err), "our own close: %v", err)
				}
			}
		}},
		{name: "close then stop reading", setup: func(t *testing.T) func() {
			c, p := withRaw(t, RoleServer, nil)
			reads := readAll(c)
			werr := blockedWrite16(c, big)
			p.send(framing.OpClose, true, closePayload(StatusGoingAway, "bye"))
			return func() {
				err := waitErr(t, reads, hostileBudget, "the read loop")
				require.Equal(t, StatusGoingAway, CloseStatus(err), "the peer's close: %v", err)
				require.True(t, IsNormalClose(err))
				require.Error(t, waitErr(t, werr, time.Second, "the stuck write"))
			}
		}},
		{name: "ping then stop reading", setup: func(t *testing.T) func() {
			c, p := withRaw(t, RoleServer, nil)
			reads := readAll(c)
			werr := blockedWrite16(c, big)
			p.send(framing.OpPing, true, []byte("hello?"))
			return func() {
				err := waitErr(t, reads, hostileBudget, "the read loop")
				require.ErrorIs(t, err, errControlTimeout, "the pong could not be sent: %v", err)
				require.False(t, IsNormalClose(err))
				require.Error(t, waitErr(t, werr, time.Second, "the stuck write"))
			}
		}},
		{name: "slow reader during a large write", setup: func(t *testing.T) func() {
			c, p := withRaw(t, RoleServer, nil)
			reads := readAll(c)
			msg := big[:4<<20]
			werr := make(chan error, 1)
			go func() { werr <- c.Write(bg(), MessageBinary, msg) }()
			p.send(framing.OpPing, true, []byte("during"))
			peer := make(chan error, 1)
			go func() { peer <- slowPeer(p, len(msg)) }()
			return func() {
				require.NoError(t, waitErr(t, werr, hostileBudget, "the large write to a slow reader"))
				require.NoError(t, c.Close(StatusNormalClosure, ""))
				require.NoError(t, waitErr(t, peer, hostileBudget, "the slow peer"))
				err := waitErr(t, reads, time.Second, "the read loop")
				require.True(t, IsNormalClose(err), "%v", err)
			}
		}},
	}

	before := heapInUse()
	finishes := make([]func(), len(scenarios))
	for i, s := range scenarios {
		finishes[i] = s.setup(t)
	}
	time.Sleep(300 * time.Millisecond) // every scenario under way; not an assertion
	grown := int64(heapInUse()) - int64(before)
	t.Logf("heap with every hostile peer under way: %.1f MiB", float64(grown)/(1<<20))
	if !raceEnabled {
		require.Less(t, grown, int64(48<<20), "memory held by the hostile peers")
	}

	var wg sync.WaitGroup
	start := time.Now()
	for i, s := range scenarios {
		wg.Add(1)
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			defer wg.Done()
			finishes[i]()
			t.Logf("ended after %v", time.Since(start).Round(time.Millisecond))
		})
	}
	t.Cleanup(func() {
		wg.Wait()
		// Every goroutine the scenarios started is gone (bounded wait).
		deadline := time.Now().Add(5 * time.Second)
		for {
			err := goleak.Find(base)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("goroutines left behind: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// blockedWrite16 starts a 16 MiB Write to a peer that does not read.
func blockedWrite16(c *Conn, big []byte) <-chan error {
	errc := make(chan error, 1)
	go func() { errc <- c.Write(bg(), MessageBinary, big) }()
	time.Sleep(100 * time.Millisecond) // the socket buffers fill; not an assertion
	return errc
}

// slowPeer reads the n-byte data frame in 64 KiB pieces with pauses, then
// the frames that follow, answers the server's close frame and reads to
// the end of the stream.
func slowPeer(p *rawPeer, n int) error {
	br := bufio.NewReaderSize(slowReader{p.nc}, 64<<10)
	for {
		_ = p.nc.SetReadDeadline(time.Now().Add(hostileBudget))
		h, err := framing.ReadHeader(br)
		if err != nil {
			return err
		}
		if _, err := io.CopyN(io.Discard, br, h.Length); err != nil {
			return err
		}
		if h.Opcode == framing.OpBinary && h.Length != int64(n) {
			return errors.New("the data frame has the wrong length")
		}
		if h.Opcode == framing.OpClose {
			p.send(framing.OpClose, true, closePayload(StatusNormalClosure, ""))
			_, err := io.Copy(io.Discard, br)
			return err
		}
	}
}

// slowReader reads at most 64 KiB at a time, pausing before each read.
type slowReader struct{ r io.Reader }

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(5 * time.Millisecond)
	return s.r.Read(p[:min(len(p), 64<<10)])
}
