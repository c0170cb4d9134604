package driver

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of Config's zero fields.
const (
	// DefaultAgent is the agent name reported to the fuzzingserver.
	DefaultAgent = "wslua-go"
	// DefaultReadLimit is large enough for the 16 MiB messages of the
	// Autobahn section 9 (limits and performance).
	DefaultReadLimit = 64 << 20
	// DefaultReadTimeout is the idle read timeout of every connection: no
	// Autobahn case leaves a connection silent for that long.
	DefaultReadTimeout = 60 * time.Second
	// DefaultDialTimeout bounds each opening handshake.
	DefaultDialTimeout = 10 * time.Second
	// updateReportsIdle is the shortest idle read timeout of the
	// /updateReports connection, on which the server answers only once it
	// has written every report file.
	updateReportsIdle = 10 * time.Minute
	// retryInterval is the pause between two attempts while Config.Wait
	// lets Run wait for the fuzzingserver to start.
	retryInterval = 250 * time.Millisecond
)

// Config configures Run. Only URL is required.
type Config struct {
	// URL is the fuzzingserver's base URL, such as ws://127.0.0.1:9001. The
	// driver appends /getCaseCount, /runCase and /updateReports to its path.
	URL string
	// Agent is the name the results are filed under. "" means DefaultAgent.
	Agent string
	// First and Last select the cases to run, numbered from 1, both
	// included. First 0 means 1; Last 0 means the server's last case, and a
	// Last beyond the server's count is lowered to it.
	First, Last int
	// ReadLimit is the largest message echoed. 0 means DefaultReadLimit.
	ReadLimit int64
	// NoCompression stops the driver from offering permessage-deflate
	// (Autobahn sections 12 and 13 then report UNIMPLEMENTED).
	NoCompression bool
	// ReadTimeout is the idle read timeout of every connection. 0 means
	// DefaultReadTimeout; negative means none.
	ReadTimeout time.Duration
	// DialTimeout bounds each opening handshake. 0 means
	// DefaultDialTimeout; negative means none (the context still applies).
	DialTimeout time.Duration
	// Wait, if positive, makes Run retry the first connection (case count)
	// for up to that long while it fails, for a server still starting.
	Wait time.Duration
	// Logf, if set, receives one line per case and the progress lines.
	Logf func(format string, args ...any)
	// OnCase, if set, is called after every case with its outcome.
	OnCase func(CaseResult)
}

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.URL == "" {
		return c, errors.New("autobahn: no fuzzingserver URL")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return c, fmt.Errorf("autobahn: bad URL: %w", err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return c, fmt.Errorf("autobahn: URL scheme must be ws or wss, got %q", u.Scheme)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return c, fmt.Errorf("autobahn: URL must be a base URL such as ws://127.0.0.1:9001, got %q", c.URL)
	}
	if c.Agent == "" {
		c.Agent = DefaultAgent
	}
	if c.First < 0 || c.Last < 0 {
		return c, fmt.Errorf("autobahn: case numbers start at 1, got %d-%d", c.First, c.Last)
	}
	if c.First == 0 {
		c.First = 1
	}
	if c.Last != 0 && c.Last < c.First {
		return c, fmt.Errorf("autobahn: empty case range %d-%d", c.First, c.Last)
	}
	if c.ReadLimit == 0 {
		c.ReadLimit = DefaultReadLimit
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return c, nil
}

// ParseRange parses a case range as given on a command line: "" (every
// case: 0, 0), "N" (only case N), "A-B" (A to B), "A-" (A to the last) or
// "-B" (1 to B). Cases are numbered from 1.
func ParseRange(s string) (first, last int, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, 0, nil
	}
	lo, hi, isRange := strings.Cut(s, "-")
	num := func(v string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || strings.HasPrefix(strings.TrimSpace(v), "+") {
			return 0, fmt.Errorf("bad case range %q: want N, A-B, A- or -B with cases numbered from 1", s)
		}
		return n, nil
	}
	if !isRange {
		n, err := num(lo)
		return n, n, err
	}
	if strings.TrimSpace(lo) == "" && strings.TrimSpace(hi) == "" {
		return 0, 0, fmt.Errorf("bad case range %q: want N, A-B, A- or -B with cases numbered from 1", s)
	}
	if strings.TrimSpace(lo) != "" {
		if first, err = num(lo); err != nil {
			return 0, 0, err
		}
	}
	if strings.TrimSpace(hi) != "" {
		if last, err = num(hi); err != nil {
			return 0, 0, err
		}
	}
	if last != 0 && last < max(first, 1) {
		return 0, 0, fmt.Errorf("bad case range %q: empty", s)
	}
	return first, last, nil
}
