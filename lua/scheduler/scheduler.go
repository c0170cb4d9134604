package scheduler

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// registryKey is where Install stores the scheduler in the Lua registry.
const registryKey = "wslua.scheduler"

// maxPooledThreads bounds the number of finished coroutine threads kept for
// reuse (a gopher-lua thread costs tens of kilobytes to create).
const maxPooledThreads = 64

// Scheduler is a single-threaded cooperative scheduler for the coroutines
// of one gopher-lua state. Only the goroutine executing Run (the VM
// goroutine) touches the Lua state; other goroutines talk to it through
// channels (SendGo, CloseGo), Await and RegisterCloser.
type Scheduler struct {
	vm *lua.LState // the state Run drives (resumes coroutines, runs done and conv)

	// Fields below mu are shared with other goroutines.
	mu        sync.Mutex
	inbox     []event
	spare     []event
	stopped   bool
	runDone   chan struct{} // closed when a Run ends
	runCtx    context.Context
	closers   map[uint64]io.Closer
	closerSeq uint64
	wake      chan struct{} // buffered(1): inbox became non-empty

	jobs        chan awaitJob // Await work for idle workers (unbuffered)
	idleWorkers atomic.Int32  // workers waiting on jobs (or about to)
	// workersStarted counts the Await workers started (for tests).
	workersStarted atomic.Int64

	// Fields below are owned by the VM goroutine.
	running   bool
	cancel    context.CancelFunc
	current   *task
	runq      taskQueue
	live      int
	liveHead  *task
	liveTail  *task
	nextID    uint64
	timers    timerHeap
	timerSeq  uint64
	compactAt int
	timer     *time.Timer
	awaits    int
	failure   error
	wg        sync.WaitGroup
	pool      []*lua.LState
	order     []int

	boot       *lua.LFunction // bootstrap: see bootSource
	trampoline *lua.LFunction // runs pjob in a protected call on L
	pjob       func(*lua.LState) int
	rootPanic  func(*lua.LState)
	xpPanic    func(*lua.LState)

	origPcall  lua.LGFunction
	origXpcall lua.LGFunction
	origYield  lua.LGFunction
}

type eventKind uint8

const (
	evPoke    eventKind = iota + 1 // a channel changed on the Go side
	evRecheck                      // a producer went away: re-evaluate deadlock
	evAwait                        // an Await work function finished
)

// event is a message from another goroutine to the VM goroutine.
type event struct {
	kind eventKind
	c    *Channel
	t    *task
	res  any
	perr any // non-nil when the work function panicked
}

// From returns the scheduler attached to L (the main state or any
// coroutine thread of it), or nil when L is plain gopher-lua without the
// scheduler. It must be called on the goroutine that runs L.
func From(L *lua.LState) *Scheduler {
	if L == nil || L.G == nil || L.G.Registry == nil {
		return nil
	}
	if ud, ok := L.G.Registry.RawGetString(registryKey).(*lua.LUserData); ok {
		if s, ok := ud.Value.(*Scheduler); ok {
			return s
		}
	}
	return nil
}

// Install attaches a Scheduler to L (so From(L) finds it) and installs the
// Lua API: coroutine.spawn, the channel table (replacing gopher-lua's own
// channel module), the time table (time.sleep, time.after), and yield-aware
// coroutine.yield, pcall and xpcall. It returns the existing scheduler when
// L already has one. Run calls it when needed.
func Install(L *lua.LState) *Scheduler {
	if s := From(L); s != nil {
		return s
	}
	s := &Scheduler{
		vm:      L,
		wake:    make(chan struct{}, 1),
		jobs:    make(chan awaitJob),
		runDone: make(chan struct{}),
		closers: make(map[uint64]io.Closer),
	}
	if L.G.MainThread == nil {
		// gopher-lua decides whether a call is nested by looking at
		// MainThread; make sure it is set even with SkipOpenLibs.
		L.G.MainThread = L
		L.G.CurrentThread = L
	}
	s.rootPanic = s.onRootPanic
	s.xpPanic = s.onXpcallPanic
	s.trampoline = L.NewFunction(func(L *lua.LState) int { return s.pjob(L) })
	ud := L.NewUserData()
	ud.Value = s
	L.G.Registry.RawSetString(registryKey, ud)
	s.installAPI(L)
	return s
}

// bootSource is the bootstrap every thread of a task starts in: arm()
// installs the error hook of the thread, then the thread's function is
// called and fin() keeps its results. The call is not a tail call: the
// bootstrap frame stays at the bottom of the thread while the function
// runs, so a call that suspends always leaves a frame to resume (a tail
// call of a suspending Go function would empty the thread), and fin counts
// the results exactly (gopher-lua's Resume reports no results as one nil).
const bootSource = "local arm, fin = ...\nreturn function(callee, ...) arm() fin(callee(...)) end\n"

// bootChunkName names the bootstrap chunk in positions.
const bootChunkName = "[scheduler]"

func (s *Scheduler) installAPI(L *lua.LState) {
	chunk, err := L.Load(strings.NewReader(bootSource), bootChunkName)
	if err != nil {
		panic("scheduler: bootstrap does not compile: " + err.Error())
	}
	L.Push(chunk)
	L.Push(L.NewFunction(s.luaArm))
	L.Push(L.NewFunction(s.luaFin))
	L.Call(2, 1)
	s.boot = L.Get(-1).(*lua.LFunction)
	L.Pop(1)

	co, ok := L.GetGlobal("coroutine").(*lua.LTable)
	if !ok {
		co = L.NewTable()
		L.SetGlobal("coroutine", co)
	}
	if f, ok := co.RawGetString("yield").(*lua.LFunction); ok && f.IsG {
		s.origYield = f.GFunction
		co.RawSetString("yield", L.NewFunction(s.luaYield))
	}
	co.RawSetString("spawn", L.NewFunction(s.luaSpawn))
	if f, ok := L.GetGlobal("pcall").(*lua.LFunction); ok && f.IsG {
		s.origPcall = f.GFunction
		L.SetGlobal("pcall", L.NewFunction(s.luaPcall))
	}
	if f, ok := L.GetGlobal("xpcall").(*lua.LFunction); ok && f.IsG {
		s.origXpcall = f.GFunction
		L.SetGlobal("xpcall", L.NewFunction(s.luaXpcall))
	}

	channelMetatable(L)
	caseMetatable(L)
	ch := L.NewTable()
	ch.RawSetString("new", L.NewFunction(s.luaChannelNew))
	ch.RawSetString("select", L.NewFunction(s.luaSelect))
	L.SetGlobal("channel", ch)
	if pkg, ok := L.GetGlobal("package").(*lua.LTable); ok {
		if loaded, ok := pkg.RawGetString("loaded").(*lua.LTable); ok {
			loaded.RawSetString("channel", ch)
		}
	}

	tm, ok := L.GetGlobal("time").(*lua.LTable)
	if !ok {
		tm = L.NewTable()
		L.SetGlobal("time", tm)
	}
	tm.RawSetString("sleep", L.NewFunction(s.luaSleep))
	tm.RawSetString("after", L.NewFunction(s.luaAfter))
}

// Run executes fn (a compiled chunk) as the main coroutine of L's
// scheduler (installing it if needed) and drives all coroutines until every
// one has finished. It returns nil when all finished, a *CoroutineError when
// a coroutine raised an uncaught Lua error, a *DeadlockError when every live
// coroutine is blocked and nothing could wake any of them, or ctx.Err() when
// ctx is done. In every case, before returning, Run stops the remaining
// coroutines, cancels the context given to Await work, closes every
// registered io.Closer and waits for its Await goroutines.
//
// Run sets L's context to one derived from ctx for its duration (so a
// coroutine stuck in a busy loop is interrupted) and restores the previous
// one. It must not be called from Lua code running on L.
func Run(ctx context.Context, L *lua.LState, fn *lua.LFunction) error {
	if L == nil || fn == nil {
		return errors.New("scheduler: Run needs a Lua state and a function")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return Install(L).run(ctx, L, fn)
}

// RunString compiles source (named "<string>" in messages) and runs it
// with Run.
func RunString(ctx context.Context, L *lua.LState, source string) error {
	fn, err := L.LoadString(source)
	if err != nil {
		return err
	}
	return Run(ctx, L, fn)
}

// RunFile compiles the Lua file at path and runs it with Run.
func RunFile(ctx context.Context, L *lua.LState, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	fn, err := L.Load(f, path)
	f.Close()
	if err != nil {
		return err
	}
	return Run(ctx, L, fn)
}

// Context returns the context of the current Run (cancelled when it ends),
// or a cancelled context when no Run is active. Safe from any goroutine.
func (s *Scheduler) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runCtx == nil || s.stopped {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	return s.runCtx
}

// Spawn starts fn as a new coroutine with the given arguments, like
// coroutine.spawn. It must be called on the VM goroutine while Run is
// active (e.g. from a Lua function implemented in Go).
func (s *Scheduler) Spawn(fn *lua.LFunction, args ...lua.LValue) error {
	if !s.running {
		return errors.New("scheduler: Spawn outside Run")
	}
	if fn == nil {
		return errors.New("scheduler: Spawn needs a function")
	}
	s.spawn(fn, slices.Clone(args), false)
	return nil
}

// RegisterCloser ties c to the script's life: when the current Run (or the
// next one, if none is active) ends — normally, by error or by cancellation
// — every closer still registered is closed, most recent first. The
// returned function unregisters c (without closing it); it is idempotent.
// Safe from any goroutine.
func (s *Scheduler) RegisterCloser(c io.Closer) (unregister func()) {
	s.mu.Lock()
	s.closerSeq++
	id := s.closerSeq
	s.closers[id] = c
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.closers, id)
		s.mu.Unlock()
	}
}

// stopChan returns the channel closed when the current Run ends.
func (s *Scheduler) stopChan() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runDone
}

// post queues an event for the VM goroutine; it reports false when no Run
// accepts events any more.
func (s *Scheduler) post(ev event) bool {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return false
	}
	s.inbox = append(s.inbox, ev)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return true
}

func (s *Scheduler) run(ctx context.Context, L *lua.LState, fn *lua.LFunction) error {
	if s.running {
		return ErrRunning
	}
	prev := L.Context()
	s.begin(ctx, L)
	s.spawn(fn, nil, true)
	err := s.loop(ctx)
	s.end()
	if prev != nil {
		L.SetContext(prev)
	} else {
		L.RemoveContext()
	}
	return err
}

func (s *Scheduler) begin(ctx context.Context, L *lua.LState) {
	runCtx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	select {
	case <-s.runDone:
		s.runDone = make(chan struct{})
	default:
	}
	s.stopped = false
	s.runCtx = runCtx
	s.mu.Unlock()
	s.vm = L
	s.cancel = cancel
	s.running = true
	s.failure = nil
	s.nextID = 0
	L.SetContext(runCtx)
	if s.timer == nil {
		s.timer = time.NewTimer(time.Hour)
	}
	s.timer.Stop()
}

// loop drives the coroutines until all finished, one failed, a deadlock,
// or ctx is done.
func (s *Scheduler) loop(ctx context.Context) error {
	done := ctx.Done()
	for {
		select {
		case <-done:
			return ctx.Err()
		default:
		}
		s.drainInbox()
		if len(s.timers) > 0 {
			s.fireTimers(time.Now())
		}
		for n := s.runq.len(); n > 0 && s.failure == nil; n-- {
			s.runTask(s.runq.pop())
		}
		if s.failure != nil {
			if err := ctx.Err(); err != nil {
				return err
			}
			return s.failure
		}
		if s.live == 0 {
			return nil
		}
		if s.runq.len() > 0 {
			continue
		}
		if err := s.idle(ctx); err != nil {
			return err
		}
	}
}

// idle waits for something to happen when no coroutine is ready, or
// reports a deadlock when nothing can happen any more.
func (s *Scheduler) idle(ctx context.Context) error {
	if s.inboxLen() > 0 {
		return nil
	}
	if s.awaits == 0 && !s.wakeable() {
		// The producer check runs before this second look at the inbox:
		// a producer posts its event before it drops its reference.
		if s.inboxLen() == 0 {
			return s.deadlock()
		}
		return nil
	}
	var timerC <-chan time.Time
	if len(s.timers) > 0 {
		d := time.Until(s.timers[0].when)
		if d <= 0 {
			return nil
		}
		s.timer.Reset(d)
		timerC = s.timer.C
	}
	select {
	case <-s.wake:
	case <-timerC:
	case <-ctx.Done():
		s.timer.Stop()
		return ctx.Err()
	}
	s.timer.Stop()
	return nil
}

func (s *Scheduler) inboxLen() int {
	s.mu.Lock()
	n := len(s.inbox)
	s.mu.Unlock()
	return n
}

// drainInbox processes the events posted by other goroutines.
func (s *Scheduler) drainInbox() {
	s.mu.Lock()
	evs := s.inbox
	s.inbox = s.spare[:0]
	s.mu.Unlock()
	for i := range evs {
		ev := &evs[i]
		switch ev.kind {
		case evPoke:
			c := ev.c
			c.mu.Lock()
			c.pokePending = false
			c.settleLocked()
			c.mu.Unlock()
		case evAwait:
			s.awaits--
			if t := ev.t; t.state == stBlocked && t.wait == waitAwait {
				t.awaitRes, t.awaitPanic = ev.res, ev.perr
				s.ready(t)
			}
		case evRecheck:
		}
		*ev = event{}
	}
	s.spare = evs[:0]
}

// wakeable reports whether something other than Lua code may still wake a
// blocked coroutine: a sleep timer, a time.after timer of a channel it
// receives from, or a live Go producer of a channel it waits on.
func (s *Scheduler) wakeable() bool {
	for t := s.liveHead; t != nil; t = t.nextLive {
		if t.state != stBlocked {
			continue
		}
		switch t.wait {
		case waitSleep:
			return true
		case waitRecv:
			if c := t.waitCh; c.timerPending || c.producers.Load() > 0 {
				return true
			}
		case waitSend:
			if t.waitCh.producers.Load() > 0 {
				return true
			}
		case waitSelect:
			for i := range t.sel.cases {
				cs := &t.sel.cases[i]
				if (!cs.send && cs.c.timerPending) || cs.c.producers.Load() > 0 {
					return true
				}
			}
		}
	}
	return false
}

func (s *Scheduler) deadlock() error {
	e := &DeadlockError{}
	for t := s.liveHead; t != nil; t = t.nextLive {
		b := Blocked{Coroutine: t.name(), Op: t.wait.String()}
		b.Where = t.where()
		e.Blocked = append(e.Blocked, b)
	}
	return e
}

// end stops everything the Run started; afterwards nothing of the Run
// touches the Lua state or runs on another goroutine.
func (s *Scheduler) end() {
	s.mu.Lock()
	s.stopped = true
	close(s.runDone)
	inbox := s.inbox
	s.inbox = nil
	ids := make([]uint64, 0, len(s.closers))
	for id := range s.closers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	closers := make([]io.Closer, 0, len(ids))
	for _, id := range ids {
		closers = append(closers, s.closers[id])
		delete(s.closers, id)
	}
	s.mu.Unlock()

	s.cancel()
	for i := len(closers) - 1; i >= 0; i-- {
		_ = closers[i].Close()
	}
	s.wg.Wait()

	for _, ev := range inbox {
		if ev.kind == evPoke {
			ev.c.mu.Lock()
			ev.c.pokePending = false
			ev.c.mu.Unlock()
		}
	}
	for t := s.liveHead; t != nil; {
		next := t.nextLive
		s.detach(t)
		t = next
	}
	s.liveHead, s.liveTail, s.live = nil, nil, 0
	s.runq.clear()
	for _, e := range s.timers {
		if c := e.ch.Value(); c != nil {
			c.timerPending = false
		}
	}
	clear(s.timers)
	s.timers = s.timers[:0]
	s.compactAt = 0
	s.timer.Stop()
	s.awaits = 0
	s.current = nil
	s.running = false
}
