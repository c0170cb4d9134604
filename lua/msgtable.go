package lua

import (
	"reflect"
	"unsafe"

	glua "github.com/yuin/gopher-lua"
)

// Building data message tables without RawSetString.
//
// A message table {type=, data=} built with gopher-lua's RawSetString costs
// about ten allocations: besides the table and its string map, every new
// key is boxed again (twice) for the key-order index that pairs() walks,
// whose slice grows one key at a time. Every received message pays it, so
// messageTable fills the same fields directly, with the key order shared by
// all messages: the table, its two maps and the data string. The fields
// are reached through luaTable, a copy of gopher-lua's LTable layout,
// checked field by field (name, type, offset) when the package starts;
// if gopher-lua's ever differs, tableLayoutOK is false and messageToLua
// falls back to RawSetString. The result is the table RawSetString would
// build: the same maps and keys, in the same order.

// luaTable has the layout of gopher-lua's LTable.
type luaTable struct {
	Metatable glua.LValue
	array     []glua.LValue
	dict      map[glua.LValue]glua.LValue
	strdict   map[string]glua.LValue
	keys      []glua.LValue
	k2i       map[glua.LValue]int
}

var tableLayoutOK = sameLayout(reflect.TypeFor[glua.LTable](), reflect.TypeFor[luaTable]())

// sameLayout reports whether a and b have the same fields: names, types
// and offsets, in order.
func sameLayout(a, b reflect.Type) bool {
	if a.Kind() != reflect.Struct || b.Kind() != reflect.Struct || a.Size() != b.Size() || a.NumField() != b.NumField() {
		return false
	}
	for i := range a.NumField() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Type != fb.Type || fa.Offset != fb.Offset {
			return false
		}
	}
	return true
}

// The keys of a data message table, boxed once, and their order: the
// slice is shared by every message table and never written (its length is
// its capacity, so a key a script adds makes gopher-lua's append copy it).
var (
	lvKeyType     glua.LValue = glua.LString("type")
	lvKeyData     glua.LValue = glua.LString("data")
	dataTableKeys             = []glua.LValue{lvKeyType, lvKeyData}[:2:2]
)

// dataTable returns {type = typ, data = data} as RawSetString would build
// it, or nil when the layout is unknown.
func dataTable(typ, data glua.LValue) *glua.LTable {
	if !tableLayoutOK {
		return nil
	}
	t := &glua.LTable{Metatable: glua.LNil}
	m := (*luaTable)(unsafe.Pointer(t))
	m.strdict = map[string]glua.LValue{"type": typ, "data": data}
	m.keys = dataTableKeys
	m.k2i = map[glua.LValue]int{lvKeyType: 0, lvKeyData: 1}
	return t
}
