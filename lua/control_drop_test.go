package lua

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// pingingServer is a server that sends n pings, one every `every`, each
// only once the pong of the previous one came (at most pongWait later),
// while it reads and counts the client's messages; then it closes with
// 1000 "done". It reports on the returned channel either "all pongs, k
// messages" or what went wrong.
func pingingServer(t *testing.T, n int, every, pongWait time.Duration) (string, <-chan string) {
	t.Helper()
	report := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		pongs := make(chan string, n)
		conn, err := handshake.Upgrade(w, r, &handshake.UpgradeOptions{Conn: protocol.Options{
			OnPong: func(p []byte) { pongs <- string(p) },
		}})
		if err != nil {
			report <- "upgrade: " + err.Error()
			return
		}
		defer conn.CloseNow()
		var got atomic.Int64
		readerDone := make(chan struct{})
		go func() {
			defer close(readerDone)
			for {
				if _, _, err := conn.Read(ctx); err != nil {
					return
				}
				got.Add(1)
			}
		}()
		for i := range n {
			want := "p" + strconv.Itoa(i)
			if err := conn.Ping(ctx, []byte(want)); err != nil {
				report <- fmt.Sprintf("ping %d: %v", i, err)
				return
			}
			select {
			case p := <-pongs:
				if p != want {
					report <- fmt.Sprintf("ping %s answered by pong %q", want, p)
					return
				}
			case <-time.After(pongWait):
				report <- fmt.Sprintf("no pong for ping %d of %d within %v (the client's reader is stuck)", i, n, pongWait)
				return
			case <-ctx.Done():
				return
			}
			time.Sleep(every)
		}
		_ = conn.Close(protocol.StatusNormalClosure, "done")
		<-readerDone
		report <- fmt.Sprintf("all pongs, %d messages", got.Load())
	}))
	t.Cleanup(func() {
		cancel()
		hs.CloseClientConnections()
		hs.Close()
		wg.Wait()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http"), report
}

// TestSendOnlyClientSurvivesServerPings: a client that only sends (it
// never receives) against a server that pings it often stays up, and its
// pongs keep flowing: pings that find the receive channel full are not
// delivered (tostring counts them), the reader goes on reading. Before,
// the pings filled the channel (64 here, the default), the reader blocked
// inside the ping callback, later pings went unanswered and a server
// would have killed the healthy connection. The final close message still
// arrives (data and the final close wait for room as before).
func TestSendOnlyClientSurvivesServerPings(t *testing.T) {
	const n = 300
	url, report := pingingServer(t, n, 2*time.Millisecond, 2*time.Second)
	out, err := runLua(t, nil, url, `
		local client = assert(websocket.connect(WS))
		local sent = 0
		while true do
			local ok, err = client:send("m" .. sent)
			if not ok then print("send", err) break end
			sent = sent + 1
			time.sleep(2)
		end
		print("state", tostring(client))
		local ch = client:receive()
		local pings, last = 0
		while true do
			local m, ok = ch:receive()
			if not ok then break end
			if m.type == websocket.TYPE_PING then pings = pings + 1 end
			last = m
		end
		print("pings", pings)
		print("last", last.type, last.code, last.reason, last.initiator)
		print("sent", sent)`)
	require.NoError(t, err, out)
	var r string
	select {
	case r = <-report:
	case <-time.After(scriptTimeout):
		t.Fatal("the server reported nothing")
	}
	got := regexp.MustCompile(`^all pongs, (\d+) messages$`).FindStringSubmatch(r)
	require.NotNil(t, got, "server: %s\nclient:\n%s", r, out)
	require.Contains(t, out, "send\twebsocket: connection closed (1000 done)\n")
	require.Contains(t, out, "last\tclose\t1000\tdone\tserver\n")
	require.Contains(t, out, "sent\t"+got[1]+"\n", "the server got every message the client sent")

	// Every ping was either delivered or counted as not delivered.
	delivered := regexp.MustCompile(`pings\t(\d+)\n`).FindStringSubmatch(out)
	dropped := regexp.MustCompile(`state\twebsocket\.client\(ws://[^,]+, closed, (\d+) pings/pongs not delivered\)\n`).FindStringSubmatch(out)
	require.NotNil(t, delivered, out)
	require.NotNil(t, dropped, out)
	d, _ := strconv.Atoi(delivered[1])
	x, _ := strconv.Atoi(dropped[1])
	require.Equal(t, 64, d, "the channel holds 64: the first 64 pings are delivered")
	require.Equal(t, n, d+x, out)
}
