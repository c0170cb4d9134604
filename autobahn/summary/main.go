// Command summary prints a digest of Autobahn testsuite reports
// (reports/clients/index.json or reports/servers/index.json): for each
// agent, how many cases ended with each behavior and closing behavior, and
// every case that is not OK.
//
// Usage:
//
//	go run ./autobahn/summary autobahn/reports/clients/index.json [more.json ...]
//
// The exit status is 0 when no case failed, 1 when a case failed (behavior
// FAILED, or closing behavior FAILED or UNCLEAN; failing cases are marked
// with "!") or a report holds no agent at all, and 2 when a file cannot be
// read or is not an Autobahn index.json.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitError  = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: summary index.json [index.json ...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitError
	}
	status := exitOK
	for _, name := range fs.Args() {
		st, err := summarizeFile(name, stdout)
		if err != nil {
			fmt.Fprintf(stderr, "summary: %s: %v\n", name, err)
			return exitError
		}
		status = max(status, st)
	}
	return status
}

// summarizeFile prints the digest of one index.json and returns exitFailed
// if a case failed or the report is empty.
func summarizeFile(name string, stdout io.Writer) (int, error) {
	f, err := os.Open(name)
	if err != nil {
		return exitError, err
	}
	defer f.Close()
	idx, err := readIndex(f)
	if err != nil {
		return exitError, err
	}
	sums := summarize(idx)
	if err := writeSummary(stdout, name, sums); err != nil {
		return exitError, err
	}
	if len(sums) == 0 {
		return exitFailed, nil
	}
	for _, s := range sums {
		if s.Failed > 0 {
			return exitFailed, nil
		}
	}
	return exitOK, nil
}
