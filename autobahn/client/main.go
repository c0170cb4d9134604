// Command client runs this module's WebSocket client against the Autobahn
// testsuite's fuzzingserver (package driver): it echoes every message of
// every selected case, then asks the server to update its reports, which
// land in the fuzzingserver's outdir (autobahn/reports/clients with the
// kit's fuzzingserver.json).
//
// Usage:
//
//	go run ./autobahn/client [-url ws://127.0.0.1:9001] [-agent wslua-go] [-cases 1-300 | -case 5]
//	                         [-read-limit 67108864] [-read-timeout 60s] [-wait 0] [-q]
//
// -cases takes N, A-B, A- or -B (cases are numbered from 1, as the server
// counts them; ranges beyond the server's count are cut to it). Progress
// goes to standard output, one line per case. The exit status is 0 when
// every selected case ran and the reports were updated (whatever the
// server judged), 1 when the run could not be completed, 2 on bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/wslua/wslua/autobahn/driver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	status := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(status)
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "autobahn client:", err)
		return 2
	}
	if err := driver.Run(ctx, cfg); err != nil {
		fmt.Fprintln(stderr, err) // "autobahn: ..."
		return 1
	}
	return 0
}

// parseFlags turns the command line into a driver.Config.
func parseFlags(args []string, stdout, stderr io.Writer) (driver.Config, error) {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg driver.Config
	fs.StringVar(&cfg.URL, "url", "ws://127.0.0.1:9001", "base URL of the fuzzingserver")
	fs.StringVar(&cfg.Agent, "agent", driver.DefaultAgent, "agent name the results are filed under")
	cases := fs.String("cases", "", "cases to run: N, A-B, A- or -B (default: all)")
	one := fs.Int("case", 0, "run only this case (same as -cases N)")
	fs.Int64Var(&cfg.ReadLimit, "read-limit", driver.DefaultReadLimit, "largest message echoed, in bytes")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", driver.DefaultReadTimeout, "idle read timeout per connection (negative: none)")
	fs.DurationVar(&cfg.Wait, "wait", 0, "retry the first connection this long while the server starts")
	fs.BoolVar(&cfg.NoCompression, "no-compression", false, "do not offer permessage-deflate")
	quiet := fs.Bool("q", false, "do not print a line per case")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if cfg.ReadLimit <= 0 {
		return cfg, errors.New("-read-limit must be positive")
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = -1 // the flag's 0 means none, as a negative value does
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["case"] && set["cases"]:
		return cfg, errors.New("use -case or -cases, not both")
	case set["case"]:
		if *one < 1 {
			return cfg, fmt.Errorf("-case must be at least 1, got %d", *one)
		}
		cfg.First, cfg.Last = *one, *one
	default:
		first, last, err := driver.ParseRange(*cases)
		if err != nil {
			return cfg, err
		}
		cfg.First, cfg.Last = first, last
	}
	if !*quiet {
		cfg.Logf = func(format string, args ...any) {
			fmt.Fprintf(stdout, format+"\n", args...)
		}
	}
	return cfg, nil
}
