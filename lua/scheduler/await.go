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
// work runs on a fresh goroutine and must not touch L; its context is
// cancelled when the scheduler's Run ends. done runs later on the VM
// goroutine with work's result: like a lua.LGFunction body it pushes the Lua
// return values and returns their count. done receives the scheduler's main
// state (not the coroutine's thread), in a protected call: a Lua error it
// raises is raised in the waiting coroutine, at the call of the Go function.
// done must not block. A panic in work is re-raised as a Lua error in the
// coroutine.
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
	ctx := s.runCtx
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var res, perr any
		func() {
			defer func() { perr = recover() }()
			res = work(ctx)
		}()
		s.post(event{kind: evAwait, t: t, res: res, perr: perr})
	}()
	return L.Yield()
}

// finishAwait runs the done function of a completed Await. VM goroutine
// only.
func (s *Scheduler) finishAwait(t *task) {
	if t.awaitPanic != nil {
		t.rerr = s.errorAt(t, fmt.Sprintf("await: work panicked: %v", t.awaitPanic))
		return
	}
	done, res := t.awaitDone, t.awaitRes
	t.rv = t.rv[:0]
	errv := s.protect(func(L *lua.LState) int { return done(L, res) }, &t.rv)
	if errv != nil {
		// The main state runs no Lua code, so gopher-lua found no position
		// for the message: use the coroutine's.
		if msg, ok := errv.(lua.LString); ok && strings.HasPrefix(string(msg), " ") {
			errv = s.errorAt(t, strings.TrimPrefix(string(msg), " "))
		}
		t.rerr = errv
	}
}
