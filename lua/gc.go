package lua

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"

	glua "github.com/yuin/gopher-lua"
)

// collectgarbage is Lua 5.1's collectgarbage([opt [, arg]]) over Go's
// collector (gopher-lua's ignores its arguments and returns nothing, so
// collectgarbage("count") gave nil). Lua values are Go values: the options
// act on the whole process's Go heap.
//
//   - "collect" (the default): a full collection, after which the freed
//     memory is returned to the operating system (debug.FreeOSMemory), as a
//     script that measures its resident memory expects; returns 0.
//   - "count": the Go heap's live objects, in kilobytes (a number with a
//     fraction, as Lua 5.1's).
//   - "step": a full collection (Go's collector has no steps); returns
//     true, a cycle having finished.
//   - "stop", "restart": stop and restart automatic collection
//     (debug.SetGCPercent(-1), then the previous setting); return 0.
//   - "setpause": Lua's pause is Go's GOGC plus 100 (200, Lua's default,
//     waits for the heap to double: GOGC 100); sets it and returns the
//     previous pause.
//   - "setstepmul": Go's collector paces itself; the value is kept and the
//     previous one (200 at first) returned, with no other effect.
func collectgarbage(L *glua.LState) int {
	opt := L.OptString(1, "collect")
	switch opt {
	case "collect":
		debug.FreeOSMemory()
		L.Push(glua.LNumber(0))
	case "count":
		L.Push(glua.LNumber(float64(liveHeapBytes()) / 1024))
	case "step":
		debug.FreeOSMemory()
		L.Push(glua.LTrue)
	case "stop":
		gcSettings.stop()
		L.Push(glua.LNumber(0))
	case "restart":
		gcSettings.restart()
		L.Push(glua.LNumber(0))
	case "setpause":
		L.Push(glua.LNumber(gcSettings.setPause(L.OptInt(2, 0))))
	case "setstepmul":
		L.Push(glua.LNumber(gcSettings.setStepMul(L.OptInt(2, 0))))
	default:
		L.RaiseError("bad argument #1 to 'collectgarbage' (invalid option '%s')", opt)
	}
	return 1
}

// gcSettings holds what collectgarbage changed: the collector is the
// process's, shared by every state.
var gcSettings gcState

type gcState struct {
	mu      sync.Mutex
	stopped bool
	percent int // GOGC while stopped, to restore
	stepMul int // setstepmul's value; 0 means Lua's default, 200
}

func (g *gcState) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.stopped {
		g.percent = debug.SetGCPercent(-1)
		g.stopped = true
	}
}

func (g *gcState) restart() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		debug.SetGCPercent(g.percent)
		g.stopped = false
	}
}

// setPause sets GOGC to pause-100 (at least 0: Lua's pauses below 100
// start a cycle at once, as GOGC 0 nearly does) and returns the previous
// pause. While collection is stopped, the new setting applies at restart.
func (g *gcState) setPause(pause int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	percent := max(pause-100, 0)
	var prev int
	if g.stopped {
		prev, g.percent = g.percent, percent
	} else {
		prev = debug.SetGCPercent(percent)
	}
	if prev < 0 {
		return 0 // GOGC=off from the environment: no pause to report
	}
	return prev + 100
}

func (g *gcState) setStepMul(mul int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	prev := g.stepMul
	if prev == 0 {
		prev = 200
	}
	g.stepMul = mul
	return prev
}

// liveHeapBytes returns the bytes of the Go heap's objects, live or not
// yet swept (what the collector counts toward its next cycle).
func liveHeapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
