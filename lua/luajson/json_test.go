package luajson

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"
)

func newState(t testing.TB) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	Open(L)
	return L
}

// eval runs "return <expr>" and returns its results as strings.
func eval(t *testing.T, L *lua.LState, expr string) []string {
	t.Helper()
	top := L.GetTop()
	require.NoError(t, L.DoString("return "+expr), expr)
	var out []string
	for i := top + 1; i <= L.GetTop(); i++ {
		out = append(out, L.ToStringMeta(L.Get(i)).String())
	}
	L.SetTop(top)
	return out
}

func TestEncode(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`nil`, `null`},
		{`json.null`, `null`},
		{`true`, `true`},
		{`false`, `false`},
		{`0`, `0`},
		{`-7`, `-7`},
		{`3.25`, `3.25`},
		{`0.1`, `0.1`},
		{`1e-7`, `1e-07`},
		{`2^53`, `9007199254740992`},
		{`2^54`, `18014398509481984`},
		{`1e20`, `100000000000000000000`},
		{`1e21`, `1e+21`},
		{`-0.5`, `-0.5`},
		{`"hi"`, `"hi"`},
		{`"a\"b\\c\n\r\t\1\31"`, `"a\"b\\c\n\r\t\u0001\u001f"`},
		{`"<&>"`, `"<&>"`},
		{`"\226\128\168"`, `"\u2028"`},
		{`"é€😀"`, `"é€😀"`},
		{`{}`, `{}`},
		{`json.array()`, `[]`},
		{`json.object()`, `{}`},
		{`{1, 2, 3}`, `[1,2,3]`},
		{`{"a", json.null, "c"}`, `["a",null,"c"]`},
		{`{b = 1, a = {true, false}, c = {}}`, `{"a":[true,false],"b":1,"c":{}}`},
		{`json.object({[1] = "x", [2] = "y", k = 3})`, `{"1":"x","2":"y","k":3}`},
		{`json.array({})`, `[]`},
		{`{["x y"] = {z = json.array()}}`, `{"x y":{"z":[]}}`},
		{`json.encode({n = 1})`, `"{\"n\":1}"`},
	}
	L := newState(t)
	for _, tc := range tests {
		got := eval(t, L, "json.encode("+tc.expr+")")
		require.Equal(t, []string{tc.want}, got, tc.expr)
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct{ setup, expr, want string }{
		{"", `0/0`, "json.encode: cannot encode NaN (not a finite number)"},
		{"", `1/0`, "cannot encode +Inf"},
		{"", `"\255"`, "string is not valid UTF-8"},
		{"", `{a = {b = {"ok", "\255"}}}`, "string is not valid UTF-8 (encode binary data first, e.g. as hex or base64) (at .a.b[2])"},
		{"", `print`, "cannot encode a function"},
		{"", `coroutine.create(print)`, "cannot encode a thread"},
		{"", `newproxy and newproxy() or io.stdout`, "cannot encode a userdata"},
		{"", `{1, 2, [4] = 4}`, "array with holes or keys other than 1..n ([1 2 4])"},
		{"", `{[0] = 1}`, "array with holes"},
		{"", `{1, a = 2}`, "table mixes array keys (1) and object keys (\"a\")"},
		{"", `{[true] = 1}`, "cannot encode a table with a boolean key (true)"},
		{"", `{[1.5] = 1}`, "cannot encode a table with a number key (1.5)"},
		{"", `json.array({a = 1})`, "table marked by json.array has the string key \"a\""},
		{"", `json.array({1, [3] = 3})`, "table marked by json.array has keys that are not 1..n"},
		{"", `json.object({[1] = 1, ["1"] = 2})`, "object has the key \"1\" twice"},
		{"", `{["\255"] = 1}`, "object key is not valid UTF-8"},
		{"cyc = {} cyc.self = cyc", `cyc`, "cycle: a table contains itself (at .self)"},
		{"deep = {} local t = deep for i = 1, 1000 do t[1] = {} t = t[1] end", `deep`, "nesting deeper than 1000"},
	}
	for _, tc := range tests {
		L := newState(t)
		if tc.setup != "" {
			require.NoError(t, L.DoString(tc.setup))
		}
		got := eval(t, L, "json.encode("+tc.expr+")")
		require.Len(t, got, 2, tc.expr)
		require.Equal(t, "nil", got[0], tc.expr)
		require.Contains(t, got[1], tc.want, tc.expr)
		require.True(t, strings.HasPrefix(got[1], "json.encode: "), got[1])
	}
}

func TestEncodeSharedTableIsNoCycle(t *testing.T) {
	L := newState(t)
	got := eval(t, L, `(function() local s = {1} return json.encode({s, s, {s}}) end)()`)
	require.Equal(t, []string{"[[1],[1],[[1]]]"}, got)
}

func TestDecode(t *testing.T) {
	tests := []struct{ text, expr, want string }{
		{`null`, `v == json.null`, "true"},
		{`true`, `v`, "true"},
		{` 42 `, `v, type(v)`, "42 number"},
		{`-0.5e1`, `v`, "-5"},
		{`9007199254740993`, `v == 2^53`, "true"},
		{`"a\u00e9\n\ud83d\ude00"`, `v == "aé\n😀"`, "true"},
		{`"\ud800"`, `v == "\239\191\189"`, "true"},
		{`[1, null, "x"]`, `#v, v[1], v[2] == json.null, v[3]`, "3 1 true x"},
		{`{"a": {"b": [true]}, "1": 2}`, `v.a.b[1], v["1"], v[1]`, "true 2 nil"},
		{`{"k": 1, "k": 2}`, `v.k`, "2"},
		{`[]`, `json.encode(v)`, "[]"},
		{`{}`, `json.encode(v)`, "{}"},
		{`[[], {}, [{}]]`, `json.encode(v)`, "[[],{},[{}]]"},
		{`{"n": null}`, `json.encode(v)`, `{"n":null}`},
	}
	L := newState(t)
	for _, tc := range tests {
		L.SetGlobal("text", lua.LString(tc.text))
		require.NoError(t, L.DoString(`v = assert(json.decode(text))`), tc.text)
		got := eval(t, L, tc.expr)
		require.Equal(t, tc.want, strings.Join(got, " "), tc.text)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{``, "unexpected end of the text"},
		{`   `, "unexpected end of the text"},
		{`[1, 2`, "unexpected end of the text"},
		{`{"a" 1}`, "invalid character '1' after object key"},
		{`[1,]`, "invalid character ']'"},
		{`01`, "unexpected data after the value"},
		{`1 2`, "unexpected data after the value at offset"},
		{`{} x`, "unexpected data after the value at offset 3"},
		{`1e400`, "number 1e400 is out of the float64 range"},
		{"\"\xff\"", "the text is not valid UTF-8"},
		{`nul`, "unexpected end of the text"},
		{`nulx`, "invalid character 'x' in literal null"},
		{strings.Repeat("[", 1001) + strings.Repeat("]", 1001), "nesting deeper than 1000"},
	}
	L := newState(t)
	for _, tc := range tests {
		L.SetGlobal("text", lua.LString(tc.text))
		got := eval(t, L, `json.decode(text)`)
		require.Len(t, got, 2, tc.text)
		require.Equal(t, "nil", got[0], tc.text)
		require.True(t, strings.HasPrefix(got[1], "json.decode: "), got[1])
		require.Contains(t, got[1], tc.want, tc.text)
	}
	got := eval(t, L, `json.decode(42)`)
	require.Equal(t, []string{"nil", "json.decode: want a string, got number"}, got)
}

func TestMisuseRaises(t *testing.T) {
	tests := []struct{ code, want string }{
		{`json.encode()`, "json.encode takes 1 argument, got 0"},
		{`json.encode(1, 2)`, "json.encode takes 1 argument, got 2"},
		{`json.decode("1", {})`, "json.decode takes 1 argument, got 2"},
		{`json.array(1)`, "table expected, got number"},
		{`json.object({}, 2)`, "json.object takes at most 1 argument"},
		{`json.array(setmetatable({}, {}))`, "the table already has a metatable"},
	}
	for _, tc := range tests {
		L := newState(t)
		err := L.DoString(tc.code)
		require.ErrorContains(t, err, tc.want, tc.code)
	}
	L := newState(t)
	got := eval(t, L, `json.encode(json.object(json.array({})))`)
	require.Equal(t, []string{"{}"}, got, "a marked table may be re-marked")
}

func TestOpenAndRequire(t *testing.T) {
	L := newState(t)
	Open(L)
	got := eval(t, L, `require("json") == json, tostring(json.null), type(json.null)`)
	require.Equal(t, []string{"true", "null", "userdata"}, got)

	L2 := lua.NewState()
	defer L2.Close()
	L2.PreloadModule("json", Loader)
	require.NoError(t, L2.DoString(`local j = require("json") assert(j.encode({1}) == "[1]")`))
}

func TestGoAPI(t *testing.T) {
	L := newState(t)
	v, err := Decode(L, `{"a": [1, 2.5, "x", null]}`)
	require.NoError(t, err)
	s, err := Encode(L, v)
	require.NoError(t, err)
	require.Equal(t, `{"a":[1,2.5,"x",null]}`, s)
	_, err = Decode(L, `{`)
	require.EqualError(t, err, "json.decode: unexpected end of the text")
	_, err = Encode(L, lua.LString("\xff"))
	require.ErrorContains(t, err, "json.encode: string is not valid UTF-8")
}
