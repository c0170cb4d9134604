package lua

import (
	glua "github.com/yuin/gopher-lua"
)

// ModuleName is the name of the module: the global and the require name.
const ModuleName = "websocket"

// moduleRegistryKey keeps, in the registry, the module table of an LState so
// that the global and every require return the same table.
const moduleRegistryKey = "websocket.module"

// Open installs the websocket module in L: the global `websocket`,
// package.preload["websocket"] and package.loaded["websocket"] (the same
// table), the client metatable, and the __pairs-aware global pairs (see the
// package documentation). It is safe to call more than once. Call it on the
// goroutine that runs L.
func Open(L *glua.LState) {
	mod := module(L)
	L.SetGlobal(ModuleName, mod)
	pkg, ok := L.GetGlobal("package").(*glua.LTable)
	if !ok {
		return // the package library is not open: the global is enough
	}
	if preload, ok := pkg.RawGetString("preload").(*glua.LTable); ok {
		preload.RawSetString(ModuleName, L.NewFunction(Loader))
	}
	if loaded, ok := pkg.RawGetString("loaded").(*glua.LTable); ok {
		loaded.RawSetString(ModuleName, mod)
	}
}

// Loader is the websocket module loader for LState.PreloadModule:
//
//	L.PreloadModule("websocket", lua.Loader)
//
// It pushes the module table (one per LState) and returns 1. It does not set
// the global; Open does.
func Loader(L *glua.LState) int {
	L.Push(module(L))
	return 1
}

// module returns the read-only module table of L, building it on first use.
func module(L *glua.LState) *glua.LTable {
	reg := L.Get(glua.RegistryIndex).(*glua.LTable)
	if mod, ok := reg.RawGetString(moduleRegistryKey).(*glua.LTable); ok {
		return mod
	}
	installPairs(L)
	registerClientType(L)

	real := L.NewTable()
	for _, t := range messageTypes {
		real.RawSetString(t.name, glua.LString(t.value))
	}
	codes := L.NewTable()
	for _, c := range closeCodes {
		codes.RawSetString(c.name, glua.LNumber(c.code))
	}
	real.RawSetString("CLOSE_CODES", newReadOnly(L, "websocket.CLOSE_CODES", codes))
	real.RawSetString("connect", L.NewFunction(luaConnect))

	mod := newReadOnly(L, "websocket", real)
	reg.RawSetString(moduleRegistryKey, mod)
	return mod
}
