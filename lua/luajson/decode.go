package luajson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// luaDecode is json.decode(s): the Lua value, or nil and an error.
func luaDecode(L *lua.LState) int {
	checkOneArg(L, "json.decode")
	s, ok := L.Get(1).(lua.LString)
	if !ok {
		return pushFail(L, "json.decode: want a string, got "+L.Get(1).Type().String())
	}
	v, err := Decode(L, string(s))
	if err != nil {
		return pushFail(L, err.Error())
	}
	L.Push(v)
	return 1
}

// Decode returns the Lua value of the JSON text s, built in L (see the
// package documentation for the mapping).
func Decode(L *lua.LState, s string) (lua.LValue, error) {
	if !utf8.ValidString(s) {
		return nil, errors.New("json.decode: the text is not valid UTF-8")
	}
	d := decoder{L: L, st: stateOf(L), dec: json.NewDecoder(strings.NewReader(s))}
	d.dec.UseNumber()
	v, err := d.value(0)
	if err == nil {
		// Exactly one value: anything but white space after it is an error.
		if _, terr := d.dec.Token(); terr != io.EOF {
			err = fmt.Errorf("unexpected data after the value at offset %d", d.dec.InputOffset())
		}
	}
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("unexpected end of the text")
		}
		return nil, fmt.Errorf("json.decode: %w", err)
	}
	return v, nil
}

type decoder struct {
	L   *lua.LState
	st  state
	dec *json.Decoder
}

func (d *decoder) value(depth int) (lua.LValue, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case nil:
		return d.st.null, nil
	case bool:
		return lua.LBool(tok), nil
	case string:
		return lua.LString(tok), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(tok), 64)
		if err != nil {
			return nil, fmt.Errorf("number %s is out of the float64 range", tok)
		}
		return lua.LNumber(f), nil
	case json.Delim:
		if depth >= MaxDepth {
			return nil, fmt.Errorf("nesting deeper than %d", MaxDepth)
		}
		if tok == '[' {
			return d.array(depth + 1)
		}
		return d.object(depth + 1)
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

func (d *decoder) array(depth int) (lua.LValue, error) {
	t := d.L.NewTable()
	t.Metatable = d.st.array
	for i := 1; d.dec.More(); i++ {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		t.RawSetInt(i, v)
	}
	if _, err := d.dec.Token(); err != nil { // ']'
		return nil, err
	}
	return t, nil
}

func (d *decoder) object(depth int) (lua.LValue, error) {
	t := d.L.NewTable()
	t.Metatable = d.st.object
	for d.dec.More() {
		kt, err := d.dec.Token()
		if err != nil {
			return nil, err
		}
		k, ok := kt.(string)
		if !ok {
			return nil, fmt.Errorf("object key is not a string at offset %d", d.dec.InputOffset())
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		t.RawSetString(k, v)
	}
	if _, err := d.dec.Token(); err != nil { // '}'
		return nil, err
	}
	return t, nil
}
