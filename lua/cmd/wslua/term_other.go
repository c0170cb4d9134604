//go:build !linux && !darwin && !freebsd && !netbsd && !dragonfly

package main

import "os"

// isTerminalFile reports whether f is a character device, the best guess
// without an ioctl (it takes /dev/null for a terminal).
func isTerminalFile(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
