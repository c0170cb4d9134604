package main

import (
	"bufio"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Result holds every sample of one benchmark, by unit ("ns/op", "MB/s",
// "B/op", "allocs/op", or a custom metric).
type Result struct {
	Name    string               // without the "Benchmark" prefix and -P suffix
	Samples map[string][]float64 // unit -> one value per run
	order   int                  // first appearance in the input
}

// Set is every benchmark read from one or more `go test -bench` outputs.
type Set struct {
	Results map[string]*Result
	CPU     string
	Procs   string // GOMAXPROCS seen in the names' -P suffix
	// Base is the variant name under which an older tree's client of ours
	// was measured in the same run (run.sh's BASE_REV), or "": its rows are
	// compared with ours, never counted as a peer.
	Base string
}

var procSuffix = regexp.MustCompile(`-(\d+)$`)

// NewSet returns an empty Set.
func NewSet() *Set { return &Set{Results: map[string]*Result{}} }

// Parse reads one `go test -bench` output into a new Set.
func Parse(r io.Reader) (*Set, error) {
	s := NewSet()
	return s, s.Read(r)
}

// Read adds the results of one `go test -bench` output (one file: a "pkg:"
// line holds until the end of it); other lines are ignored. Several runs of
// the same benchmark (-count, or several inputs) become several samples.
func (s *Set) Read(r io.Reader) error {
	prefix := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "cpu: "); ok {
			s.CPU = strings.TrimSpace(v)
			continue
		}
		if v, ok := strings.CutPrefix(line, "pkg: "); ok {
			prefix = pkgPrefix(strings.TrimSpace(v))
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue
		}
		name := prefix + strings.TrimPrefix(f[0], "Benchmark")
		if m := procSuffix.FindStringSubmatch(name); m != nil {
			name = strings.TrimSuffix(name, m[0])
			s.Procs = m[1]
		}
		res, ok := s.Results[name]
		if !ok {
			res = &Result{Name: name, Samples: map[string][]float64{}, order: len(s.Results)}
			s.Results[name] = res
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			res.Samples[f[i+1]] = append(res.Samples[f[i+1]], v)
		}
	}
	return sc.Err()
}

// Sorted returns the results in input order.
func (s *Set) Sorted() []*Result {
	out := make([]*Result, 0, len(s.Results))
	for _, r := range s.Results {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order < out[j].order })
	return out
}

// Stat is the median and range of a unit's samples.
type Stat struct {
	Median, Min, Max float64
	N                int
}

// Stat summarizes the samples of unit; ok is false if there are none.
func (r *Result) Stat(unit string) (st Stat, ok bool) {
	v := r.Samples[unit]
	if len(v) == 0 {
		return st, false
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	st = Stat{Min: s[0], Max: s[len(s)-1], N: len(s)}
	if n := len(s); n%2 == 1 {
		st.Median = s[n/2]
	} else {
		st.Median = (s[n/2-1] + s[n/2]) / 2
	}
	return st, true
}

// Median returns the median of unit, or -1 if it has no samples.
func (r *Result) Median(unit string) float64 {
	st, ok := r.Stat(unit)
	if !ok {
		return -1
	}
	return st.Median
}

// Units returns r's units: the standard ones first, then the others sorted.
func (r *Result) Units() []string {
	std := []string{"ns/op", "MB/s", "B/op", "allocs/op"}
	var out, extra []string
	for _, u := range std {
		if _, ok := r.Samples[u]; ok {
			out = append(out, u)
		}
	}
	for u := range r.Samples {
		if !contains(std, u) {
			extra = append(extra, u)
		}
	}
	sort.Strings(extra)
	return append(out, extra...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// benchPkg is the package whose benchmark names are kept as they are.
const benchPkg = "github.com/wslua/wslua/bench"

// pkgPrefix returns the prefix given to the names of benchmarks from pkg:
// none for this module's root package, "NAME." (the last path element)
// for any other, so that framing's BenchmarkMask reads "framing.Mask".
func pkgPrefix(pkg string) string {
	if pkg == benchPkg || pkg == "" {
		return ""
	}
	return pkg[strings.LastIndexByte(pkg, '/')+1:] + "."
}
