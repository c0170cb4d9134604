package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Behavior values written by the Autobahn testsuite in index.json, for the
// "behavior" and "behaviorClose" fields.
const (
	behaviorOK             = "OK"
	behaviorNonStrict      = "NON-STRICT"
	behaviorInformational  = "INFORMATIONAL"
	behaviorUnimplemented  = "UNIMPLEMENTED"
	behaviorFailed         = "FAILED"
	behaviorWrongCode      = "WRONG CODE"
	behaviorUnclean        = "UNCLEAN"
	behaviorFailedByClient = "FAILED BY CLIENT"
)

// caseResult is one case of one agent in index.json.
type caseResult struct {
	Behavior        string `json:"behavior"`
	BehaviorClose   string `json:"behaviorClose"`
	Duration        int64  `json:"duration"`
	RemoteCloseCode *int   `json:"remoteCloseCode"`
	ReportFile      string `json:"reportfile"`
}

// index is the whole index.json: agent -> case ID ("1.1.1") -> result.
type index map[string]map[string]caseResult

// readIndex decodes an index.json. An entry without a behavior is an error:
// such a file is not an Autobahn report.
func readIndex(r io.Reader) (index, error) {
	dec := json.NewDecoder(r)
	var idx index
	if err := dec.Decode(&idx); err != nil {
		return nil, fmt.Errorf("decoding index.json: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decoding index.json: trailing data after the JSON object")
	}
	for agent, cases := range idx {
		for id, c := range cases {
			if _, err := parseCaseID(id); err != nil {
				return nil, fmt.Errorf("agent %q: %w", agent, err)
			}
			if c.Behavior == "" {
				return nil, fmt.Errorf("agent %q, case %s: no behavior", agent, id)
			}
		}
	}
	return idx, nil
}

// parseCaseID splits a case ID such as "6.4.12" into its numbers.
func parseCaseID(id string) ([]int, error) {
	parts := strings.Split(id, ".")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p == "" || p[0] == '+' {
			return nil, fmt.Errorf("bad case ID %q", id)
		}
		nums[i] = n
	}
	return nums, nil
}

// compareCaseIDs orders case IDs numerically: 1.1.2 before 1.1.10. Both
// must be valid (parseCaseID); invalid ones sort by string.
func compareCaseIDs(a, b string) int {
	x, errA := parseCaseID(a)
	y, errB := parseCaseID(b)
	if errA != nil || errB != nil {
		return strings.Compare(a, b)
	}
	for i := 0; i < len(x) && i < len(y); i++ {
		if x[i] != y[i] {
			if x[i] < y[i] {
				return -1
			}
			return 1
		}
	}
	return len(x) - len(y)
}
