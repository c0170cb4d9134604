package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// behaviorOrder is the order in which behavior counts are printed; the
// first five are always printed, other values only when present.
var behaviorOrder = []string{
	behaviorOK, behaviorNonStrict, behaviorInformational, behaviorUnimplemented, behaviorFailed,
}

// closeOrder is the order in which behaviorClose counts are printed (only
// the values present).
var closeOrder = []string{
	behaviorOK, behaviorWrongCode, behaviorFailedByClient, behaviorInformational,
	behaviorUnimplemented, behaviorNonStrict, behaviorUnclean, behaviorFailed,
}

// failing reports whether a case counts as a failure: its behavior is
// FAILED, or its closing behavior is FAILED or UNCLEAN (the TCP connection
// ended without a closing handshake; the Autobahn report shows it as a
// failure too).
func failing(c caseResult) bool {
	return c.Behavior == behaviorFailed || c.BehaviorClose == behaviorFailed || c.BehaviorClose == behaviorUnclean
}

// agentSummary is the digest of one agent's results.
type agentSummary struct {
	Agent         string
	Cases         int
	Behavior      map[string]int
	BehaviorClose map[string]int
	NotOK         []notOK // ordered by case ID
	Failed        int     // cases for which failing is true
}

// notOK is a case whose behavior or closing behavior is not OK.
type notOK struct {
	ID     string
	Result caseResult
}

// summarize digests idx, one summary per agent, ordered by agent name.
func summarize(idx index) []agentSummary {
	agents := make([]string, 0, len(idx))
	for a := range idx {
		agents = append(agents, a)
	}
	slices.Sort(agents)
	out := make([]agentSummary, 0, len(agents))
	for _, a := range agents {
		s := agentSummary{Agent: a, Behavior: map[string]int{}, BehaviorClose: map[string]int{}}
		ids := make([]string, 0, len(idx[a]))
		for id := range idx[a] {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, compareCaseIDs)
		for _, id := range ids {
			c := idx[a][id]
			s.Cases++
			s.Behavior[c.Behavior]++
			s.BehaviorClose[c.BehaviorClose]++
			if c.Behavior != behaviorOK || c.BehaviorClose != behaviorOK {
				s.NotOK = append(s.NotOK, notOK{ID: id, Result: c})
			}
			if failing(c) {
				s.Failed++
			}
		}
		out = append(out, s)
	}
	return out
}

// writeSummary prints the summaries of one report file to w.
func writeSummary(w io.Writer, name string, sums []agentSummary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "== %s\n", name)
	if len(sums) == 0 {
		b.WriteString("no agents in the report\n")
	}
	for _, s := range sums {
		fmt.Fprintf(&b, "agent %s: %d cases\n", s.Agent, s.Cases)
		fmt.Fprintf(&b, "  behavior:      %s\n", formatCounts(s.Behavior, behaviorOrder, true))
		fmt.Fprintf(&b, "  behaviorClose: %s\n", formatCounts(s.BehaviorClose, closeOrder, false))
		if len(s.NotOK) == 0 {
			b.WriteString("  every case OK\n")
		} else {
			fmt.Fprintf(&b, "  not OK (%d):\n", len(s.NotOK))
			for _, n := range s.NotOK {
				mark := " "
				if failing(n.Result) {
					mark = "!"
				}
				fmt.Fprintf(&b, "  %s %-10s behavior=%-14s close=%-16s remoteCloseCode=%s\n",
					mark, n.ID, n.Result.Behavior, orDash(n.Result.BehaviorClose), closeCode(n.Result.RemoteCloseCode))
			}
		}
		if s.Failed > 0 {
			fmt.Fprintf(&b, "  FAILED: %d case(s)\n", s.Failed)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatCounts renders counts as "OK 10, FAILED 2": the values of order
// first (all of them if always, else only those present), then any other
// values in sorted order.
func formatCounts(counts map[string]int, order []string, always bool) string {
	var parts []string
	for _, k := range order {
		if n, ok := counts[k]; ok || always {
			parts = append(parts, k+" "+strconv.Itoa(n))
		}
	}
	var extra []string
	for k := range counts {
		if !slices.Contains(order, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		parts = append(parts, orDash(k)+" "+strconv.Itoa(counts[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func closeCode(c *int) string {
	if c == nil {
		return "none"
	}
	return strconv.Itoa(*c)
}
