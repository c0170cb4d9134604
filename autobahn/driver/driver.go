// Package driver is the Go client driver of the Autobahn testsuite's
// fuzzingserver: it asks the server how many cases it has, runs each
// selected case by echoing every message the server sends, unchanged and
// with the same type, until the connection ends, and finally asks the
// server to write its reports.
//
// The client protocol of the fuzzingserver, on WebSocket connections to
// the server's base URL:
//
//	/getCaseCount                  the server sends the count as a text message, then closes
//	/runCase?case=N&agent=A        case N (from 1): the server drives, the client echoes
//	/updateReports?agent=A         the server writes reports/clients/, then closes
//
// The behaviour of a case (did the client echo correctly, fail the
// connection when it had to, close properly) is judged by the server and
// appears only in its reports; the driver logs what it saw of each case and
// goes on with the next one whatever happened.
package driver

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// CaseResult is what the driver saw of one case.
type CaseResult struct {
	// Case is the case number, from 1.
	Case int
	// Messages and Bytes count the messages echoed and their payload bytes.
	Messages int
	Bytes    int64
	// End is the error that ended the connection: a *protocol.CloseError
	// for a closed connection (Remote true when the server's close frame
	// came first), or the context's error. Nil if the dial failed.
	End error
	// Err is the dial error or the first echo error, nil if none.
	Err error
}

// Run runs the cases selected by cfg against the fuzzingserver at cfg.URL,
// then updates its reports. Failures of single cases are logged and
// reported through cfg.OnCase, not returned: Run fails only when the case
// count cannot be had, the range lies beyond it, the reports cannot be
// updated, or ctx ends.
func Run(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	d := &runner{cfg: cfg, base: strings.TrimSuffix(cfg.URL, "/")}

	count, err := d.caseCount(ctx)
	if err != nil {
		return err
	}
	first, last := cfg.First, cfg.Last
	if last == 0 || last > count {
		last = count
	}
	if first > last {
		asked := strconv.Itoa(cfg.First) + "-"
		if cfg.Last != 0 {
			asked += strconv.Itoa(cfg.Last)
		}
		return fmt.Errorf("autobahn: no case to run: the server has %d cases, asked for %s", count, asked)
	}
	cfg.Logf("autobahn: %d cases on the server; running %d-%d as agent %s", count, first, last, cfg.Agent)

	for n := first; n <= last; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		res := d.runCase(ctx, n)
		cfg.Logf("%s", describe(res))
		if cfg.OnCase != nil {
			cfg.OnCase(res)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.updateReports(ctx); err != nil {
		return err
	}
	cfg.Logf("autobahn: reports updated for agent %s", cfg.Agent)
	return nil
}

// runner holds what Run's steps share.
type runner struct {
	cfg  Config
	base string // cfg.URL without a trailing slash
}

// dial opens a connection to the given path and query of the server, with
// the configured idle read timeout or, if longer, minIdle.
func (d *runner) dial(ctx context.Context, pathAndQuery string, minIdle time.Duration) (*protocol.Conn, error) {
	opts := &handshake.DialOptions{
		Conn: protocol.Options{
			ReadLimit:   d.cfg.ReadLimit,
			ReadTimeout: max(d.cfg.ReadTimeout, 0),
		},
	}
	if opts.Conn.ReadTimeout > 0 {
		opts.Conn.ReadTimeout = max(opts.Conn.ReadTimeout, minIdle)
	}
	if !d.cfg.NoCompression {
		opts.Compression = &protocol.CompressionOptions{}
	}
	if d.cfg.DialTimeout > 0 {
		opts.DialTimeout = d.cfg.DialTimeout
	}
	conn, _, err := handshake.Dial(ctx, d.base+pathAndQuery, opts)
	return conn, err
}

// caseCount asks the server for its number of cases, retrying for up to
// cfg.Wait while the connection cannot be made.
func (d *runner) caseCount(ctx context.Context) (int, error) {
	var deadline time.Time
	if d.cfg.Wait > 0 {
		deadline = time.Now().Add(d.cfg.Wait)
	}
	logged := false
	for {
		conn, err := d.dial(ctx, "/getCaseCount", 0)
		if err == nil {
			defer conn.CloseNow()
			return readCount(ctx, conn)
		}
		if ctx.Err() != nil || !time.Now().Add(retryInterval).Before(deadline) {
			return 0, fmt.Errorf("autobahn: getting the case count: %w", err)
		}
		if !logged {
			d.cfg.Logf("autobahn: waiting for the server at %s: %v", d.cfg.URL, err)
			logged = true
		}
		t := time.NewTimer(retryInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, fmt.Errorf("autobahn: getting the case count: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// readCount reads the case count (a JSON number in a text message), then
// waits for the server's close frame.
func readCount(ctx context.Context, conn *protocol.Conn) (int, error) {
	typ, p, err := conn.Read(ctx)
	if err != nil {
		return 0, fmt.Errorf("autobahn: reading the case count: %w", err)
	}
	s := strings.TrimSpace(string(p))
	n, err := strconv.Atoi(s)
	if typ != protocol.MessageText || err != nil || n < 0 {
		return 0, fmt.Errorf("autobahn: bad case count %q (want a number in a text message)", truncate(s, 40))
	}
	waitClose(ctx, conn)
	return n, nil
}

// waitClose reads, discarding data messages, until the connection ends:
// the server closes after its answer and the Conn replies on its own.
func waitClose(ctx context.Context, conn *protocol.Conn) error {
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			return err
		}
	}
}

// runCase runs case n: it echoes every message until the connection ends.
func (d *runner) runCase(ctx context.Context, n int) CaseResult {
	res := CaseResult{Case: n}
	conn, err := d.dial(ctx, "/runCase?case="+strconv.Itoa(n)+"&agent="+url.QueryEscape(d.cfg.Agent), 0)
	if err != nil {
		res.Err = err
		return res
	}
	defer conn.CloseNow()
	var buf []byte
	for {
		typ, p, err := conn.ReadAppend(ctx, buf[:0])
		if err != nil {
			res.End = err
			return res
		}
		buf = p
		// After a failed echo keep reading: the connection is closed or
		// closing, so the next read reports how it ended.
		if err := conn.Write(ctx, typ, p); err != nil {
			if res.Err == nil {
				res.Err = fmt.Errorf("echo: %w", err)
			}
			continue
		}
		res.Messages++
		res.Bytes += int64(len(p))
	}
}

// updateReports asks the server to write the reports of cfg.Agent.
func (d *runner) updateReports(ctx context.Context) error {
	// Writing the reports of hundreds of cases takes the server a while.
	conn, err := d.dial(ctx, "/updateReports?agent="+url.QueryEscape(d.cfg.Agent), updateReportsIdle)
	if err != nil {
		return fmt.Errorf("autobahn: updating the reports: %w", err)
	}
	defer conn.CloseNow()
	err = waitClose(ctx, conn)
	if ce := (*protocol.CloseError)(nil); errors.As(err, &ce) && ce.Received {
		return nil
	}
	return fmt.Errorf("autobahn: updating the reports: the server did not close the connection: %w", err)
}

// describe is the log line of a case; the Lua driver prints the same.
func describe(r CaseResult) string {
	if r.End == nil {
		return fmt.Sprintf("case %d: connection failed: %v", r.Case, r.Err)
	}
	s := fmt.Sprintf("case %d: echoed %d messages (%d bytes); ", r.Case, r.Messages, r.Bytes)
	var ce *protocol.CloseError
	if errors.As(r.End, &ce) {
		reason := ce.Reason
		if !ce.Received && ce.Err != nil && !strings.Contains(reason, ce.Err.Error()) {
			// This end closed: name the cause, as the Lua binding does.
			if reason != "" {
				reason += ": "
			}
			reason += ce.Err.Error()
		}
		s += fmt.Sprintf("closed with %d (%s)", int(ce.Code), reason)
	} else {
		s += "ended: " + r.End.Error()
	}
	if r.Err != nil {
		s += "; " + r.Err.Error()
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
