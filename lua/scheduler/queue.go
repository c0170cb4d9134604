package scheduler

import lua "github.com/yuin/gopher-lua"

// item is one value in flight through a channel: a Lua value sent from Lua,
// or a Go value sent with SendGo (converted by the channel's conv on the VM
// goroutine when it is received).
type item struct {
	lv   lua.LValue
	gv   any
	isGo bool
}

// ring is a FIFO of items that grows on demand (never beyond what is
// actually stored, so a huge declared capacity costs nothing up front).
type ring struct {
	buf  []item
	head int
	n    int
}

func (r *ring) len() int { return r.n }

func (r *ring) push(it item) {
	if r.n == len(r.buf) {
		nb := make([]item, max(4, 2*len(r.buf)))
		for i := 0; i < r.n; i++ {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = it
	r.n++
}

func (r *ring) pop() item {
	it := r.buf[r.head]
	r.buf[r.head] = item{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return it
}

// waiter is an operation parked on a channel queue. Exactly one of the
// following describes it:
//   - a Lua coroutine blocked in receive/send (t != nil, sel == nil);
//   - one case of a blocked channel.select (sel != nil);
//   - a Go goroutine blocked in SendGo (goSend);
//   - a goroutine blocked in a receive without scheduler (notify != nil).
//
// Lua waiters are only created, matched and removed on the VM goroutine;
// all queue manipulation happens under the channel's mutex.
type waiter struct {
	prev, next *waiter
	queued     bool

	t      *task
	sel    *selectOp
	caseIx int
	val    lua.LValue // value of a Lua send

	goSend bool
	gv     any
	done   chan error // buffered(1): result of a Go send

	notify chan struct{} // buffered(1): wake-up of a plain receiver
}

// stale reports whether w belongs to a select that already completed.
func (w *waiter) stale() bool { return w.sel != nil && w.sel.done.Load() }

// item returns the value a sender waiter carries.
func (w *waiter) item() item {
	if w.goSend {
		return item{gv: w.gv, isGo: true}
	}
	return item{lv: w.val}
}

// waitq is an intrusive doubly linked FIFO of waiters.
type waitq struct {
	head, tail *waiter
}

func (q *waitq) push(w *waiter) {
	w.prev, w.next, w.queued = q.tail, nil, true
	if q.tail == nil {
		q.head = w
	} else {
		q.tail.next = w
	}
	q.tail = w
}

func (q *waitq) remove(w *waiter) {
	if !w.queued {
		return
	}
	if w.prev == nil {
		q.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		q.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
}

// peekLive drops waiters of completed selects from the front and returns
// the first live waiter, or nil.
func (q *waitq) peekLive() *waiter {
	for w := q.head; w != nil; w = q.head {
		if !w.stale() {
			return w
		}
		q.remove(w)
	}
	return nil
}

// popLive removes and returns the first live waiter, or nil.
func (q *waitq) popLive() *waiter {
	w := q.peekLive()
	if w != nil {
		q.remove(w)
	}
	return w
}

// hasLua reports whether a Lua waiter (coroutine or select case) is queued.
func (q *waitq) hasLua() bool {
	for w := q.head; w != nil; w = w.next {
		if !w.goSend && w.notify == nil && !w.stale() {
			return true
		}
	}
	return false
}

// taskQueue is a FIFO of runnable tasks (VM goroutine only).
type taskQueue struct {
	buf  []*task
	head int
	n    int
}

func (q *taskQueue) len() int { return q.n }

func (q *taskQueue) push(t *task) {
	if q.n == len(q.buf) {
		nb := make([]*task, max(8, 2*len(q.buf)))
		for i := 0; i < q.n; i++ {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = t
	q.n++
}

func (q *taskQueue) pop() *task {
	t := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return t
}

func (q *taskQueue) clear() {
	clear(q.buf)
	q.head, q.n = 0, 0
}
