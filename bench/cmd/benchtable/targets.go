package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Target is one goal the results are checked against.
type Target struct {
	Name     string
	Required string
	Measured string
	Status   string // PASS, FAIL or MISSING
	// Base is the same ratio for Set.Base, the older tree's client measured
	// in the same run, or "" (speed targets only).
	Base string
}

// status turns a condition into PASS or FAIL.
func status(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// group returns the group named name, or nil.
func (s *Set) group(name string) *Group {
	for _, g := range s.Groups() {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// speedTarget checks ours against tcp or the best peer in group.
func (s *Set) speedTarget(group, against string, min float64) Target {
	t := Target{Name: fmt.Sprintf("%s: ours vs %s", group, against), Required: fmt.Sprintf("≥ %.2f×", min), Status: "MISSING"}
	g := s.group(group)
	if g == nil {
		return t
	}
	other := against
	if against == "best peer" {
		other = g.BestPeer()
		t.Name = fmt.Sprintf("%s: ours vs best peer (%s)", group, other)
	}
	if s.Base != "" {
		if b := g.Ratio(s.Base, other); !math.IsNaN(b) {
			t.Base = ratio(b)
		}
	}
	r := g.Ratio("ours", other)
	if math.IsNaN(r) {
		return t
	}
	t.Measured = ratio(r)
	t.Status = status(r >= min)
	return t
}

// allocTargets checks that every result of the ConnWrite, ConnWriter,
// ConnReadAppend and ConnReader families allocates nothing, and that
// ConnRead allocates once, exactly the message size.
func (s *Set) allocTargets() []Target {
	var out []Target
	for _, fam := range []string{"ConnWrite", "ConnWriter", "ConnReadAppend", "ConnReader"} {
		t := Target{Name: fam + ": allocs/op, every size and role", Required: "0", Status: "MISSING"}
		worst, n := 0.0, 0
		for _, r := range s.Sorted() {
			if strings.HasPrefix(r.Name, fam+"/") {
				n++
				worst = math.Max(worst, r.Median("allocs/op"))
			}
		}
		if n > 0 {
			t.Measured = fmt.Sprintf("max %s over %d cases", num(worst), n)
			t.Status = status(worst == 0)
		}
		out = append(out, t)
	}
	t := Target{Name: "ConnRead: one allocation of exactly the message size", Required: "B/op = size, allocs/op = 1", Status: "MISSING"}
	var bad []string
	n := 0
	for _, r := range s.Sorted() {
		if !strings.HasPrefix(r.Name, "ConnRead/") {
			continue
		}
		n++
		size := sizeOf(r.Name)
		if r.Median("allocs/op") != 1 || r.Median("B/op") != size {
			bad = append(bad, fmt.Sprintf("%s: %s B/op %s allocs/op", r.Name, num(r.Median("B/op")), num(r.Median("allocs/op"))))
		}
	}
	if n > 0 {
		t.Measured = fmt.Sprintf("%d of %d cases exact", n-len(bad), n)
		if len(bad) > 0 {
			t.Measured += "; " + strings.Join(bad, "; ")
		}
		t.Status = status(len(bad) == 0)
	}
	return append(out, t)
}

// sizeOf reads the "size=" element of a benchmark name (16, 64K, 1M).
func sizeOf(name string) float64 {
	for _, p := range strings.Split(name, "/") {
		v, ok := strings.CutPrefix(p, "size=")
		if !ok {
			continue
		}
		mult := 1.0
		switch {
		case strings.HasSuffix(v, "K"):
			mult, v = 1<<10, strings.TrimSuffix(v, "K")
		case strings.HasSuffix(v, "M"):
			mult, v = 1<<20, strings.TrimSuffix(v, "M")
		}
		var n float64
		if _, err := fmt.Sscan(v, &n); err == nil {
			return n * mult
		}
	}
	return -1
}

// metricTarget checks one metric of one result against a bound.
func (s *Set) metricTarget(name, bench, unit string, bound float64, atLeast bool) Target {
	req := "≤ " + num(bound) + " " + unit
	if atLeast {
		req = "≥ " + num(bound) + " " + unit
	}
	t := Target{Name: name, Required: req, Status: "MISSING"}
	r, ok := s.Results[bench]
	if !ok {
		return t
	}
	st, ok := r.Stat(unit)
	if !ok {
		return t
	}
	v := st.Median
	t.Measured = num(v) + " " + unit
	t.Status = status((atLeast && v >= bound) || (!atLeast && v <= bound))
	return t
}

// scriptTarget compares two clients of a script benchmark.
func (s *Set) scriptTarget(group, a, b string, min float64) Target {
	t := Target{Name: fmt.Sprintf("%s: %s vs %s", group, a, b), Required: fmt.Sprintf("≥ %.2f×", min), Status: "MISSING"}
	g := s.group(group)
	if g == nil {
		return t
	}
	r := g.Ratio(a, b)
	if math.IsNaN(r) {
		return t
	}
	t.Measured = ratio(r)
	t.Status = status(r >= min)
	return t
}

// Targets evaluates the team's targets.
func (s *Set) Targets() []Target {
	ts := []Target{
		s.speedTarget("RoundTrip16", "tcp", 0.95),
		s.speedTarget("RoundTrip16", "best peer", 1.0),
		s.speedTarget("Echo64K", "best peer", 1.1),
		s.speedTarget("Stream64K", "tcp", 0.80),
	}
	ts = append(ts, s.allocTargets()...)
	ts = append(ts,
		s.metricTarget("Masking 64 KiB (framing.Mask)", "framing.Mask/65536", "MB/s", 20000, true),
		s.scriptTarget("ScriptRoundTrip16", "lua", "node", 1.5),
		s.scriptTarget("ScriptRoundTrip16", "lua", "go", 0.8),
		s.scriptTarget("ScriptEcho64K", "lua", "node", 2.0),
		s.scriptTarget("ScriptConns100", "lua", "node", 1.5),
		// Lua allocations per message, bounded: a 16-byte round trip
		// (both ends in the process), and a 64 KiB echo with one copy of
		// the message at most (the Lua string shares the read buffer).
		s.metricTarget("Lua allocations per 16-byte round trip (LuaInProcess)", "LuaInProcess/loop=roundtrip16", "allocs/op", 20, false),
		s.metricTarget("Lua bytes allocated per 64 KiB echo (LuaInProcess)", "LuaInProcess/loop=echo64k", "B/op", 1.1*65536, false),
		// Lua connections held by coroutines parked in ch:receive()
		// (bench/lua/hold.lua, BenchmarkLuaHeld).
		s.metricTarget("Lua connection held, client side (Go heap + stacks)", "LuaHeld/server=child", "B/conn", 16384, false),
		s.metricTarget("Lua connections held, same process (RSS growth, 5,000)", "ScriptHold/server=same/conns=5000", "rss-B/conn", 20480, false),
		s.metricTarget("Lua connections held, server in another process (RSS, 10,000)", "ScriptHold/server=other/conns=10000", "rss-MB", 250, false),
		s.metricTarget("Connection at rest, client end (Go heap + stacks)", "ConnAtRest/impl=ours", "client-B/conn", 8192, false),
		s.metricTarget("Connection at rest, server end (Go heap + stacks)", "ConnAtRest/impl=ours", "server-B/conn", 8192, false),
	)
	return ts
}

// WriteTargets writes the targets as a Markdown table and returns the
// number that failed. With base (the variant name of an older tree's
// client, see Set.Base) the table has one more column: the same ratio for
// that tree, measured in the same run; a status is always ours alone.
func WriteTargets(w io.Writer, ts []Target, base string) (failed int) {
	if base == "" {
		fmt.Fprintf(w, "| target | required | measured (medians) | status |\n| --- | --- | --- | --- |\n")
	} else {
		fmt.Fprintf(w, "| target | required | measured (medians) | status | %s, same run |\n| --- | --- | --- | --- | --- |\n", base)
	}
	for _, t := range ts {
		if t.Status == "FAIL" {
			failed++
		}
		m := t.Measured
		if m == "" {
			m = "not measured"
		}
		if base == "" {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.Name, t.Required, m, t.Status)
			continue
		}
		b := t.Base
		if b == "" {
			b = "—"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", t.Name, t.Required, m, t.Status, b)
	}
	return failed
}

// WriteBaseComparison writes, for every group where both ours and the
// older tree's client (s.Base) were measured, their median ns/op and how
// many times faster ours is, under a heading of its own: the regression
// check of one run, on one machine. It writes nothing when s.Base is "" or
// was not measured.
func (s *Set) WriteBaseComparison(w io.Writer) {
	if s.Base == "" {
		return
	}
	var rows []string
	for _, g := range s.Groups() {
		ours, ok1 := g.ByVar["ours"]
		base, ok2 := g.ByVar[s.Base]
		if !ok1 || !ok2 {
			continue
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s |", g.Name, cell(ours, "ns/op"), cell(base, "ns/op"), ratio(g.Ratio("ours", s.Base))))
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "## Ours against %s, same run\n\n", s.Base)
	fmt.Fprintf(w, "| benchmark | ours ns/op | %s ns/op | ours vs %s |\n| --- | --- | --- | --- |\n", s.Base, s.Base)
	for _, r := range rows {
		fmt.Fprintln(w, r)
	}
	fmt.Fprintln(w)
}
