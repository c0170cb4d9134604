package scheduler

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// channelTypeName is the registry name of the channel metatable.
const channelTypeName = "wslua.scheduler.channel"

// maxChannelSize bounds channel.new(size); the buffer itself grows lazily.
const maxChannelSize = 1 << 30

// Channel is a Go-style channel usable from Lua (a userdata with the
// methods send, receive, close, case_receive, case_send, len and cap, and
// the # operator) and from Go (SendGo, CloseGo).
//
// Inside Run, receive/send/select park only the calling coroutine. Without a
// running scheduler (plain gopher-lua), ch:receive() blocks the calling
// goroutine until a value or a close arrives, or until L.Context() is done
// (then it raises the context's error as a Lua error, like gopher-lua does
// for a cancelled state); a plain-mode send that cannot complete at once
// raises an error instead of blocking forever.
//
// A Channel belongs to one Lua state (and its coroutine threads); only
// SendGo, CloseGo, AddProducer and ProducerDone may be called from other
// goroutines.
type Channel struct {
	mu sync.Mutex
	s  atomic.Pointer[Scheduler]

	size   int
	buf    ring
	recvq  waitq // Lua receivers: coroutines and select cases
	sendq  waitq // senders: Lua coroutines, select cases, SendGo calls
	plainq waitq // goroutines receiving without a scheduler

	closed      bool
	luaClosed   bool // closed by ch:close()
	goClosed    bool // CloseGo was called
	pokePending bool // a poke event for this channel sits in the inbox
	implicit    bool // holds the producer reference taken by NewChannel

	timerPending bool // a time.after timer will deliver to it (VM goroutine only)

	producers atomic.Int32

	conv     func(L *lua.LState, v any) lua.LValue
	safeConv bool // conv never raises: no protected call around it
	ud       *lua.LUserData
}

// NewChannel creates a channel with the given buffer size (0 means
// unbuffered: a send completes only when a receiver takes the value) that
// Lua code and Go code can both use. It must be called on the goroutine that
// runs L (typically inside a Lua function implemented in Go). The channel is
// bound to From(L) when there is one (otherwise to the first scheduler that
// operates on it).
//
// conv turns a value sent with SendGo into a Lua value; it runs on the VM
// goroutine only (so it may build tables), when a Lua receiver takes the
// value. It may raise a Lua error, which is raised in the receiving
// coroutine. A nil conv converts nil, booleans, strings, []byte, numbers,
// errors and lua.LValue (passed through: send only immutable values such as
// LString or LNumber from other goroutines) and formats anything else with
// fmt.Sprint.
//
// Producer accounting: a channel created with a non-nil conv counts as fed
// by a live Go producer until CloseGo is called, so a coroutine waiting on it
// (to receive, or to send: CloseGo would wake it) is not reported as
// deadlocked. Use AddProducer/ProducerDone for other cases (e.g. a
// conv == nil channel fed from Go).
func NewChannel(L *lua.LState, size int, conv func(L *lua.LState, v any) lua.LValue) *Channel {
	c := newChannel(L, size, conv, From(L))
	if conv != nil {
		c.implicit = true
		c.producers.Add(1)
	}
	return c
}

// NewChannelSafe is NewChannel for a conv that never raises a Lua error
// (it only builds values): the scheduler then calls it directly rather than
// in a protected call, which saves a Lua call frame, a closure and a
// deferred recover per value received by a parked coroutine. A conv that
// raises anyway panics out of the scheduler's Run.
func NewChannelSafe(L *lua.LState, size int, conv func(L *lua.LState, v any) lua.LValue) *Channel {
	c := NewChannel(L, size, conv)
	c.safeConv = true
	return c
}

func newChannel(L *lua.LState, size int, conv func(*lua.LState, any) lua.LValue, s *Scheduler) *Channel {
	c := &Channel{size: max(size, 0), conv: conv}
	if s != nil {
		c.s.Store(s)
	}
	ud := L.NewUserData()
	ud.Value = c
	L.SetMetatable(ud, channelMetatable(L))
	c.ud = ud
	return c
}

// LValue returns the userdata that represents the channel in Lua (always
// the same value, so Lua's == works on it).
func (c *Channel) LValue() lua.LValue { return c.ud }

// AddProducer declares one more live Go producer: while the count is above
// zero, a coroutine blocked receiving from the channel keeps Run waiting
// instead of failing with a deadlock. Safe from any goroutine.
func (c *Channel) AddProducer() { c.producers.Add(1) }

// ProducerDone releases a reference taken by AddProducer. Safe from any
// goroutine; extra calls are ignored.
func (c *Channel) ProducerDone() {
	c.mu.Lock()
	c.releaseProducerLocked()
	c.mu.Unlock()
}

// releaseProducerLocked drops one producer reference. The scheduler is
// told first, so that once the VM observes the lower count the recheck
// event is already queued (see Scheduler.idle), and told again after: the
// VM may have handled the first event while the count was still up and
// gone idle waiting for an event.
func (c *Channel) releaseProducerLocked() {
	for {
		n := c.producers.Load()
		if n <= 0 {
			return
		}
		s := c.s.Load()
		if s != nil {
			s.post(event{kind: evRecheck})
		}
		if c.producers.CompareAndSwap(n, n-1) {
			if s != nil {
				s.post(event{kind: evRecheck})
			}
			return
		}
	}
}

// SendGo sends v from any goroutine. It blocks until the channel accepted
// the value (buffer space, or a receiver took it) — so a producer that
// nobody drains waits instead of buffering without bound — or until ctx is
// done (ctx.Err()), the channel is closed (ErrClosed), or the Run of the
// channel's scheduler ended (ErrStopped; SendGo returns it at once between
// two Runs).
func (c *Channel) SendGo(ctx context.Context, v any) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	s := c.s.Load()
	var stop <-chan struct{}
	if s != nil {
		stop = s.stopChan()
		select {
		case <-stop:
			c.mu.Unlock()
			return ErrStopped
		default:
		}
	}
	if c.buf.len() < c.size && c.sendq.peekLive() == nil {
		c.buf.push(item{gv: v, isGo: true})
		c.signalLocked(s)
		c.mu.Unlock()
		return nil
	}
	w := &waiter{goSend: true, gv: v, done: make(chan error, 1)}
	c.sendq.push(w)
	c.signalLocked(s)
	c.mu.Unlock()
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return c.abandon(w, ctx.Err())
	case <-stop:
		return c.abandon(w, ErrStopped)
	}
}

// abandon withdraws a Go sender that gave up waiting; if the value was
// accepted (or rejected) meanwhile, that outcome wins.
func (c *Channel) abandon(w *waiter, err error) error {
	c.mu.Lock()
	if w.queued {
		c.sendq.remove(w)
		c.mu.Unlock()
		return err
	}
	c.mu.Unlock()
	return <-w.done
}

// CloseGo closes the channel from any goroutine. Only the first call has an
// effect; it also releases the producer reference NewChannel took for a
// non-nil conv. Values already accepted are still delivered, then receivers
// get nil, false; blocked SendGo calls return ErrClosed and blocked Lua
// senders raise "send on closed channel".
func (c *Channel) CloseGo() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.goClosed {
		return
	}
	c.goClosed = true
	if !c.closed {
		c.closed = true
		c.rejectGoSendersLocked()
		c.notifyPlainLocked()
		s := c.s.Load()
		if s != nil && (c.recvq.hasLua() || c.sendq.hasLua()) {
			c.pokeLocked(s)
		}
	}
	if c.implicit {
		c.implicit = false
		c.releaseProducerLocked()
	}
}

// signalLocked tells whoever waits for values that the channel changed: the
// VM (through a poke event) when Lua receivers wait, and plain receivers.
func (c *Channel) signalLocked(s *Scheduler) {
	c.notifyPlainLocked()
	if s != nil && c.recvq.hasLua() {
		c.pokeLocked(s)
	}
}

func (c *Channel) pokeLocked(s *Scheduler) {
	if c.pokePending {
		return
	}
	if s.post(event{kind: evPoke, c: c}) {
		c.pokePending = true
	}
}

func (c *Channel) notifyPlainLocked() {
	for w := c.plainq.head; w != nil; w = w.next {
		select {
		case w.notify <- struct{}{}:
		default:
		}
	}
}

func (c *Channel) rejectGoSendersLocked() {
	for w := c.sendq.head; w != nil; {
		next := w.next
		if w.goSend {
			c.sendq.remove(w)
			w.done <- ErrClosed
		}
		w = next
	}
}

// popSenderLocked removes and returns the first live sender that does not
// belong to the select self (a select never talks to itself), or nil.
func (c *Channel) popSenderLocked(self *selectOp) *waiter {
	for w := c.sendq.head; w != nil; {
		next := w.next
		switch {
		case w.stale():
			c.sendq.remove(w)
		case self == nil || w.sel != self:
			c.sendq.remove(w)
			return w
		}
		w = next
	}
	return nil
}

// acceptSender completes a sender whose value the channel took. Lua senders
// are woken, which must happen on the VM goroutine.
func acceptSender(w *waiter) {
	if w.goSend {
		w.done <- nil
		return
	}
	wakeSend(w, "")
}

// tryRecvLocked performs a receive if one can complete now. got reports
// whether it did; ok is false when the channel is closed and drained.
func (c *Channel) tryRecvLocked(self *selectOp) (it item, ok, got bool) {
	if c.buf.len() > 0 {
		it = c.buf.pop()
		if w := c.popSenderLocked(self); w != nil {
			c.buf.push(w.item())
			acceptSender(w)
		} else {
			c.notifyPlainLocked()
		}
		return it, true, true
	}
	if w := c.popSenderLocked(self); w != nil {
		acceptSender(w)
		return w.item(), true, true
	}
	if c.closed {
		return item{lv: lua.LNil}, false, true
	}
	return item{}, false, false
}

// settleLocked matches parked Lua receivers against values and senders that
// arrived from Go, and fails Lua senders of a closed channel. VM only.
func (c *Channel) settleLocked() {
	for {
		w := c.recvq.peekLive()
		if w == nil {
			break
		}
		it, ok, got := c.tryRecvLocked(w.sel)
		if !got {
			break
		}
		c.recvq.remove(w)
		wakeRecv(w, it, ok)
	}
	if c.closed {
		for w := c.popSenderLocked(nil); w != nil; w = c.popSenderLocked(nil) {
			if w.goSend {
				w.done <- ErrClosed
			} else {
				wakeSend(w, errSendClosed)
			}
		}
	}
}

// closeLocked closes the channel from the VM goroutine.
func (c *Channel) closeLocked() {
	c.closed = true
	c.rejectGoSendersLocked()
	c.settleLocked()
	c.notifyPlainLocked()
}

// sched returns the scheduler the channel is bound to, binding it to From(L)
// on first use from a state with a scheduler.
func (c *Channel) sched(L *lua.LState) *Scheduler {
	if s := c.s.Load(); s != nil {
		return s
	}
	s := From(L)
	if s != nil && !c.s.CompareAndSwap(nil, s) {
		s = c.s.Load()
	}
	return s
}

// toLua converts a received item on the VM goroutine (raising Lua errors
// from conv on L).
func (c *Channel) toLua(L *lua.LState, it item) lua.LValue {
	if !it.isGo {
		if it.lv == nil {
			return lua.LNil
		}
		return it.lv
	}
	if c.conv == nil {
		return defaultConv(it.gv)
	}
	if v := c.conv(L, it.gv); v != nil {
		return v
	}
	return lua.LNil
}

// defaultConv converts simple Go values to Lua values.
func defaultConv(v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case lua.LValue:
		if x == nil {
			return lua.LNil
		}
		return x
	case bool:
		return lua.LBool(x)
	case string:
		return lua.LString(x)
	case []byte:
		return lua.LString(x)
	case int:
		return lua.LNumber(x)
	case int8:
		return lua.LNumber(x)
	case int16:
		return lua.LNumber(x)
	case int32:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case uint:
		return lua.LNumber(x)
	case uint8:
		return lua.LNumber(x)
	case uint16:
		return lua.LNumber(x)
	case uint32:
		return lua.LNumber(x)
	case uint64:
		return lua.LNumber(x)
	case float32:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	case error:
		return lua.LString(x.Error())
	case fmt.Stringer:
		return lua.LString(x.String())
	default:
		return lua.LString(fmt.Sprint(v))
	}
}

const errSendClosed = "send on closed channel"

// channelMetatable returns (creating once per state) the channel metatable.
func channelMetatable(L *lua.LState) *lua.LTable {
	if mt, ok := L.GetTypeMetatable(channelTypeName).(*lua.LTable); ok {
		return mt
	}
	mt := L.NewTypeMetatable(channelTypeName)
	methods := L.NewTable()
	L.SetFuncs(methods, map[string]lua.LGFunction{
		"send":         chSend,
		"receive":      chReceive,
		"close":        chClose,
		"case_receive": chCaseReceive,
		"case_send":    chCaseSend,
		"len":          chLen,
		"cap":          chCap,
	})
	mt.RawSetString("__index", methods)
	mt.RawSetString("__len", L.NewFunction(chLenOp))
	mt.RawSetString("__tostring", L.NewFunction(chToString))
	mt.RawSetString("__metatable", lua.LString("channel"))
	return mt
}

func checkChannel(L *lua.LState, n int) *Channel {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if c, ok := ud.Value.(*Channel); ok {
			return c
		}
	}
	L.ArgError(n, "channel expected, got "+L.Get(n).Type().String())
	return nil
}

// chReceive implements ch:receive() -> value, ok.
func chReceive(L *lua.LState) int {
	c := checkChannel(L, 1)
	maxArgs(L, 1, 1, "ch:receive()", "to wait with a timeout use channel.select with a time.after(d):case_receive() case")
	s := c.sched(L)
	t := blockingTask(s, L, "channel receive")
	c.mu.Lock()
	if it, ok, got := c.tryRecvLocked(nil); got {
		c.mu.Unlock()
		L.Push(c.toLua(L, it))
		L.Push(lua.LBool(ok))
		return 2
	}
	if t == nil {
		c.mu.Unlock()
		v, ok, _ := c.plainReceive(L, -1)
		L.Push(v)
		L.Push(lua.LBool(ok))
		return 2
	}
	t.w = waiter{t: t}
	c.recvq.push(&t.w)
	c.mu.Unlock()
	t.park(waitRecv, c)
	return L.Yield()
}

// plainReceive blocks the calling goroutine (no scheduler is running)
// until a value arrives, the channel is closed and drained (ok false) or
// the timeout (if not negative) elapses (timedOut true).
func (c *Channel) plainReceive(L *lua.LState, timeout time.Duration) (v lua.LValue, ok, timedOut bool) {
	var done <-chan struct{}
	ctx := L.Context()
	if ctx != nil {
		done = ctx.Done()
	}
	var expired <-chan time.Time
	if timeout >= 0 {
		tm := time.NewTimer(timeout)
		defer tm.Stop()
		expired = tm.C
	}
	w := &waiter{notify: make(chan struct{}, 1)}
	for {
		c.mu.Lock()
		it, ok, got := c.tryRecvLocked(nil)
		if got {
			c.plainq.remove(w)
			c.mu.Unlock()
			return c.toLua(L, it), ok, false
		}
		if !w.queued {
			c.plainq.push(w)
		}
		c.mu.Unlock()
		select {
		case <-w.notify:
		case <-expired:
			c.mu.Lock()
			c.plainq.remove(w)
			c.mu.Unlock()
			return lua.LNil, false, true
		case <-done:
			c.mu.Lock()
			c.plainq.remove(w)
			c.mu.Unlock()
			L.RaiseError("channel receive: %v", ctx.Err())
		}
	}
}

// chSend implements ch:send(v).
func chSend(L *lua.LState) int {
	c := checkChannel(L, 1)
	maxArgs(L, 1, 2, "ch:send(v)", "one value per send: send a table for several")
	v := L.Get(2)
	s := c.sched(L)
	t := blockingTask(s, L, "channel send")
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		L.RaiseError(errSendClosed)
	}
	if w := c.recvq.popLive(); w != nil {
		c.mu.Unlock()
		wakeRecv(w, item{lv: v}, true)
		return 0
	}
	if c.buf.len() < c.size {
		c.buf.push(item{lv: v})
		c.notifyPlainLocked()
		c.mu.Unlock()
		return 0
	}
	if t == nil {
		c.mu.Unlock()
		L.RaiseError("channel send would block forever: no scheduler is running (use scheduler.Run)")
	}
	t.w = waiter{t: t, val: v}
	c.sendq.push(&t.w)
	c.mu.Unlock()
	t.park(waitSend, c)
	return L.Yield()
}

// chClose implements ch:close(): closing a channel that ch:close() already
// closed raises "close of closed channel"; closing a channel that Go closed
// (CloseGo) is a no-op.
func chClose(L *lua.LState) int {
	c := checkChannel(L, 1)
	maxArgs(L, 1, 1, "ch:close()", "")
	c.mu.Lock()
	if c.closed {
		byLua := c.luaClosed
		c.mu.Unlock()
		if byLua {
			L.RaiseError("close of closed channel")
		}
		return 0
	}
	c.luaClosed = true
	c.closeLocked()
	c.mu.Unlock()
	return 0
}

func chLen(L *lua.LState) int {
	c := checkChannel(L, 1)
	maxArgs(L, 1, 1, "ch:len()", "")
	return pushLen(L, c)
}

// chLenOp is the # operator (gopher-lua passes the operand twice).
func chLenOp(L *lua.LState) int {
	return pushLen(L, checkChannel(L, 1))
}

func pushLen(L *lua.LState, c *Channel) int {
	c.mu.Lock()
	n := c.buf.len()
	c.mu.Unlock()
	L.Push(lua.LNumber(n))
	return 1
}

func chCap(L *lua.LState) int {
	c := checkChannel(L, 1)
	maxArgs(L, 1, 1, "ch:cap()", "")
	L.Push(lua.LNumber(c.size))
	return 1
}

func chToString(L *lua.LState) int {
	c := checkChannel(L, 1)
	L.Push(lua.LString(fmt.Sprintf("channel(%d): %p", c.size, c)))
	return 1
}

// luaChannelNew implements channel.new([size]).
func (s *Scheduler) luaChannelNew(L *lua.LState) int {
	maxArgs(L, 0, 1, "channel.new([size])", "")
	size := 0
	if v := L.Get(1); v != lua.LNil {
		n, ok := v.(lua.LNumber)
		if !ok || n != lua.LNumber(math.Trunc(float64(n))) || n < 0 || n > maxChannelSize {
			L.ArgError(1, fmt.Sprintf("channel size must be an integer between 0 and %d", maxChannelSize))
		}
		size = int(n)
	}
	L.Push(newChannel(L, size, nil, s).ud)
	return 1
}
