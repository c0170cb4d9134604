// Command benchtable summarizes `go test -bench` output for RESULTS.md.
//
//	benchtable [-targets] [file ...]
//
// It reads the outputs (standard input if no file), takes for every
// benchmark and unit the median of its runs with their range, and prints one
// Markdown table per benchmark group. Benchmarks whose names differ only by an
// impl=, srv= or client= element form a group; each row then also shows the
// speed (1 / ns/op) as a ratio to the fastest peer (gorilla, coder, gws,
// gobwas) and to the plain TCP baseline: above 1× is faster. With -targets it
// first prints the team's targets as PASS, FAIL or MISSING.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	targets := flag.Bool("targets", false, "print the targets table first")
	flag.Parse()
	if err := run(os.Stdout, flag.Args(), *targets); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, files []string, targets bool) error {
	set := NewSet()
	if len(files) == 0 {
		if err := set.Read(os.Stdin); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := readFile(set, f); err != nil {
			return err
		}
	}
	if len(set.Results) == 0 {
		return fmt.Errorf("no benchmark results in the input")
	}
	if targets {
		fmt.Fprintln(w, "## Targets")
		fmt.Fprintln(w)
		WriteTargets(w, set.Targets())
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "## Results (median [min–max] of the runs)")
	set.WriteTables(w)
	return nil
}

// readFile adds one file's results to set.
func readFile(set *Set, name string) error {
	fh, err := os.Open(name)
	if err != nil {
		return err
	}
	defer fh.Close()
	return set.Read(fh)
}
