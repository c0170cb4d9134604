package scheduler

import (
	"context"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Await is how a Lua function implemented in Go performs blocking work
// (dial, write, close...). Its body ends with
//
//	return scheduler.Await(L, work, done)
//
// work runs on another goroutine (one of a few kept for this) and must not
// touch L; its context is cancelled when the scheduler's Run ends. done
// runs later on the VM goroutine with work's result: like a lua.LGFunction
// body it pushes the Lua return values and returns their count. done
// receives the same L as Await (the waiting coroutine's thread, on top of
// its suspended call; pushing onto an L captured by a closure is therefore
// the same as pushing onto done's L), in a protected call: a Lua error it
// raises is raised in the waiting coroutine, at the call of the Go
// function. done must not block. A panic in work is re-raised as a Lua
// error in the coroutine.
//
// When L is a coroutine of a running scheduler that may yield, the
// coroutine yields, the others keep running, and it resumes with done's
// values. Otherwise (plain gopher-lua, no Run active, or a non-yieldable
// context such as a metamethod) work runs synchronously with L.Context()
// (context.Background() when nil) and done is called directly with L.
func Await(L *lua.LState, work func(ctx context.Context) any, done func(L *lua.LState, result any) int) int {
	s := From(L)
	t := s.currentTask(L)
	if t == nil {
		ctx := L.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		return done(L, work(ctx))
	}
	s.awaits++
	t.park(waitAwait, nil)
	t.awaitDone = done
	job := awaitJob{work: work, t: t}
	select {
	case s.jobs <- job: // an idle worker takes it
	default:
		s.wg.Add(1)
		s.workersStarted.Add(1)
		go s.worker(s.runCtx, job)
	}
	return L.Yield()
}

// awaitJob is the work of one Await and the coroutine waiting for it.
type awaitJob struct {
	work func(ctx context.Context) any
	t    *task
}

// maxIdleWorkers bounds the goroutines kept waiting for Await work. Keeping
// a few spares saves starting a goroutine, and growing its stack, for every
// send of a chatty script.
const maxIdleWorkers = 4

// worker runs job, then further jobs from s.jobs while it is one of at most
// maxIdleWorkers idle ones, until the Run ends (ctx is done).
func (s *Scheduler) worker(ctx context.Context, job awaitJob) {
	defer s.wg.Done()
	for {
		res, perr := runJob(ctx, job.work)
		// Counted idle before the result is posted, so that the Await the
		// result leads to usually finds this worker waiting.
		keep := s.idleWorkers.Add(1) <= maxIdleWorkers
		if !keep {
			s.idleWorkers.Add(-1)
		}
		s.post(event{kind: evAwait, t: job.t, res: res, perr: perr})
		if !keep {
			return
		}
		job = awaitJob{}
		select {
		case job = <-s.jobs:
			s.idleWorkers.Add(-1)
		case <-ctx.Done():
			s.idleWorkers.Add(-1)
			return
		}
	}
}

// runJob runs work, turning a panic into perr.
func runJob(ctx context.Context, work func(ctx context.Context) any) (res, perr any) {
	defer func() { perr = recover() }()
	return work(ctx), nil
}

// finishAwait runs the done function of a completed Await. VM goroutine
// only.
func (s *Scheduler) finishAwait(t *task) {
	if t.awaitPanic != nil {
		t.rerr = s.errorAt(t, fmt.Sprintf("await: work panicked: %v", t.awaitPanic))
		return
	}
	done, res := t.awaitDone, t.awaitRes
	s.finishOnThread(t, func(L *lua.LState) int { return done(L, res) })
}

// finishOnThread runs job, the done function of a suspended operation, on
// t's waiting thread in a protected call: its results become the values t
// resumes with, a Lua error it raises is raised at t's suspension point.
func (s *Scheduler) finishOnThread(t *task, job func(L *lua.LState) int) {
	t.rv = t.rv[:0]
	errv := s.protect(t.top().th, job, &t.rv)
	if errv != nil {
		// gopher-lua gives the message the position of the nearest Lua
		// frame: none (" ") or the bootstrap's when the operation was
		// tail-called. Use the suspension point's.
		if msg, ok := errv.(lua.LString); ok {
			if rest, cut := strings.CutPrefix(string(msg), bootPosition); cut {
				errv = s.errorAt(t, rest)
			} else if rest, cut := strings.CutPrefix(string(msg), " "); cut {
				errv = s.errorAt(t, rest)
			}
		}
		t.rerr = errv
	}
}
