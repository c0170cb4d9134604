package scheduler

import (
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// This file is the only place that looks at gopher-lua's unexported call
// frames. gopher-lua offers no public way to answer two questions the
// scheduler must answer:
//
//  1. May the running Go function yield? A yield is only safe when the Go
//     function was called directly by the VM loop that L.Resume started.
//     When a Go function (pcall, table.sort, a module function...) or the VM
//     itself (metamethods, the generic-for iterator) called Lua through a
//     nested VM loop, yielding would unwind the wrong loop and corrupt the
//     thread. Every such nesting leaves a trace in the frame chain: either a
//     Go frame below the top one, or a Lua frame whose current instruction is
//     not a call.
//  2. How many results does the suspended call site expect? gopher-lua's
//     Resume does not pad missing results with nil (registers are left as Go
//     nil, which crashes the VM later), so the scheduler pads them itself.
//
// The frame layout is discovered by reflection once, by field name and
// type; if a future gopher-lua changes it, layoutOK is false and the
// scheduler degrades to "always yieldable, never pad" (the tests catch that).

type frameLayout struct {
	ok      bool
	current uintptr // offset of LState.currentFrame (a *callFrame)
	fn      uintptr // offset of callFrame.Fn
	parent  uintptr // offset of callFrame.Parent
	pc      uintptr // offset of callFrame.Pc
}

var layout = discoverLayout()

func discoverLayout() frameLayout {
	var fl frameLayout
	st := reflect.TypeFor[lua.LState]()
	cur, ok := st.FieldByName("currentFrame")
	if !ok || len(cur.Index) != 1 || cur.Type.Kind() != reflect.Pointer || cur.Type.Elem().Kind() != reflect.Struct {
		return fl
	}
	ft := cur.Type.Elem()
	fn, ok1 := ft.FieldByName("Fn")
	parent, ok2 := ft.FieldByName("Parent")
	pc, ok3 := ft.FieldByName("Pc")
	if !ok1 || !ok2 || !ok3 || len(fn.Index) != 1 || len(parent.Index) != 1 || len(pc.Index) != 1 {
		return fl
	}
	if fn.Type != reflect.TypeFor[*lua.LFunction]() || parent.Type != cur.Type || pc.Type != reflect.TypeFor[int]() {
		return fl
	}
	return frameLayout{ok: true, current: cur.Offset, fn: fn.Offset, parent: parent.Offset, pc: pc.Offset}
}

// The frames are read through the offsets found above (checked by name
// and type), not through reflect.Value: the scheduler asks at every
// blocking call and every resume, and reflection cost about a thousand
// instructions per round trip of a receive loop.

// callFrame is an opaque *callFrame of gopher-lua.
type callFrame = unsafe.Pointer

// field returns the address of the field at off in the struct at p.
func field(p unsafe.Pointer, off uintptr) unsafe.Pointer { return unsafe.Add(p, off) }

// currentFrame returns L's current call frame (possibly nil) and whether
// the layout is known.
func currentFrame(L *lua.LState) (callFrame, bool) {
	if !layout.ok {
		return nil, false
	}
	return *(*unsafe.Pointer)(field(unsafe.Pointer(L), layout.current)), true
}

// frameParent returns the parent of a non-nil frame (possibly nil).
func frameParent(fr callFrame) callFrame {
	return *(*unsafe.Pointer)(field(fr, layout.parent))
}

// frameFunc returns the function and program counter of a non-nil frame.
func frameFunc(fr callFrame) (*lua.LFunction, int) {
	return *(**lua.LFunction)(field(fr, layout.fn)), *(*int)(field(fr, layout.pc))
}

// callOpcode returns the opcode and the instruction of the call a Lua frame
// is executing (the instruction before its program counter), or -1.
func callOpcode(fn *lua.LFunction, pc int) (int, uint32) {
	if fn == nil || fn.IsG || fn.Proto == nil || pc < 1 || pc > len(fn.Proto.Code) {
		return -1, 0
	}
	inst := fn.Proto.Code[pc-1]
	return int(inst >> 26), inst
}

// yieldableFrames reports whether the Go function currently running on L
// (the top frame) was called straight from L's own VM loop, with no Go
// function or nested VM loop between it and the bottom of L's stack.
func yieldableFrames(L *lua.LState) bool {
	fr, ok := currentFrame(L)
	if !ok {
		return true
	}
	if fr == nil {
		return false
	}
	if fn, _ := frameFunc(fr); fn == nil || !fn.IsG {
		return false
	}
	for p := frameParent(fr); p != nil; p = frameParent(p) {
		fn, pc := frameFunc(p)
		op, _ := callOpcode(fn, pc)
		if op != lua.OP_CALL && op != lua.OP_TAILCALL {
			return false
		}
	}
	return true
}

// callSiteResults returns how many results the call that suspended th
// expects, or -1 for "all of them" (or unknown).
func callSiteResults(th *lua.LState) int {
	fr, ok := currentFrame(th)
	if !ok || fr == nil {
		return -1
	}
	op, inst := callOpcode(frameFunc(fr))
	if op != lua.OP_CALL {
		return -1
	}
	return int(inst>>9)&0x1ff - 1
}

// threadIdle reports whether th has no frames left (never started, or ran
// to completion), so it can be reused for a new function.
func threadIdle(th *lua.LState) bool {
	fr, ok := currentFrame(th)
	return ok && fr == nil
}

// registryLayout locates LState.reg.array (the thread's value stack), to
// tell a thread whose value stack grew (gopher-lua never shrinks it).
type registryLayout struct {
	ok    bool
	reg   int // index of LState.reg
	array int // index of registry.array
}

var regLayout = discoverRegistry()

func discoverRegistry() registryLayout {
	var rl registryLayout
	reg, ok := reflect.TypeFor[lua.LState]().FieldByName("reg")
	if !ok || len(reg.Index) != 1 || reg.Type.Kind() != reflect.Pointer || reg.Type.Elem().Kind() != reflect.Struct {
		return rl
	}
	arr, ok := reg.Type.Elem().FieldByName("array")
	if !ok || len(arr.Index) != 1 || arr.Type != reflect.TypeFor[[]lua.LValue]() {
		return rl
	}
	return registryLayout{ok: true, reg: reg.Index[0], array: arr.Index[0]}
}

// registryCap returns the capacity of th's value stack, or -1 if unknown.
func registryCap(th *lua.LState) int {
	if !regLayout.ok {
		return -1
	}
	r := reflect.ValueOf(th).Elem().Field(regLayout.reg)
	if r.IsNil() {
		return -1
	}
	return r.Elem().Field(regLayout.array).Cap()
}
