package lua

import (
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// The interpreter limits of the states wslua creates (see StateOptions).
// gopher-lua's own defaults (a fixed 5,120-slot value stack and 256 call
// frames) stop ordinary Lua 5.1 code: table.concat of about 2,600 strings
// raises "registry overflow", recursion deeper than about 200 "stack
// overflow", and every coroutine thread costs about 100 KB.
const (
	// CallStackSize is the deepest call nesting (Lua and Go frames) of the
	// main chunk: room for recursion 10,000 deep. The segmented call stack
	// still reserves one pointer per 8 frames of this bound (12 KB), so
	// the scheduler's spawned coroutines get scheduler.CoroutineCallStackSize
	// frames instead (1 KB of the about 5 KB a parked coroutine costs).
	CallStackSize = 12000
	// RegistrySize is the initial size, in values, of a thread's value
	// stack (gopher-lua's "registry"). It grows on demand.
	RegistrySize = 256
	// RegistryMaxSize is the largest a thread's value stack may grow, in
	// values (16 bytes each: 16 MiB): unpack returns up to about this many
	// values. (gopher-lua's table.concat pushes every element and separator
	// onto it; NewState replaces it by one that does not.)
	RegistryMaxSize = 1 << 20
	// RegistryGrowStep is how many values the value stack grows by beyond
	// what is needed each time it grows.
	RegistryGrowStep = 4096
)

// StateOptions returns the gopher-lua options the wslua command creates its
// state with, for Go hosts that create their own: a value stack that starts
// small and grows up to RegistryMaxSize, and a call stack that grows in
// segments (MinimizeStackMemory) up to CallStackSize frames. The
// scheduler's spawned coroutines get the same value stack limit and at most
// scheduler.CoroutineCallStackSize frames.
//
//	L := glua.NewState(lua.StateOptions())
//
// The standard libraries are opened as by glua.NewState unless the caller
// sets SkipOpenLibs in the returned value.
func StateOptions() glua.Options {
	return glua.Options{
		CallStackSize:       CallStackSize,
		RegistrySize:        RegistrySize,
		RegistryMaxSize:     RegistryMaxSize,
		RegistryGrowStep:    RegistryGrowStep,
		MinimizeStackMemory: true,
	}
}

// NewState returns a gopher-lua state created with StateOptions, with the
// standard libraries open and table.concat replaced by one that builds the
// string directly (gopher-lua's pushes every element onto the value stack,
// which makes a large join slow and bounded by RegistryMaxSize), and
// collectgarbage replaced by Lua 5.1's (gopher-lua's ignores its options:
// collectgarbage("count") returns nothing; see collectgarbage), and unpack
// by one that refuses more values than a thread's value stack holds with
// Lua's "too many results to unpack" instead of "registry overflow". The
// websocket module and the scheduler are not installed: call Open (and
// scheduler.Install, or let scheduler.Run do it).
func NewState() *glua.LState {
	L := glua.NewState(StateOptions())
	if tbl, ok := L.GetGlobal("table").(*glua.LTable); ok {
		tbl.RawSetString("concat", L.NewFunction(tableConcat))
	}
	L.SetGlobal("collectgarbage", L.NewFunction(collectgarbage))
	L.SetGlobal("unpack", L.NewFunction(unpack))
	return L
}

// tableConcat is Lua 5.1's table.concat(t [, sep [, i [, j]]]): the
// strings and numbers t[i..j] joined by sep; i defaults to 1, j to #t.
func tableConcat(L *glua.LState) int {
	t := L.CheckTable(1)
	var sep string
	switch v := L.Get(2).(type) {
	case *glua.LNilType:
	case glua.LString:
		sep = string(v)
	case glua.LNumber:
		sep = v.String()
	default:
		L.ArgError(2, "string expected, got "+v.Type().String())
	}
	i := L.OptInt(3, 1)
	j := L.OptInt(4, t.Len())
	var b strings.Builder
	for k := i; k <= j; k++ {
		switch v := t.RawGetInt(k).(type) {
		case glua.LString:
			b.WriteString(string(v))
		case glua.LNumber:
			b.WriteString(v.String())
		default:
			L.RaiseError("invalid value (at index %d) in table for concat", k)
		}
		if k < j {
			b.WriteString(sep)
		}
	}
	L.Push(glua.LString(b.String()))
	return 1
}

// unpack is Lua 5.1's unpack(t [, i [, j]]): t[i], ..., t[j]; i defaults to
// 1, j to #t. More values than a value stack of RegistryMaxSize holds raise
// "too many results to unpack", as Lua's does past its stack limit.
func unpack(L *glua.LState) int {
	t := L.CheckTable(1)
	i := L.OptInt(2, 1)
	j := L.OptInt(3, t.Len())
	if i > j {
		return 0
	}
	n := int64(j) - int64(i) + 1
	if n >= int64(RegistryMaxSize-L.GetTop()) {
		L.RaiseError("too many results to unpack")
	}
	for k := i; k <= j; k++ {
		L.Push(t.RawGetInt(k))
	}
	return int(n)
}
