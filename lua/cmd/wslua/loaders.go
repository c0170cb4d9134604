package main

import (
	"io"
	"os"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// installLoaders replaces the functions that compile Lua code at run time
// (loadstring, loadfile, dofile, and require's loader of Lua files) with
// ones whose syntax errors read as the script's do, and as lua(1)'s:
// "name:line: message near 'token'" (gopher-lua's own say "name
// line:4(column:3) near 'end': syntax error"). dofile is written in Lua, so
// that the file it runs may block in the scheduler like any other code.
// loadfile() and dofile() without a name read stdin.
func installLoaders(L *glua.LState, stdin io.Reader) {
	L.SetGlobal("loadstring", L.NewFunction(func(L *glua.LState) int {
		src := L.CheckString(1)
		fn, err := loadChunk(L, chunk{name: L.OptString(2, "<string>"), source: []byte(src)}, nil)
		return pushLoaded(L, fn, err)
	}))
	L.SetGlobal("loadfile", L.NewFunction(func(L *glua.LState) int {
		c := chunk{name: "stdin", file: "-"}
		if L.Get(1) != glua.LNil {
			name := L.CheckString(1)
			c = chunk{name: name, file: name}
		}
		fn, err := loadChunk(L, c, stdin)
		return pushLoaded(L, fn, err)
	}))
	if err := L.DoString(`local loadfile, error = loadfile, error
		function dofile(name)
			local fn, err = loadfile(name)
			if not fn then error(err, 0) end
			return fn()
		end`); err != nil {
		panic("wslua: " + err.Error()) // cannot happen: the source is constant
	}
	if loaders, ok := L.GetField(L.GetGlobal("package"), "loaders").(*glua.LTable); ok {
		loaders.RawSetInt(2, L.NewFunction(requireLuaFile))
	}
}

// pushLoaded pushes what loadstring and loadfile return: the function, or
// nil and the error message.
func pushLoaded(L *glua.LState, fn *glua.LFunction, err error) int {
	if err != nil {
		L.Push(glua.LNil)
		L.Push(glua.LString(err.Error()))
		return 2
	}
	L.Push(fn)
	return 1
}

// requireLuaFile is require's loader of Lua files (package.loaders[2]): it
// looks for the module along package.path and returns its chunk, or a
// message listing the files tried, as Lua 5.1's does.
func requireLuaFile(L *glua.LState) int {
	name := L.CheckString(1)
	path, ok := L.GetField(L.GetGlobal("package"), "path").(glua.LString)
	if !ok {
		L.RaiseError("package.path must be a string")
	}
	file := strings.ReplaceAll(name, ".", string(os.PathSeparator))
	var tried []string
	for _, pattern := range strings.Split(string(path), ";") {
		candidate := strings.ReplaceAll(pattern, "?", file)
		if fi, err := os.Stat(candidate); err != nil || fi.IsDir() {
			tried = append(tried, "no file '"+candidate+"'")
			continue
		}
		fn, err := loadChunk(L, chunk{name: candidate, file: candidate}, nil)
		if err != nil {
			L.RaiseError("error loading module '%s' from file '%s':\n\t%v", name, candidate, err)
		}
		L.Push(fn)
		return 1
	}
	L.Push(glua.LString(strings.Join(tried, "\n\t"))) // require joins the loaders' messages with "\n\t"
	return 1
}
