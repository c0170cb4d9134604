package interop

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/testserver"
)

// contractSubprotocols are the subprotocols every contract server supports,
// in its order of preference.
var contractSubprotocols = []string{"chat", "superchat"}

// targetKind tells which set of paths a server speaks.
type targetKind int

const (
	// kindContract: the interop contract of doc.go (/echo, /fragecho,
	// /ping, /close, /proto), spoken by every peer server and by our
	// handshake.Upgrade server.
	kindContract targetKind = iota
	// kindTestserver: our testserver's scripted paths (/echo, /fragmented,
	// /ping, /close, /subprotocol).
	kindTestserver
)

// target is a running server under test.
type target struct {
	name string
	kind targetKind
	base string // ws://127.0.0.1:port
	// customPing: the server sends the ping payload it is asked for (coder
	// cannot choose one: it sends its own).
	customPing bool
	closes     *closeLog
}

var sessionIDs atomic.Int64

// newSessionID returns an id unique in this process, used to find the
// close report of one session.
func newSessionID() string { return "s" + strconv.FormatInt(sessionIDs.Add(1), 10) }

func (tg *target) url(path string, q url.Values) string {
	if len(q) == 0 {
		return tg.base + path
	}
	return tg.base + path + "?" + q.Encode()
}

func (tg *target) echoURL(id string) string {
	return tg.url("/echo", url.Values{"id": {id}})
}

func (tg *target) closeURL(code int, reason, id string) string {
	return tg.url("/close", url.Values{"code": {strconv.Itoa(code)}, "reason": {reason}, "id": {id}})
}

func (tg *target) pingURL(data string) string {
	return tg.url("/ping", url.Values{"data": {data}})
}

// protoURL is the path that negotiates the subprotocols; on a contract
// server it first sends "proto:" and the subprotocol it selected.
func (tg *target) protoURL() string {
	if tg.kind == kindTestserver {
		return tg.url("/subprotocol", nil)
	}
	return tg.url("/proto", nil)
}

// checkPingResult checks the text message a server sends after it got the
// pong to the ping of /ping?data=data, given the pings the client saw.
func (tg *target) checkPingResult(t *testing.T, msg []byte, data string, pings [][]byte) {
	t.Helper()
	require.Len(t, pings, 1, "the client should have seen exactly one ping")
	if tg.kind == kindTestserver {
		var rep testserver.Report
		require.NoError(t, json.Unmarshal(msg, &rep), "report %q", msg)
		require.Equal(t, 1, rep.Count, "pongs the server received")
		require.Equal(t, []string{hex.EncodeToString([]byte(data))}, rep.Pongs, "pong payloads")
		require.True(t, rep.InOrder)
		require.Equal(t, data, string(pings[0]), "ping payload seen by the client")
		return
	}
	if tg.customPing {
		require.Equal(t, data, string(pings[0]), "ping payload seen by the client")
	} else {
		require.NotEmpty(t, pings[0], "the server's own ping payload")
	}
	require.Equal(t, "pong:"+string(pings[0]), string(msg), "the server reports the pong payload it received")
}

// closeReport is what a server saw of the client's close frame.
type closeReport struct {
	ID     string `json:"id"`
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// closeLog collects close reports by session id.
type closeLog struct {
	mu      sync.Mutex
	reports map[string]closeReport
	changed chan struct{}
}

func newCloseLog() *closeLog {
	return &closeLog{reports: make(map[string]closeReport), changed: make(chan struct{})}
}

func (l *closeLog) add(r closeReport) {
	if r.ID == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reports[r.ID] = r
	close(l.changed)
	l.changed = make(chan struct{})
}

// wait returns the report of session id, waiting for it at most 10 s.
func (l *closeLog) wait(t *testing.T, id string) closeReport {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		l.mu.Lock()
		r, ok := l.reports[id]
		changed := l.changed
		l.mu.Unlock()
		if ok {
			return r
		}
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("the server never reported the end of session %s", id)
			return closeReport{}
		}
	}
}

// newTestserverTarget starts our testserver (in this process).
func newTestserverTarget(t *testing.T) *target {
	log := newCloseLog()
	srv := testserver.New(&testserver.Options{
		OnClose: func(ev testserver.CloseEvent) {
			q, _ := url.ParseQuery(ev.Query)
			log.add(closeReport{ID: q.Get("id"), Code: int(ev.Code), Reason: ev.Reason})
		},
	})
	t.Cleanup(srv.Close)
	return &target{name: "testserver", kind: kindTestserver, base: srv.URL(), customPing: true, closes: log}
}

// fragmentedSource says how a client gets a message the server sends in
// several frames: on a contract server it sends msg to /fragecho, which
// echoes it in parts; the testserver's /fragmented sends it at once.
func (tg *target) fragmentedURL(msg []byte, binary bool, parts int) (u string, sendFirst bool) {
	if tg.kind == kindTestserver {
		q := url.Values{"text": {string(msg)}, "parts": {strconv.Itoa(parts)}}
		if binary {
			q.Set("binary", "1")
		}
		return tg.url("/fragmented", q), false
	}
	return tg.url("/fragecho", url.Values{"parts": {strconv.Itoa(parts)}}), true
}

func (tg *target) String() string { return fmt.Sprintf("%s(%s)", tg.name, tg.base) }
