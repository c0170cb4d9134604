package clients

import (
	"errors"
	"sync"

	"github.com/lxzan/gws"

	"github.com/wslua/wslua/bench/internal/echo"
)

// gwsClient uses lxzan/gws, whose API is event-driven: round trips are
// chained from OnMessage on the read loop's goroutine, as gws intends, rather
// than handed to the caller's goroutine one message at a time.
type gwsClient struct {
	c        *gws.Conn
	h        *gwsEvents
	loopDone chan struct{}
}

// gwsEvents drives a round-trip run or counts a stream's acks.
type gwsEvents struct {
	gws.BuiltinEventHandler

	mu        sync.Mutex
	streaming bool // acks expected, not echoes
	remaining int  // echoes still to receive in a round-trip run
	op        gws.Opcode
	p         []byte
	done      chan error // one value per finished run or ack
}

// errGWSClosed reports the connection ending during a run.
var errGWSClosed = errors.New("clients: gws connection closed")

func dialGWS(rawURL string) (Client, error) {
	h := &gwsEvents{done: make(chan error, 1)}
	c, _, err := gws.NewClient(h, &gws.ClientOption{
		Addr:                rawURL,
		ReadMaxPayloadSize:  echo.MaxMessage,
		WriteMaxPayloadSize: echo.MaxMessage,
		CheckUtf8Enabled:    true,
	})
	if err != nil {
		return nil, err
	}
	g := &gwsClient{c: c, h: h, loopDone: make(chan struct{})}
	go func() {
		defer close(g.loopDone)
		c.ReadLoop()
	}()
	return g, nil
}

// finish reports the end of a run without blocking the read loop.
func (h *gwsEvents) finish(err error) {
	select {
	case h.done <- err:
	default:
	}
}

// OnMessage checks m and sends the next message of a round-trip run.
func (h *gwsEvents) OnMessage(c *gws.Conn, m *gws.Message) {
	h.mu.Lock()
	streaming, op, p := h.streaming, h.op, h.p
	var err error
	if streaming {
		err = checkAck(m.Bytes())
	} else {
		err = check(m.Bytes(), p)
		h.remaining--
	}
	last := h.remaining <= 0
	h.mu.Unlock()
	_ = m.Close()
	switch {
	case err != nil || streaming || last:
		h.finish(err)
	default:
		if err := c.WriteMessage(op, p); err != nil {
			h.finish(err)
		}
	}
}

// OnClose ends a run in progress.
func (h *gwsEvents) OnClose(_ *gws.Conn, err error) {
	if err == nil {
		err = errGWSClosed
	}
	h.finish(err)
}

func (g *gwsClient) RoundTrips(n int, text bool, p []byte) error {
	if n <= 0 {
		return nil
	}
	op := gws.OpcodeBinary
	if text {
		op = gws.OpcodeText
	}
	g.h.mu.Lock()
	g.h.streaming, g.h.remaining, g.h.op, g.h.p = false, n, op, p
	g.h.mu.Unlock()
	if err := g.c.WriteMessage(op, p); err != nil {
		return err
	}
	return <-g.h.done
}

func (g *gwsClient) Stream(n int, p []byte) error {
	if err := checkStreamCount(n); err != nil {
		return err
	}
	g.h.mu.Lock()
	g.h.streaming, g.h.remaining, g.h.op, g.h.p = true, 0, gws.OpcodeBinary, p
	g.h.mu.Unlock()
	for i := 1; i <= n; i++ {
		if err := g.c.WriteMessage(gws.OpcodeBinary, p); err != nil {
			return err
		}
		if i%echo.AckEvery == 0 {
			if err := <-g.h.done; err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *gwsClient) Close() error {
	err := g.c.NetConn().Close()
	<-g.loopDone
	return err
}
