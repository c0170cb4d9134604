package luajson

import (
	lua "github.com/yuin/gopher-lua"
)

// ModuleName is the name of the module: the global and the require name.
const ModuleName = "json"

// MaxDepth is the deepest nesting of arrays and objects encode and decode
// accept.
const MaxDepth = 1000

// Registry keys of the per-state module table, null value and marks.
const (
	moduleKey = "luajson.module"
	nullKey   = "luajson.null"
	arrayKey  = "luajson.array"
	objectKey = "luajson.object"
)

// Open installs the json module in L: the global json and
// package.preload/package.loaded["json"] (the same table). It is safe to
// call more than once. Call it on the goroutine that runs L.
func Open(L *lua.LState) {
	mod := module(L)
	L.SetGlobal(ModuleName, mod)
	pkg, ok := L.GetGlobal("package").(*lua.LTable)
	if !ok {
		return
	}
	if preload, ok := pkg.RawGetString("preload").(*lua.LTable); ok {
		preload.RawSetString(ModuleName, L.NewFunction(Loader))
	}
	if loaded, ok := pkg.RawGetString("loaded").(*lua.LTable); ok {
		loaded.RawSetString(ModuleName, mod)
	}
}

// Loader is the json module loader for LState.PreloadModule:
//
//	L.PreloadModule("json", luajson.Loader)
//
// It pushes the module table (one per LState) and returns 1.
func Loader(L *lua.LState) int {
	L.Push(module(L))
	return 1
}

// module returns the module table of L, building it on first use.
func module(L *lua.LState) *lua.LTable {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if mod, ok := reg.RawGetString(moduleKey).(*lua.LTable); ok {
		return mod
	}
	null := L.NewUserData()
	nullMT := L.NewTable()
	nullMT.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("null"))
		return 1
	}))
	nullMT.RawSetString("__metatable", lua.LString("json.null"))
	null.Metatable = nullMT
	reg.RawSetString(nullKey, null)
	reg.RawSetString(arrayKey, markTable(L, "array"))
	reg.RawSetString(objectKey, markTable(L, "object"))

	mod := L.NewTable()
	mod.RawSetString("encode", L.NewFunction(luaEncode))
	mod.RawSetString("decode", L.NewFunction(luaDecode))
	mod.RawSetString("null", null)
	mod.RawSetString("array", L.NewFunction(func(L *lua.LState) int { return mark(L, arrayKey, "json.array") }))
	mod.RawSetString("object", L.NewFunction(func(L *lua.LState) int { return mark(L, objectKey, "json.object") }))
	reg.RawSetString(moduleKey, mod)
	return mod
}

// markTable returns a metatable marking a table as a JSON array or object.
func markTable(L *lua.LState, kind string) *lua.LTable {
	mt := L.NewTable()
	mt.RawSetString("__jsontype", lua.LString(kind))
	return mt
}

// state holds what encode and decode need from the registry.
type state struct {
	null   lua.LValue
	array  *lua.LTable
	object *lua.LTable
}

func stateOf(L *lua.LState) state {
	module(L)
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	return state{
		null:   reg.RawGetString(nullKey),
		array:  reg.RawGetString(arrayKey).(*lua.LTable),
		object: reg.RawGetString(objectKey).(*lua.LTable),
	}
}

// mark is json.array([t]) and json.object([t]).
func mark(L *lua.LState, key, name string) int {
	if L.GetTop() > 1 {
		L.RaiseError("%s takes at most 1 argument (a table), got %d", name, L.GetTop())
	}
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	mt := reg.RawGetString(key)
	var t *lua.LTable
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
		t = L.NewTable()
	case *lua.LTable:
		t = v
		if cur := v.Metatable; cur != lua.LNil && cur != reg.RawGetString(arrayKey) && cur != reg.RawGetString(objectKey) {
			L.ArgError(1, "the table already has a metatable")
		}
	default:
		L.ArgError(1, "table expected, got "+v.Type().String())
	}
	t.Metatable = mt
	L.Push(t)
	return 1
}

// pushFail pushes nil and the message and returns 2.
func pushFail(L *lua.LState, msg string) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(msg))
	return 2
}

// checkOneArg raises an error unless the function got exactly one argument.
func checkOneArg(L *lua.LState, name string) {
	if n := L.GetTop(); n != 1 {
		L.RaiseError("%s takes 1 argument, got %d", name, n)
	}
}
