package main

import "os"

// isTerminal reports whether r is a file open on a terminal.
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	return ok && f != nil && isTerminalFile(f)
}
