package lua

import (
	"testing"

	"github.com/stretchr/testify/require"
	glua "github.com/yuin/gopher-lua"
)

// TestDataTableLayout: the gopher-lua in use has the LTable layout that
// dataTable fills (otherwise messages are built with RawSetString, slower).
func TestDataTableLayout(t *testing.T) {
	require.True(t, tableLayoutOK, "gopher-lua's LTable layout changed: update luaTable")
}

// TestDataTableBehavesLikeRawSet: a message table from dataTable and one
// built with RawSetString behave the same under every table operation a
// script may use: field access, pairs and next order, #, adding, changing
// and removing keys, and iterating while doing so; and adding keys to one
// message never shows in another (the shared key order is copied first).
func TestDataTableBehavesLikeRawSet(t *testing.T) {
	const probe = `
		local t, other = ...
		local out = {}
		local function add(...) for _, v in ipairs({...}) do out[#out + 1] = tostring(v) end end
		add(t.type, t.data, #t, rawget(t, "data"), next(t))
		for k, v in pairs(t) do add(k, v) end
		t.extra = 1
		t[1] = "one"
		t.data = nil
		for k, v in pairs(t) do add(k, v) end
		t.data = "back"
		t.type = "changed"
		for k, v in pairs(t) do add(k, v) end
		for k in pairs(other) do add(k) end
		add(other.extra, #t)
		return table.concat(out, " ")`
	run := func(build func() *glua.LTable) string {
		L := glua.NewState()
		defer L.Close()
		fn, err := L.LoadString(probe)
		require.NoError(t, err)
		L.Push(fn)
		L.Push(build())
		L.Push(build())
		require.NoError(t, L.PCall(2, 1, nil))
		return L.Get(-1).String()
	}
	rawSet := func() *glua.LTable {
		tb := &glua.LTable{Metatable: glua.LNil}
		tb.RawSetString("type", glua.LString(typeText))
		tb.RawSetString("data", glua.LString("payload"))
		return tb
	}
	direct := func() *glua.LTable {
		tb := dataTable(lvText, glua.LString("payload"))
		require.NotNil(t, tb)
		return tb
	}
	want := run(rawSet)
	require.Equal(t, want, run(direct))
	require.Contains(t, want, "extra", "the probe saw the added key")
}
