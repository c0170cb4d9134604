package scheduler

import (
	"fmt"
	"math"
	"time"
	"weak"

	lua "github.com/yuin/gopher-lua"
)

// ParseDuration converts a Lua duration: a number is a count of
// milliseconds (fractions allowed), a string is a Go duration such as "5s"
// or "250ms". NaN, infinities, out-of-range numbers, malformed strings and
// other types are errors that name the problem. Negative durations are
// returned as they are (time.sleep and time.after treat them as zero).
func ParseDuration(v lua.LValue) (time.Duration, error) {
	switch x := v.(type) {
	case lua.LNumber:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("invalid duration %v: not a finite number of milliseconds", f)
		}
		ns := f * float64(time.Millisecond)
		if ns >= math.MaxInt64 || ns <= math.MinInt64 {
			return 0, fmt.Errorf("invalid duration %v ms: out of range", f)
		}
		return time.Duration(ns), nil
	case lua.LString:
		d, err := time.ParseDuration(string(x))
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: want a number of milliseconds or a duration such as \"250ms\" or \"5s\"", string(x))
		}
		return d, nil
	default:
		return 0, fmt.Errorf("invalid duration: want a number of milliseconds or a duration string, got %s", v.Type().String())
	}
}

// CheckDuration returns argument n of the running Lua function as a
// duration (see ParseDuration), raising a Lua argument error otherwise.
func CheckDuration(L *lua.LState, n int) time.Duration {
	d, err := ParseDuration(L.Get(n))
	if err != nil {
		L.ArgError(n, err.Error())
	}
	return d
}

// timerEntry is a pending time.sleep wake-up (t) or time.after delivery
// (ch). The channel is held weakly: a script that drops a time.after
// channel (e.g. the losing timeout of a select in a loop) lets it be
// collected, and the entry is dropped by compaction or when it fires.
type timerEntry struct {
	when time.Time
	seq  uint64
	t    *task
	ch   weak.Pointer[Channel]
}

// minCompact is the heap size below which dead entries are never swept.
const minCompact = 256

// timerHeap is a binary min-heap of timer entries ordered by (when, seq).
type timerHeap []timerEntry

func (h timerHeap) less(i, j int) bool {
	if c := h[i].when.Compare(h[j].when); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}

func (h *timerHeap) push(e timerEntry) {
	*h = append(*h, e)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if !a.less(i, p) {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

func (h *timerHeap) pop() timerEntry {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a[last] = timerEntry{}
	a = a[:last]
	a.down(0)
	*h = a
	return top
}

// down restores the heap order below index i.
func (h timerHeap) down(i int) {
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h.less(l, m) {
			m = l
		}
		if r < len(h) && h.less(r, m) {
			m = r
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

func (s *Scheduler) addTimer(d time.Duration, t *task, ch *Channel) {
	s.timerSeq++
	e := timerEntry{when: time.Now().Add(max(d, 0)), seq: s.timerSeq, t: t}
	if ch != nil {
		ch.timerPending = true
		e.ch = weak.Make(ch)
	}
	s.timers.push(e)
	if len(s.timers) >= max(s.compactAt, minCompact) {
		s.compactTimers()
	}
}

// compactTimers drops the entries of collected time.after channels.
func (s *Scheduler) compactTimers() {
	live := s.timers[:0]
	for _, e := range s.timers {
		if e.t != nil || e.ch.Value() != nil {
			live = append(live, e)
		}
	}
	clear(s.timers[len(live):])
	s.timers = live
	for i := len(live)/2 - 1; i >= 0; i-- {
		live.down(i)
	}
	s.compactAt = 2 * len(live)
}

// fireTimers runs every timer due at now. VM goroutine only.
func (s *Scheduler) fireTimers(now time.Time) {
	for len(s.timers) > 0 && !s.timers[0].when.After(now) {
		e := s.timers.pop()
		switch {
		case e.t != nil:
			if e.t.state == stBlocked && e.t.wait == waitSleep {
				s.ready(e.t)
			}
		default:
			if c := e.ch.Value(); c != nil {
				c.timerPending = false
				c.offerVM(lua.LNumber(float64(now.UnixNano()) / 1e9))
			}
		}
	}
}

// offerVM delivers v without blocking (dropped when the buffer is full or
// the channel closed), on the VM goroutine.
func (c *Channel) offerVM(v lua.LValue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if w := c.recvq.popLive(); w != nil {
		wakeRecv(w, item{lv: v}, true)
		return
	}
	if c.buf.len() < c.size {
		c.buf.push(item{lv: v})
		c.notifyPlainLocked()
	}
}

// offerGo is offerVM for other goroutines (plain mode timers).
func (c *Channel) offerGo(v lua.LValue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.buf.len() >= c.size {
		return
	}
	c.buf.push(item{lv: v})
	c.signalLocked(c.s.Load())
}

// luaSleep implements time.sleep(d): the calling coroutine sleeps, the
// others run. Without a running scheduler the goroutine sleeps (a done
// L.Context() raises its error).
func (s *Scheduler) luaSleep(L *lua.LState) int {
	d := CheckDuration(L, 1)
	maxArgs(L, 0, 1, "time.sleep(d)", "")
	t := blockingTask(s, L, "time.sleep")
	if t == nil {
		if d <= 0 {
			return 0
		}
		var done <-chan struct{}
		ctx := L.Context()
		if ctx != nil {
			done = ctx.Done()
		}
		tm := time.NewTimer(d)
		defer tm.Stop()
		select {
		case <-tm.C:
		case <-done:
			L.RaiseError("time.sleep: %v", ctx.Err())
		}
		return 0
	}
	if d <= 0 {
		t.wait = waitYield
		return L.Yield()
	}
	s.addTimer(d, t, nil)
	t.park(waitSleep, nil)
	return L.Yield()
}

// luaAfter implements time.after(d): a channel (buffer 1) that receives the
// current time, as Unix seconds with a fraction, once d has elapsed. The
// channel is never closed (like Go's time.After).
func (s *Scheduler) luaAfter(L *lua.LState) int {
	d := CheckDuration(L, 1)
	maxArgs(L, 0, 1, "time.after(d)", "")
	c := newChannel(L, 1, nil, s)
	if s.running {
		s.addTimer(d, nil, c)
	} else {
		time.AfterFunc(max(d, 0), func() {
			c.offerGo(lua.LNumber(float64(time.Now().UnixNano()) / 1e9))
		})
	}
	L.Push(c.ud)
	return 1
}
