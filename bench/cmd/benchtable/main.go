// Command benchtable summarizes `go test -bench` output for RESULTS.md.
//
//	benchtable [-targets] [-base VARIANT] [file ...]
//
// It reads the outputs (standard input if no file), takes for every
// benchmark and unit the median of its runs with their range, and prints one
// Markdown table per benchmark group. Benchmarks whose names differ only by an
// impl=, srv= or client= element form a group; each row then also shows the
// speed (1 / ns/op) as a ratio to the fastest peer (gorilla, coder, gws,
// gobwas) and to the plain TCP baseline: above 1× is faster. With -targets it
// first prints the team's targets as PASS, FAIL or MISSING.
//
// Exit status: 0; 1 on an error (an unreadable input, no results); 3 when
// some target FAILs (with -targets), after printing everything, so that a
// benchmark run that misses a target fails. A target MISSING from the input
// does not fail the run.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// exitTargetsFailed is the exit status when some target failed.
const exitTargetsFailed = 3

func main() {
	os.Exit(benchtable(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// benchtable runs the command with args and returns its exit status.
func benchtable(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	targets := fs.Bool("targets", false, "print the targets table first; exit with status 3 if a target fails")
	base := fs.String("base", "", "the variant name of an older tree's client of ours, compared with ours")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	failed, err := run(stdout, stdin, fs.Args(), *targets, *base)
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "benchtable:", err)
		return 1
	case failed > 0:
		fmt.Fprintf(stderr, "benchtable: %d target(s) failed\n", failed)
		return exitTargetsFailed
	}
	return 0
}

// run writes the tables of the results in files (stdin if none) to w and,
// with targets, the targets table first; it returns how many targets failed.
func run(w io.Writer, stdin io.Reader, files []string, targets bool, base string) (failed int, err error) {
	set := NewSet()
	set.Base = base
	if len(files) == 0 {
		if err := set.Read(stdin); err != nil {
			return 0, err
		}
	}
	for _, f := range files {
		if err := readFile(set, f); err != nil {
			return 0, err
		}
	}
	if len(set.Results) == 0 {
		return 0, fmt.Errorf("no benchmark results in the input")
	}
	if targets {
		fmt.Fprintln(w, "## Targets")
		fmt.Fprintln(w)
		failed = WriteTargets(w, set.Targets(), base)
		fmt.Fprintln(w)
	}
	set.WriteBaseComparison(w)
	fmt.Fprintln(w, "## Results (median [min–max] of the runs)")
	set.WriteTables(w)
	return failed, nil
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
