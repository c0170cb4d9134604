package main

import (
	"context"
	"fmt"
	"os"

	glua "github.com/yuin/gopher-lua"

	wslua "github.com/wslua/wslua/lua"
	"github.com/wslua/wslua/lua/scheduler"
)

func main() {
	L := glua.NewState()
	defer L.Close()
	wslua.Open(L)
	argt := L.NewTable()
	argt.RawSetInt(0, glua.LString(os.Args[1]))
	for i, a := range os.Args[2:] {
		argt.RawSetInt(i+1, glua.LString(a))
	}
	L.SetGlobal("arg", argt)
	if err := scheduler.RunFile(context.Background(), L, os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
