package scheduler

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

type taskState uint8

const (
	stReady taskState = iota
	stRunning
	stBlocked
	stDone
)

// waitKind says what a parked coroutine waits for.
type waitKind uint8

const (
	waitNone   waitKind = iota
	waitYield           // coroutine.yield / time.sleep(0): runnable again at once
	waitRecv            // ch:receive()
	waitSend            // ch:send(v)
	waitSelect          // channel.select
	waitSleep           // time.sleep(d)
	waitAwait           // Await
)

func (k waitKind) String() string {
	switch k {
	case waitYield:
		return "coroutine.yield"
	case waitRecv:
		return "channel receive"
	case waitSend:
		return "channel send"
	case waitSelect:
		return "channel.select"
	case waitSleep:
		return "time.sleep"
	case waitAwait:
		return "await"
	default:
		return "nothing"
	}
}

// frame is one level of a task's thread stack. A task normally runs on a
// single thread; a yieldable pcall/xpcall runs its function on a child
// thread stacked on top, so the child can block like any coroutine.
type frame struct {
	th       *lua.LState
	entry    *lua.LFunction // function the thread starts with
	handler  lua.LValue     // xpcall message handler, or nil
	started  bool
	returned bool // fin ran: the function returned, its results are in the task's rv
}

// task is one scheduled coroutine (coroutine.spawn or the main chunk).
type task struct {
	s        *Scheduler
	id       uint64
	fn       lua.LValue
	main     bool
	state    taskState
	frames   []frame
	frameBuf [2]frame

	rv   []lua.LValue // values to resume the top thread with
	rerr lua.LValue   // error to raise in the top thread instead

	wait       waitKind
	w          waiter // receive/send waiter (not a select)
	waitCh     *Channel
	sel        *selectOp
	dlv        item
	dlvOK      bool
	dlvErr     string
	awaitDone  func(*lua.LState, any) int
	awaitRes   any
	awaitPanic any

	callPending bool // a yieldable pcall asked for a child thread
	callEntry   *lua.LFunction
	callHandler lua.LValue

	trace string

	prevLive, nextLive *task
}

func (t *task) top() *frame { return &t.frames[len(t.frames)-1] }

func (t *task) name() string {
	if t.main {
		return "main chunk"
	}
	return fmt.Sprintf("coroutine #%d (%s)", t.id, describeFunc(t.fn))
}

func describeFunc(v lua.LValue) string {
	fn, ok := v.(*lua.LFunction)
	switch {
	case !ok:
		return v.Type().String()
	case fn.IsG || fn.Proto == nil:
		return "Go function"
	default:
		return fmt.Sprintf("function at %s:%d", fn.Proto.SourceName, fn.Proto.LineDefined)
	}
}

// park records what the running task is about to block on.
func (t *task) park(k waitKind, c *Channel) {
	t.wait = k
	t.waitCh = c
}

// spawn creates a task for fn(args...) and queues it.
func (s *Scheduler) spawn(fn *lua.LFunction, args []lua.LValue, main bool) *task {
	t := &task{s: s, fn: fn, main: main}
	if !main {
		s.nextID++
		t.id = s.nextID
	}
	t.frames = t.frameBuf[:1]
	t.frames[0] = frame{th: s.thread(main), entry: s.boot}
	t.rv = make([]lua.LValue, 0, len(args)+2)
	t.rv = append(t.rv, fn)
	t.rv = append(t.rv, args...)
	if s.liveTail == nil {
		s.liveHead = t
	} else {
		s.liveTail.nextLive = t
		t.prevLive = s.liveTail
	}
	s.liveTail = t
	s.live++
	s.ready(t)
	return t
}

func (s *Scheduler) ready(t *task) {
	t.state = stReady
	s.runq.push(t)
}

func (s *Scheduler) unlink(t *task) {
	t.state = stDone
	if t.prevLive == nil {
		s.liveHead = t.nextLive
	} else {
		t.prevLive.nextLive = t.nextLive
	}
	if t.nextLive == nil {
		s.liveTail = t.prevLive
	} else {
		t.nextLive.prevLive = t.prevLive
	}
	t.prevLive, t.nextLive = nil, nil
	s.live--
}

// thread returns a thread for a task: for the main chunk's task (main), one
// with the options of the state; for a spawned coroutine, a pooled one when
// possible, else a new one with the smaller options of coroutineOptions.
func (s *Scheduler) thread(main bool) *lua.LState {
	if n := len(s.pool); n > 0 && !main {
		th := s.pool[n-1]
		s.pool[n-1] = nil
		s.pool = s.pool[:n-1]
		th.Dead = false
		th.SetContext(s.runCtx) // the VM goroutine is the only writer of runCtx
		return th
	}
	opts := s.vm.Options
	if !main {
		s.vm.Options = coroutineOptions(opts)
	}
	th, cancel := s.vm.NewThread() // NewThread copies s.vm.Options
	s.vm.Options = opts
	if cancel != nil {
		cancel() // drop the child context; the thread uses the run context
	}
	th.SetContext(s.runCtx)
	return th
}

// CoroutineCallStackSize is the deepest call nesting (Lua and Go frames) of
// a spawned coroutine, and of the protected calls it makes, when the
// state's own Options.CallStackSize is larger: the main chunk keeps the
// state's. gopher-lua reserves memory for a thread's whole call stack up
// front (one pointer per 8 frames with MinimizeStackMemory, a whole frame
// per frame without), so with the 12,000 frames of the wslua command's state
// every parked coroutine would hold 12 KB that it almost never uses: a
// script holding thousands of connections, a coroutine each, pays that per
// connection. 1,000 nested calls cost 1 KB.
const CoroutineCallStackSize = 1000

// coroutineRegistrySize is the initial size, in values, of a spawned
// coroutine's value stack (16 bytes each), which grows on demand up to the
// state's limit, by coroutineRegistryGrowStep values beyond what is needed
// at a time (a state's own step, 4,096 in the wslua command, would turn the
// first growth of a small coroutine into 64 KB).
const (
	coroutineRegistrySize     = 64
	coroutineRegistryGrowStep = 256
)

// coroutineOptions returns the options of a spawned coroutine's threads,
// given the state's: the call stack grows in segments (MinimizeStackMemory)
// up to CoroutineCallStackSize frames at most, and the value stack starts
// at coroutineRegistrySize values (at most the state's initial size) and
// grows in steps of at most coroutineRegistryGrowStep up to the state's
// limit (its fixed size, when the state's does not grow).
func coroutineOptions(o lua.Options) lua.Options {
	if o.CallStackSize <= 0 {
		o.CallStackSize = lua.CallStackSize
	}
	if o.RegistrySize <= 0 {
		o.RegistrySize = lua.RegistrySize
	}
	o.CallStackSize = min(o.CallStackSize, CoroutineCallStackSize)
	o.MinimizeStackMemory = true
	if o.RegistryMaxSize < o.RegistrySize {
		o.RegistryMaxSize = o.RegistrySize // a fixed stack: same limit, grown on demand
		if o.RegistryGrowStep <= 0 {
			o.RegistryGrowStep = lua.RegistryGrowStep
		}
	}
	o.RegistrySize = min(o.RegistrySize, coroutineRegistrySize)
	o.RegistryGrowStep = min(o.RegistryGrowStep, coroutineRegistryGrowStep)
	return o
}

// release returns a thread that ran to completion to the pool, unless its
// value stack grew (gopher-lua never shrinks it: a pooled thread would keep
// the memory of one large unpack or deep recursion for good).
func (s *Scheduler) release(th *lua.LState, clean bool) {
	if clean && len(s.pool) < maxPooledThreads && threadIdle(th) && registryCap(th) <= th.Options.RegistrySize {
		th.Dead = false
		s.pool = append(s.pool, th)
	}
}

// runTask runs t until it blocks, yields, finishes or fails.
func (s *Scheduler) runTask(t *task) {
	s.current = t
	t.state = stRunning
	s.prepare(t)
	vals, errv := t.rv, t.rerr
	t.rerr = nil
	for {
		fr := t.top()
		if errv != nil {
			// An error raised at the suspension point of the top thread
			// (a failed operation or a failing Await done function).
			if len(t.frames) == 1 {
				s.fail(t, errv, traceback(fr.th))
				break
			}
			s.popFrame(t, false)
			vals = append(t.rv[:0], lua.LFalse, errv)
			errv = nil
			continue
		}
		t.trace = ""
		var (
			st  lua.ResumeState
			err error
			ret []lua.LValue
		)
		if !fr.started {
			fr.started = true
			st, err, ret = s.vm.Resume(fr.th, fr.entry, vals...)
		} else {
			if n := callSiteResults(fr.th); n >= 0 {
				vals = fitResults(vals, n)
			}
			st, err, ret = s.vm.Resume(fr.th, nil, vals...)
		}
		if st == lua.ResumeError {
			t.wait, t.callPending = waitNone, false
			ev := errorValue(err)
			if len(t.frames) == 1 {
				ev = fixBootPosition(ev, nil)
				tb := t.trace
				if tb == "" {
					tb = traceback(fr.th)
				}
				s.fail(t, ev, tb)
				break
			}
			s.popFrame(t, false)
			vals = append(t.rv[:0], lua.LFalse, fixBootPosition(ev, t.top()))
			continue
		}
		if st == lua.ResumeOK {
			// The thread's function returned. The bootstrap keeps its frame
			// below every suspension, so nothing can be pending here.
			t.wait, t.callPending = waitNone, false
			if len(t.frames) == 1 {
				s.finish(t)
				break
			}
			if !fr.returned {
				t.rv = append(t.rv[:0], ret...) // cannot happen: fin always runs
			}
			s.popFrame(t, true)
			vals = prependTrue(t, t.rv)
			continue
		}
		if t.callPending {
			t.callPending = false
			t.frames = append(t.frames, frame{th: s.thread(t.main), entry: t.callEntry, handler: t.callHandler})
			t.callEntry, t.callHandler = nil, nil
			vals = t.rv
			continue
		}
		if t.wait == waitNone || t.wait == waitYield {
			// A plain yield: run again after the others.
			t.wait = waitYield
			s.ready(t)
			break
		}
		t.state = stBlocked
		break
	}
	s.current = nil
}

// bootPosition is the position gopher-lua gives to errors raised by a Go
// function that the bootstrap tail-called (it reports the nearest Lua
// frame, which is the bootstrap's).
const bootPosition = bootChunkName + ":2: "

// fixBootPosition replaces the bootstrap's position in an error message by
// the position of the protected call (parent), as gopher-lua's own pcall
// would report it, or drops it for a coroutine's entry function.
func fixBootPosition(ev lua.LValue, parent *frame) lua.LValue {
	msg, ok := ev.(lua.LString)
	if !ok || !strings.HasPrefix(string(msg), bootPosition) {
		return ev
	}
	rest := strings.TrimPrefix(string(msg), bootPosition)
	if parent != nil {
		if loc := location(parent.th); loc != "" {
			return lua.LString(loc + ": " + rest)
		}
	}
	return lua.LString(rest)
}

func prependTrue(t *task, vals []lua.LValue) []lua.LValue {
	vals = append(vals, nil)
	copy(vals[1:], vals)
	vals[0] = lua.LTrue
	t.rv = vals
	return vals
}

// prepare turns what woke t into the values (or error) its top thread is
// resumed with.
func (s *Scheduler) prepare(t *task) {
	k := t.wait
	t.wait = waitNone
	switch k {
	case waitNone:
		return // first run: t.rv holds the start arguments
	case waitYield, waitSleep:
		t.rv = t.rv[:0]
	case waitRecv:
		c := t.waitCh
		lv, errv := s.convert(c, t.dlv)
		if errv != nil {
			t.rerr = errv
		} else {
			t.rv = append(t.rv[:0], lv, lua.LBool(t.dlvOK))
		}
	case waitSend:
		t.rv = t.rv[:0]
		if t.dlvErr != "" {
			t.rerr = s.errorAt(t, t.dlvErr)
		}
	case waitSelect:
		s.finishSelect(t)
	case waitAwait:
		s.finishAwait(t)
	}
	t.waitCh, t.sel, t.dlv, t.dlvOK, t.dlvErr = nil, nil, item{}, false, ""
	t.awaitDone, t.awaitRes, t.awaitPanic = nil, nil, nil
}

// errorAt builds an error value for t's suspension point: "src:line: msg".
func (s *Scheduler) errorAt(t *task, msg string) lua.LValue {
	if loc := t.where(); loc != "" {
		return lua.LString(loc + ": " + msg)
	}
	return lua.LString(msg)
}

// where returns the "source:line" of the call t is suspended in. When the
// thread's function tail-called the operation (its frame is gone, only the
// bootstrap's is left), it is the position of the protected call below
// (pcall, xpcall), or "" on the task's root thread.
func (t *task) where() string {
	for i := len(t.frames) - 1; i >= 0; i-- {
		if loc := location(t.frames[i].th); loc != "" {
			return loc
		}
	}
	return ""
}

// fitResults pads vals with nil or truncates it to n values, as gopher-lua
// does for a Go function's results at a call site expecting n of them.
func fitResults(vals []lua.LValue, n int) []lua.LValue {
	if len(vals) > n {
		return vals[:n]
	}
	for len(vals) < n {
		vals = append(vals, lua.LNil)
	}
	return vals
}

// convert turns a received item into a Lua value in a protected call (conv
// may raise); it returns the error value when conv failed.
func (s *Scheduler) convert(c *Channel, it item) (lua.LValue, lua.LValue) {
	if !it.isGo {
		if it.lv == nil {
			return lua.LNil, nil
		}
		return it.lv, nil
	}
	if c.safeConv {
		return c.toLua(s.vm, it), nil
	}
	var out lua.LValue = lua.LNil
	errv := s.protect(s.vm, func(L *lua.LState) int {
		out = c.toLua(L, it)
		return 0
	}, nil)
	return out, errv
}

// protect runs job as a Go function in a protected call on L: the main
// state, or a suspended coroutine thread (the call is made on top of the
// thread's suspended frames and leaves them as they were). When into is
// non-nil the job's results are appended to it. It returns the Lua error
// value, or nil.
func (s *Scheduler) protect(L *lua.LState, job func(*lua.LState) int, into *[]lua.LValue) lua.LValue {
	top := L.GetTop()
	s.pjob = job
	L.Push(s.trampoline)
	err := L.PCall(0, lua.MultRet, nil)
	s.pjob = nil
	if err != nil {
		L.SetTop(top)
		return errorValue(err)
	}
	if into != nil {
		for i := top + 1; i <= L.GetTop(); i++ {
			*into = append(*into, L.Get(i))
		}
	}
	L.SetTop(top)
	return nil
}

// popFrame discards the top (child) thread of t.
func (s *Scheduler) popFrame(t *task, clean bool) {
	fr := t.top()
	s.release(fr.th, clean)
	*fr = frame{}
	t.frames = t.frames[:len(t.frames)-1]
}

func (s *Scheduler) finish(t *task) {
	s.release(t.frames[0].th, true)
	t.frames[0] = frame{}
	t.frames = t.frames[:0]
	t.rv = nil
	s.unlink(t)
}

func (s *Scheduler) fail(t *task, errv lua.LValue, tb string) {
	if s.failure == nil {
		s.failure = &CoroutineError{Coroutine: t.name(), Message: errorString(s.vm, errv), Traceback: tb}
	}
	for i := range t.frames {
		t.frames[i] = frame{}
	}
	t.frames = t.frames[:0]
	s.unlink(t)
}

// detach removes a task that will never run again from every queue.
func (s *Scheduler) detach(t *task) {
	switch t.wait {
	case waitRecv, waitSend:
		if c := t.waitCh; c != nil {
			c.mu.Lock()
			if t.wait == waitRecv {
				c.recvq.remove(&t.w)
			} else {
				c.sendq.remove(&t.w)
			}
			c.mu.Unlock()
		}
	case waitSelect:
		if t.sel != nil {
			t.sel.done.Store(true)
			t.sel.unqueue()
		}
	}
	for i := range t.frames {
		t.frames[i] = frame{}
	}
	t.frames = nil
	t.state = stDone
	t.prevLive, t.nextLive = nil, nil
}

// wakeRecv completes a parked Lua receiver (coroutine or select case) with
// a received item. VM goroutine only.
func wakeRecv(w *waiter, it item, ok bool) {
	if sel := w.sel; sel != nil {
		sel.idx, sel.it, sel.ok = w.caseIx, it, ok
		sel.done.Store(true)
		sel.t.s.ready(sel.t)
		return
	}
	t := w.t
	t.dlv, t.dlvOK = it, ok
	t.s.ready(t)
}

// wakeSend completes a parked Lua sender; errMsg is non-empty when the send
// failed. VM goroutine only.
func wakeSend(w *waiter, errMsg string) {
	if sel := w.sel; sel != nil {
		sel.idx, sel.ok, sel.errMsg = w.caseIx, errMsg == "", errMsg
		sel.done.Store(true)
		sel.t.s.ready(sel.t)
		return
	}
	t := w.t
	t.dlvErr = errMsg
	t.s.ready(t)
}

// currentTask returns the task whose top thread is L when L may yield now,
// or nil.
func (s *Scheduler) currentTask(L *lua.LState) *task {
	if s == nil || !s.running {
		return nil
	}
	t := s.current
	if t == nil || len(t.frames) == 0 || t.top().th != L || !yieldableFrames(L) {
		return nil
	}
	return t
}

// blockingTask decides how an operation that may block runs when called
// from L: it returns the task to park, or nil when no scheduler is running
// (plain mode: block the goroutine). With a running scheduler it raises a
// Lua error when L cannot yield.
func blockingTask(s *Scheduler, L *lua.LState, op string) *task {
	if s == nil || !s.running {
		return nil
	}
	if t := s.currentTask(L); t != nil {
		return t
	}
	L.RaiseError("%s: blocking call from a non-yieldable context "+
		"(a metamethod, a for-in iterator, a Go callback such as table.sort, "+
		"or a coroutine started with coroutine.create/wrap); use coroutine.spawn", op)
	return nil
}

// luaArm is called by the bootstrap on the new thread: it installs the
// error hook that records the traceback (root thread) or runs the xpcall
// message handler (xpcall child thread).
func (s *Scheduler) luaArm(L *lua.LState) int {
	t := s.current
	if t == nil || len(t.frames) == 0 || t.top().th != L {
		return 0
	}
	switch {
	case len(t.frames) == 1:
		L.Panic = s.rootPanic
	case t.top().handler != nil:
		L.Panic = s.xpPanic
	}
	return 0
}

// luaFin is called by the bootstrap with the results of the thread's
// function: it keeps them, with their exact count, in the task's rv for
// runTask.
func (s *Scheduler) luaFin(L *lua.LState) int {
	t := s.current
	if t == nil || len(t.frames) == 0 || t.top().th != L {
		return 0
	}
	n := L.GetTop()
	t.rv = t.rv[:0]
	for i := 1; i <= n; i++ {
		t.rv = append(t.rv, L.Get(i))
	}
	t.top().returned = true
	return 0
}

// onRootPanic runs when an error is raised on a task's root thread, before
// the stack unwinds: it records the traceback, then raises like gopher-lua.
func (s *Scheduler) onRootPanic(L *lua.LState) {
	errv := L.Get(-1)
	if t := s.current; t != nil && len(t.frames) > 0 && t.top().th == L {
		t.trace = traceback(L)
	}
	panic(&lua.ApiError{Type: lua.ApiErrorRun, Object: errv})
}

// onXpcallPanic runs the xpcall message handler at the point of the error.
func (s *Scheduler) onXpcallPanic(L *lua.LState) {
	errv := L.Get(-1)
	if t := s.current; t != nil && len(t.frames) > 0 && t.top().th == L && t.top().handler != nil {
		L.Push(t.top().handler)
		L.Push(errv)
		if err := L.PCall(1, 1, nil); err != nil {
			errv = errorValue(err)
		} else {
			errv = L.Get(-1)
			L.Pop(1)
		}
	}
	panic(&lua.ApiError{Type: lua.ApiErrorRun, Object: errv})
}

// luaSpawn implements coroutine.spawn(fn, ...): fn runs later as a new
// coroutine; it returns nothing.
func (s *Scheduler) luaSpawn(L *lua.LState) int {
	fn := L.CheckFunction(1)
	if !s.running {
		L.RaiseError("coroutine.spawn: no scheduler is running (run the script with scheduler.Run)")
	}
	var args []lua.LValue
	if n := L.GetTop(); n > 1 {
		args = make([]lua.LValue, 0, n-1)
		for i := 2; i <= n; i++ {
			args = append(args, L.Get(i))
		}
	}
	s.spawn(fn, args, false)
	return 0
}

// luaYield implements coroutine.yield: in a scheduled coroutine it lets the
// other coroutines run and returns nothing (values raise an error: nothing
// would receive them); in a coroutine created with coroutine.create/wrap it
// behaves as usual.
func (s *Scheduler) luaYield(L *lua.LState) int {
	if s.running && s.current != nil && len(s.current.frames) > 0 && s.current.top().th == L {
		maxArgs(L, 0, 0, "coroutine.yield()", "in a coroutine.spawn coroutine nothing receives the values: use a channel")
		t := blockingTask(s, L, "coroutine.yield")
		t.wait = waitYield
		return L.Yield()
	}
	return s.origYield(L)
}

// luaPcall implements a pcall whose function may block: inside a scheduled
// coroutine the function runs on a child thread of the coroutine.
// Elsewhere it is gopher-lua's pcall.
func (s *Scheduler) luaPcall(L *lua.LState) int {
	t := s.currentTask(L)
	if t == nil {
		return s.origPcall(L)
	}
	L.CheckAny(1)
	f := L.Get(1)
	if f.Type() != lua.LTFunction && L.GetMetaField(f, "__call").Type() != lua.LTFunction {
		L.Push(lua.LFalse)
		L.Push(lua.LString("attempt to call a " + f.Type().String() + " value"))
		return 2
	}
	n := L.GetTop()
	t.rv = append(t.rv[:0], f)
	for i := 2; i <= n; i++ {
		t.rv = append(t.rv, L.Get(i))
	}
	t.callPending, t.callEntry, t.callHandler = true, s.boot, nil
	return L.Yield()
}

// luaXpcall implements xpcall(f, handler) like luaPcall; the handler runs
// at the point of the error, before the child thread unwinds.
func (s *Scheduler) luaXpcall(L *lua.LState) int {
	t := s.currentTask(L)
	if t == nil {
		return s.origXpcall(L)
	}
	f := L.CheckFunction(1)
	h := L.CheckFunction(2)
	t.rv = append(t.rv[:0], f)
	t.callEntry, t.callHandler, t.callPending = s.boot, h, true
	return L.Yield()
}
