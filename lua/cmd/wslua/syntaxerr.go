package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// syntaxError rewrites an error of L.Load into lua(1)'s one-line form,
// "name:line: message near 'token'", which editors and terminals turn into
// a link to the line. gopher-lua says "name line:4(column:3) near 'end':
// syntax error" (parse errors) or "compile error near line(4) name: msg"
// (compile errors). src is the chunk's source, used to number the line of
// an error at the end of the chunk. Other errors are returned unchanged.
func syntaxError(err error, name string, src []byte) error {
	var ae *glua.ApiError
	if !errors.As(err, &ae) || ae.Cause == nil {
		return err
	}
	var pe *parse.Error
	var ce *glua.CompileError
	switch {
	case errors.As(ae.Cause, &pe):
		msg := strings.TrimSpace(pe.Message)
		if pe.Pos.Line == parse.EOF {
			return fmt.Errorf("%s:%d: %s near '<eof>'", name, lastLine(src), msg)
		}
		return fmt.Errorf("%s:%d: %s near '%s'", name, pe.Pos.Line, msg, pe.Token)
	case errors.As(ae.Cause, &ce):
		return fmt.Errorf("%s:%d: %s", name, ce.Line, strings.TrimSpace(ce.Message))
	}
	return err
}

// lastLine returns the line the end of src is on, as lua(1) numbers the
// end of a chunk: one more than the newlines before it.
func lastLine(src []byte) int {
	return 1 + bytes.Count(src, []byte("\n"))
}
