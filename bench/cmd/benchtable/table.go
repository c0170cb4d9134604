package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// variantKeys are the name elements that tell apart the members of a group
// compared with each other.
var variantKeys = []string{"impl=", "srv=", "client="}

// peers are the implementations "best peer" is chosen from.
var peers = []string{"gorilla", "coder", "gws", "gobwas"}

// splitVariant splits a benchmark name into its group (the name without the
// variant element) and the variant's value. ok is false for names with no
// variant element.
func splitVariant(name string) (group, variant string, ok bool) {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		for _, k := range variantKeys {
			if v, found := strings.CutPrefix(p, k); found {
				rest := append(append([]string{}, parts[:i]...), parts[i+1:]...)
				return strings.Join(rest, "/"), v, true
			}
		}
	}
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return name[:i], name[i+1:], false
	}
	return name, "", false
}

// Group is the results sharing a name but for the variant element.
type Group struct {
	Name     string
	Variants []string           // input order
	ByVar    map[string]*Result // variant -> result
}

// Groups returns s's results grouped, in input order (see splitVariant).
func (s *Set) Groups() []*Group {
	var out []*Group
	idx := map[string]*Group{}
	for _, r := range s.Sorted() {
		g, v, _ := splitVariant(r.Name)
		grp, ok := idx[g]
		if !ok {
			grp = &Group{Name: g, ByVar: map[string]*Result{}}
			idx[g] = grp
			out = append(out, grp)
		}
		grp.Variants = append(grp.Variants, v)
		grp.ByVar[v] = r
	}
	return out
}

// speed is a result's speed for ratios: 1 / median ns/op.
func speed(r *Result) float64 {
	ns := r.Median("ns/op")
	if ns <= 0 {
		return 0
	}
	return 1 / ns
}

// BestPeer returns the fastest peer variant of g, or "".
func (g *Group) BestPeer() string {
	best, bestSpeed := "", 0.0
	for _, p := range peers {
		if r, ok := g.ByVar[p]; ok && speed(r) > bestSpeed {
			best, bestSpeed = p, speed(r)
		}
	}
	return best
}

// Ratio returns how many times faster variant a is than b, or NaN.
func (g *Group) Ratio(a, b string) float64 {
	ra, oka := g.ByVar[a]
	rb, okb := g.ByVar[b]
	if !oka || !okb || speed(rb) == 0 {
		return math.NaN()
	}
	return speed(ra) / speed(rb)
}

// num formats a value compactly.
func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "—"
	case a >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// cell formats a unit's median with its range when the samples differ.
func cell(r *Result, unit string) string {
	st, ok := r.Stat(unit)
	if !ok {
		return ""
	}
	if st.N == 1 || st.Min == st.Max {
		return num(st.Median)
	}
	return fmt.Sprintf("%s [%s–%s]", num(st.Median), num(st.Min), num(st.Max))
}

// ratio formats a speed ratio.
func ratio(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", v)
}

// WriteTables writes one Markdown table per group.
func (s *Set) WriteTables(w io.Writer) {
	for _, g := range s.Groups() {
		units := unionUnits(g)
		best := g.BestPeer()
		_, hasTCP := g.ByVar["tcp"]
		hasVariants := len(g.Variants) > 1 || g.Variants[0] != ""
		fmt.Fprintf(w, "\n### %s\n\n", g.Name)
		head := []string{"variant"}
		if !hasVariants {
			head[0] = "benchmark"
		}
		for _, u := range units {
			head = append(head, u)
		}
		if best != "" {
			head = append(head, "vs best peer ("+best+")")
		}
		if hasTCP {
			head = append(head, "vs tcp")
		}
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat(" --- |", len(head)))
		for _, v := range g.Variants {
			r := g.ByVar[v]
			label := v
			if label == "" {
				label = g.Name
			}
			row := []string{label}
			for _, u := range units {
				row = append(row, cell(r, u))
			}
			if best != "" {
				row = append(row, ratio(g.Ratio(v, best)))
			}
			if hasTCP {
				row = append(row, ratio(g.Ratio(v, "tcp")))
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		}
	}
}

// unionUnits returns the units of every result in g, first-seen order.
func unionUnits(g *Group) []string {
	var out []string
	for _, v := range g.Variants {
		for _, u := range g.ByVar[v].Units() {
			if !contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out
}
