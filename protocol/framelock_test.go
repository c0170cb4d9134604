package protocol

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFrameLock: the frame lock excludes, honours contexts, and loses no
// wake-up: many goroutines, some giving up on short contexts, all others
// get the lock in turn within a bounded time.
func TestFrameLock(t *testing.T) {
	c := NewConn(&loopConn{data: []byte{0}}, nil, &Options{Role: RoleServer})
	defer c.CloseNow()
	var inside, gaveUp, got atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				ctx := bg()
				var cancel context.CancelFunc = func() {}
				if (i+j)%7 == 0 {
					ctx, cancel = context.WithTimeout(bg(), time.Microsecond)
				}
				err := c.lockFrame(ctx, 0)
				cancel()
				if err != nil {
					require.ErrorIs(t, err, context.DeadlineExceeded)
					gaveUp.Add(1)
					continue
				}
				if inside.Add(1) != 1 {
					panic("two holders of the frame lock")
				}
				got.Add(1)
				inside.Add(-1)
				c.unlockFrame()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("lock waiters stuck: %d got it, %d gave up", got.Load(), gaveUp.Load())
	}
	require.Equal(t, int32(64*200), got.Load()+gaveUp.Load())
	require.True(t, c.frameLock.tryLock(), "free at the end")
	c.unlockFrame()
	require.Zero(t, c.frameLock.waiters.Load())
}
