package luajson

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// luaEncode is json.encode(v): a JSON string, or nil and an error.
func luaEncode(L *lua.LState) int {
	checkOneArg(L, "json.encode")
	e := encoder{st: stateOf(L), seen: map[*lua.LTable]bool{}}
	if err := e.value(L.Get(1), 0); err != nil {
		return pushFail(L, "json.encode: "+err.Error())
	}
	L.Push(lua.LString(e.buf))
	return 1
}

// Encode returns the JSON text of v, a value of L (see the package
// documentation for the mapping).
func Encode(L *lua.LState, v lua.LValue) (string, error) {
	e := encoder{st: stateOf(L), seen: map[*lua.LTable]bool{}}
	if err := e.value(v, 0); err != nil {
		return "", fmt.Errorf("json.encode: %w", err)
	}
	return string(e.buf), nil
}

type encoder struct {
	st   state
	buf  []byte
	seen map[*lua.LTable]bool // tables on the current path (cycle check)
	path []string             // keys leading to the current value, for messages
}

// errAt prefixes an error with the path of the value ("at data.items[3]").
func (e *encoder) errAt(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if len(e.path) > 0 {
		msg += " (at " + strings.Join(e.path, "") + ")"
	}
	return fmt.Errorf("%s", msg)
}

func (e *encoder) value(v lua.LValue, depth int) error {
	switch v := v.(type) {
	case *lua.LNilType:
		e.buf = append(e.buf, "null"...)
	case lua.LBool:
		e.buf = strconv.AppendBool(e.buf, bool(v))
	case lua.LNumber:
		return e.number(float64(v))
	case lua.LString:
		return e.str(string(v))
	case *lua.LTable:
		return e.table(v, depth+1)
	case *lua.LUserData:
		if v == e.st.null {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.errAt("cannot encode a userdata")
	default:
		return e.errAt("cannot encode a %s", v.Type().String())
	}
	return nil
}

func (e *encoder) number(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return e.errAt("cannot encode %v (not a finite number)", f)
	}
	abs := math.Abs(f)
	if abs < 1e21 && f == math.Trunc(f) {
		e.buf = strconv.AppendFloat(e.buf, f, 'f', -1, 64)
		return nil
	}
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, 64)
	return nil
}

func (e *encoder) str(s string) error {
	if !utf8.ValidString(s) {
		return e.errAt("string is not valid UTF-8 (encode binary data first, e.g. as hex or base64)")
	}
	e.buf = appendString(e.buf, s)
	return nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s (valid UTF-8) as a JSON string.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			start = i + size
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

func (e *encoder) table(t *lua.LTable, depth int) error {
	if depth > MaxDepth {
		return e.errAt("nesting deeper than %d", MaxDepth)
	}
	if e.seen[t] {
		return e.errAt("cycle: a table contains itself")
	}
	e.seen[t] = true
	defer delete(e.seen, t)

	var ints []int
	var strs []string
	var bad lua.LValue
	t.ForEach(func(k, _ lua.LValue) {
		switch k := k.(type) {
		case lua.LString:
			strs = append(strs, string(k))
		case lua.LNumber:
			if f := float64(k); f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				ints = append(ints, int(f))
				return
			}
			if bad == nil {
				bad = k
			}
		default:
			if bad == nil {
				bad = k
			}
		}
	})
	if bad != nil {
		return e.errAt("cannot encode a table with a %s key (%s)", bad.Type().String(), bad.String())
	}
	slices.Sort(ints)
	isArray := len(ints) > 0 && len(strs) == 0 && ints[0] == 1 && ints[len(ints)-1] == len(ints)
	switch t.Metatable {
	case e.st.array:
		if len(strs) > 0 {
			return e.errAt("table marked by json.array has the string key %q", strs[0])
		}
		if len(ints) > 0 && !isArray {
			return e.errAt("table marked by json.array has keys that are not 1..n (%s)", keysSummary(ints))
		}
		return e.array(t, len(ints), depth)
	case e.st.object:
		return e.object(t, ints, strs, depth)
	}
	switch {
	case isArray:
		return e.array(t, len(ints), depth)
	case len(ints) > 0 && len(strs) > 0:
		return e.errAt("table mixes array keys (%d) and object keys (%q)", ints[0], strs[0])
	case len(ints) > 0:
		return e.errAt("array with holes or keys other than 1..n (%s); use json.null for missing elements, or json.object to make an object", keysSummary(ints))
	}
	return e.object(t, nil, strs, depth)
}

func keysSummary(ints []int) string {
	if len(ints) > 4 {
		return fmt.Sprintf("%d keys from %d to %d", len(ints), ints[0], ints[len(ints)-1])
	}
	return fmt.Sprint(ints)
}

func (e *encoder) array(t *lua.LTable, n, depth int) error {
	e.buf = append(e.buf, '[')
	for i := 1; i <= n; i++ {
		if i > 1 {
			e.buf = append(e.buf, ',')
		}
		e.path = append(e.path, "["+strconv.Itoa(i)+"]")
		if err := e.value(t.RawGetInt(i), depth); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	e.buf = append(e.buf, ']')
	return nil
}

func (e *encoder) object(t *lua.LTable, ints []int, strs []string, depth int) error {
	type member struct {
		name string
		key  lua.LValue
	}
	members := make([]member, 0, len(ints)+len(strs))
	for _, i := range ints {
		members = append(members, member{strconv.Itoa(i), lua.LNumber(i)})
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			return e.errAt("object key is not valid UTF-8")
		}
		members = append(members, member{s, lua.LString(s)})
	}
	slices.SortFunc(members, func(a, b member) int { return strings.Compare(a.name, b.name) })
	for i := 1; i < len(members); i++ {
		if members[i].name == members[i-1].name {
			return e.errAt("object has the key %q twice (as a number and as a string)", members[i].name)
		}
	}
	e.buf = append(e.buf, '{')
	for i, m := range members {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, m.name)
		e.buf = append(e.buf, ':')
		e.path = append(e.path, "."+m.name)
		if err := e.value(t.RawGet(m.key), depth); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	e.buf = append(e.buf, '}')
	return nil
}
