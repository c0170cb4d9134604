package protocol

import (
	"sync"
	"testing"
	"time"
)

// testWait bounds every wait of a test: a regression that blocks fails
// with a message naming what it waited for, not with the package timeout.
const testWait = 30 * time.Second

// recv receives from ch within testWait.
func recv[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testWait):
		t.Fatalf("%s: nothing after %v", what, testWait)
		panic("unreachable")
	}
}

// waitGroup waits for wg within testWait (within, in stuck_test.go, bounds
// a call).
func waitGroup(t testing.TB, what string, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); wg.Wait() }()
	recv(t, what, done)
}

// recv2 receives from ch within testWait, reporting whether ch is open.
func recv2[T any](t testing.TB, what string, ch <-chan T) (T, bool) {
	t.Helper()
	select {
	case v, ok := <-ch:
		return v, ok
	case <-time.After(testWait):
		t.Fatalf("%s: nothing after %v", what, testWait)
		panic("unreachable")
	}
}
