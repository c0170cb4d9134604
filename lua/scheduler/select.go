package scheduler

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"
)

// caseTypeName is the registry name of the metatable of select cases.
const caseTypeName = "wslua.scheduler.case"

// selCase is one case of a channel.select: a receive from c, or a send of
// val to c.
type selCase struct {
	c    *Channel
	send bool
	val  lua.LValue
}

// selectOp is a channel.select parked on all its channels.
type selectOp struct {
	t       *task
	cases   []selCase
	waiters []waiter
	done    atomic.Bool // a case completed (or the task went away); read by Go senders

	idx    int    // index of the completed case
	it     item   // received item (receive case)
	ok     bool   // receive: false when closed; send: true
	errMsg string // send case on a channel that got closed

	// finish, when set, pushes the results instead of the select table
	// (Channel.Receive); it runs like an Await done function.
	finish func(L *lua.LState, idx int, v lua.LValue, ok bool) int
}

// unqueue removes the select's remaining waiters from their channels.
func (sel *selectOp) unqueue() {
	for i := range sel.waiters {
		w := &sel.waiters[i]
		c := sel.cases[i].c
		c.mu.Lock()
		if sel.cases[i].send {
			c.sendq.remove(w)
		} else {
			c.recvq.remove(w)
		}
		c.mu.Unlock()
	}
}

func caseMetatable(L *lua.LState) *lua.LTable {
	if mt, ok := L.GetTypeMetatable(caseTypeName).(*lua.LTable); ok {
		return mt
	}
	mt := L.NewTypeMetatable(caseTypeName)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		if ud, ok := L.Get(1).(*lua.LUserData); ok {
			if cs, ok := ud.Value.(*selCase); ok && cs.send {
				L.Push(lua.LString("channel case: send"))
				return 1
			}
		}
		L.Push(lua.LString("channel case: receive"))
		return 1
	}))
	mt.RawSetString("__metatable", lua.LString("channel case"))
	return mt
}

func newCase(L *lua.LState, cs *selCase) int {
	ud := L.NewUserData()
	ud.Value = cs
	L.SetMetatable(ud, caseMetatable(L))
	L.Push(ud)
	return 1
}

// chCaseReceive implements ch:case_receive().
func chCaseReceive(L *lua.LState) int {
	c := checkChannel(L, 1)
	maxArgs(L, 1, 1, "ch:case_receive()", "")
	return newCase(L, &selCase{c: c})
}

// chCaseSend implements ch:case_send(v).
func chCaseSend(L *lua.LState) int {
	c := checkChannel(L, 1)
	maxArgs(L, 1, 2, "ch:case_send(v)", "one value per send: send a table for several")
	return newCase(L, &selCase{c: c, send: true, val: L.Get(2)})
}

func checkCase(L *lua.LState, v lua.LValue, n int) selCase {
	if ud, ok := v.(*lua.LUserData); ok {
		if cs, ok := ud.Value.(*selCase); ok {
			return *cs
		}
	}
	L.RaiseError("channel.select: case #%d is a %s, not a channel case (use ch:case_receive() or ch:case_send(v))", n, v.Type().String())
	return selCase{}
}

// luaSelect implements channel.select.
//
//	channel.select{ c1:case_receive(), c2:case_send(v), default = true }
//	channel.select(c1:case_receive(), c2:case_send(v))
//
// It returns a table {channel = ch, value = v, ok = bool, index = i} for the
// completed case (i is its position in the list; for a send case value is
// the value sent and ok is true; for a receive case ok is false when the
// channel is closed and drained). When several cases are ready one is
// chosen at random. With a truthy default field and no case ready it
// returns {default = true} at once; when default is a function it is
// called first (without arguments, as a nested call that must not block)
// and its first result is stored in the table's value field.
func (s *Scheduler) luaSelect(L *lua.LState) int {
	var cases []selCase
	var dflt lua.LValue = lua.LNil
	if tbl, ok := L.Get(1).(*lua.LTable); ok && L.GetTop() == 1 {
		for i := 1; ; i++ {
			v := tbl.RawGetInt(i)
			if v == lua.LNil {
				break
			}
			cases = append(cases, checkCase(L, v, i))
		}
		dflt = tbl.RawGetString("default")
		checkSelectKeys(L, tbl, len(cases))
	} else {
		for i := 1; i <= L.GetTop(); i++ {
			cases = append(cases, checkCase(L, L.Get(i), i))
		}
	}
	hasDefault := lua.LVAsBool(dflt)
	if len(cases) == 0 && !hasDefault {
		L.RaiseError("channel.select: no cases")
	}
	var t *task
	if !hasDefault {
		t = blockingTask(s, L, "channel.select")
	}
	if n := s.trySelect(L, cases); n >= 0 {
		return n
	}
	if hasDefault {
		res := L.CreateTable(0, 2)
		res.RawSetString("default", lua.LTrue)
		if fn, ok := dflt.(*lua.LFunction); ok {
			L.Push(fn)
			L.Call(0, 1)
			res.RawSetString("value", L.Get(-1))
			L.Pop(1)
		}
		L.Push(res)
		return 1
	}
	if t == nil {
		return s.plainSelect(L, cases)
	}
	return s.parkSelect(L, t, &selectOp{t: t, cases: cases})
}

// parkSelect queues sel's waiters on their channels and suspends t.
func (s *Scheduler) parkSelect(L *lua.LState, t *task, sel *selectOp) int {
	cases := sel.cases
	sel.waiters = make([]waiter, len(cases))
	for i := range cases {
		w := &sel.waiters[i]
		*w = waiter{sel: sel, caseIx: i, val: cases[i].val}
		c := cases[i].c
		c.mu.Lock()
		if cases[i].send {
			c.sendq.push(w)
		} else {
			c.recvq.push(w)
			// A Go producer may have sent (or closed) since the caller
			// found nothing ready, when no Lua receiver waited to be
			// woken: have the VM settle the channel once parked.
			if c.buf.len() > 0 || c.closed || c.sendq.peekLive() != nil {
				c.pokeLocked(s)
			}
		}
		c.mu.Unlock()
	}
	t.park(waitSelect, nil)
	t.sel = sel
	return L.Yield()
}

// trySelect performs one ready case, in random order, and pushes the
// result table; it returns the number of results, or -1 when no case is
// ready.
func (s *Scheduler) trySelect(L *lua.LState, cases []selCase) int {
	order := s.order[:0]
	for i := range cases {
		order = append(order, i)
	}
	rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	s.order = order
	for _, i := range order {
		cs := &cases[i]
		c := cs.c
		c.mu.Lock()
		if cs.send {
			if c.closed {
				c.mu.Unlock()
				L.RaiseError(errSendClosed)
			}
			if w := c.recvq.popLive(); w != nil {
				c.mu.Unlock()
				wakeRecv(w, item{lv: cs.val}, true)
				return pushSelectResult(L, c, i, cs.val, true)
			}
			if c.buf.len() < c.size {
				c.buf.push(item{lv: cs.val})
				c.notifyPlainLocked()
				c.mu.Unlock()
				return pushSelectResult(L, c, i, cs.val, true)
			}
		} else if it, ok, got := c.tryRecvLocked(nil); got {
			c.mu.Unlock()
			return pushSelectResult(L, c, i, c.toLua(L, it), ok)
		}
		c.mu.Unlock()
	}
	return -1
}

func pushSelectResult(L *lua.LState, c *Channel, idx int, v lua.LValue, ok bool) int {
	L.Push(selectResult(L, c, idx, v, ok))
	return 1
}

func selectResult(L *lua.LState, c *Channel, idx int, v lua.LValue, ok bool) *lua.LTable {
	res := L.CreateTable(0, 4)
	res.RawSetString("channel", c.ud)
	res.RawSetString("value", v)
	res.RawSetString("ok", lua.LBool(ok))
	res.RawSetString("index", lua.LNumber(idx+1))
	return res
}

// finishSelect builds the resume value of a select that completed while
// parked. VM goroutine only.
func (s *Scheduler) finishSelect(t *task) {
	sel := t.sel
	sel.unqueue()
	cs := sel.cases[sel.idx]
	if sel.errMsg != "" {
		t.rerr = s.errorAt(t, sel.errMsg)
		return
	}
	v := cs.val
	if !cs.send {
		lv, errv := s.convert(cs.c, sel.it)
		if errv != nil {
			t.rerr = errv
			return
		}
		v = lv
	}
	if sel.finish != nil {
		s.finishOnThread(t, func(L *lua.LState) int { return sel.finish(L, sel.idx, v, sel.ok) })
		return
	}
	t.rv = append(t.rv[:0], selectResult(s.vm, cs.c, sel.idx, v, sel.ok))
}

// plainSelect blocks the calling goroutine until a case is ready (no
// scheduler is running), honouring L.Context().
func (s *Scheduler) plainSelect(L *lua.LState, cases []selCase) int {
	var done <-chan struct{}
	ctx := L.Context()
	if ctx != nil {
		done = ctx.Done()
	}
	notify := make(chan struct{}, 1)
	ws := make([]waiter, len(cases))
	unregister := func() {
		for i := range ws {
			c := cases[i].c
			c.mu.Lock()
			c.plainq.remove(&ws[i])
			c.mu.Unlock()
		}
	}
	for i := range ws {
		ws[i].notify = notify
		c := cases[i].c
		c.mu.Lock()
		c.plainq.push(&ws[i])
		c.mu.Unlock()
	}
	for {
		// Registered first, tried second: nothing that happens in between
		// goes unnoticed.
		if n := s.trySelectPlain(L, cases, unregister); n >= 0 {
			return n
		}
		select {
		case <-notify:
		case <-done:
			unregister()
			L.RaiseError("channel.select: %v", ctx.Err())
		}
	}
}

func (s *Scheduler) trySelectPlain(L *lua.LState, cases []selCase, unregister func()) (n int) {
	defer func() {
		if n >= 0 {
			unregister()
		}
	}()
	return s.trySelect(L, cases)
}

func describeKey(k lua.LValue) string {
	switch k := k.(type) {
	case lua.LString:
		return fmt.Sprintf("%q", string(k))
	case lua.LNumber:
		return k.String()
	default:
		return "of type " + k.Type().String()
	}
}

// checkSelectKeys raises an error for a key of the select table that is
// neither a case position (1..n) nor "default": a misspelt default, a
// timeout field or a case after a hole would otherwise be ignored.
func checkSelectKeys(L *lua.LState, tbl *lua.LTable, n int) {
	tbl.ForEach(func(k, _ lua.LValue) {
		if k == lua.LString("default") {
			return
		}
		if i, ok := k.(lua.LNumber); ok && float64(i) == float64(int(i)) && int(i) >= 1 && int(i) <= n {
			return
		}
		L.RaiseError("channel.select: unexpected key %s in the case table (want cases at 1..%d without holes, and default; "+
			"for a timeout add time.after(d):case_receive())", describeKey(k), n)
	})
}
