package lua

import (
	glua "github.com/yuin/gopher-lua"
)

// readOnlyMarker is the value of the __metatable field of read-only proxies:
// getmetatable returns it and setmetatable refuses to replace the metatable.
const readOnlyMarker = "websocket: read-only table"

// newReadOnly returns an empty proxy table whose reads go to the fields of
// real (__index), whose writes raise an error naming name (__newindex), and
// whose iteration with pairs visits real (__pairs, honoured by the pairs
// installed by installPairs).
func newReadOnly(L *glua.LState, name string, real *glua.LTable) *glua.LTable {
	proxy := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", real)
	mt.RawSetString("__newindex", L.NewFunction(func(L *glua.LState) int {
		key := L.Get(2)
		L.RaiseError("attempt to modify read-only table %s (field %s)", name, glua.LVAsString(L.ToStringMeta(key)))
		return 0
	}))
	mt.RawSetString("__pairs", L.NewFunction(func(L *glua.LState) int {
		L.Push(L.NewFunction(func(L *glua.LState) int {
			key, value := real.Next(L.Get(2))
			if key == glua.LNil {
				L.Push(glua.LNil)
				return 1
			}
			L.Push(key)
			L.Push(value)
			return 2
		}))
		L.Push(proxy)
		L.Push(glua.LNil)
		return 3
	}))
	mt.RawSetString("__metatable", glua.LString(readOnlyMarker))
	L.SetMetatable(proxy, mt)
	return proxy
}

// pairsWrapperKey marks, in the registry, that installPairs already wrapped
// the global pairs of this LState.
const pairsWrapperKey = "websocket.pairs"

// installPairs replaces the global pairs by one that honours a __pairs
// metamethod (as Lua 5.2 does) and otherwise calls the previous pairs, so
// plain tables iterate exactly as before. gopher-lua's own pairs ignores
// __pairs, which would make the read-only constant tables look empty.
// It is idempotent and does nothing when there is no global pairs function.
func installPairs(L *glua.LState) {
	reg := L.Get(glua.RegistryIndex).(*glua.LTable)
	if reg.RawGetString(pairsWrapperKey) != glua.LNil {
		return
	}
	orig, ok := L.GetGlobal("pairs").(*glua.LFunction)
	if !ok {
		return
	}
	wrapper := L.NewFunction(func(L *glua.LState) int {
		v := L.Get(1)
		if mm := L.GetMetaField(v, "__pairs"); mm != glua.LNil {
			L.Push(mm)
			L.Push(v)
			L.Call(1, 3)
			return 3
		}
		top := L.GetTop()
		L.Push(orig)
		for i := 1; i <= top; i++ {
			L.Push(L.Get(i))
		}
		L.Call(top, glua.MultRet)
		return L.GetTop() - top
	})
	L.SetGlobal("pairs", wrapper)
	reg.RawSetString(pairsWrapperKey, wrapper)
}
