package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// RFC 6455, section 7 (and 5.5.1): the peer's close frame is validated,
// answered by echoing its code, and ends the connection.
func TestRFC7_ReceiveClose(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		code    StatusCode // in the CloseError
		reason  string
		reply   []byte     // expected reply payload (valid frames)
		fail    StatusCode // 0: valid close frame
	}{
		{name: "empty", payload: nil, code: StatusNoStatusRcvd, reply: []byte{}},
		{name: "1000 with reason", payload: closePayload(1000, "bye"), code: 1000, reason: "bye", reply: closePayload(1000, "")},
		{name: "1001", payload: closePayload(1001, ""), code: 1001, reply: closePayload(1001, "")},
		{name: "1003", payload: closePayload(1003, "x"), code: 1003, reason: "x", reply: closePayload(1003, "")},
		{name: "1007", payload: closePayload(1007, ""), code: 1007, reply: closePayload(1007, "")},
		{name: "1014", payload: closePayload(1014, ""), code: 1014, reply: closePayload(1014, "")},
		{name: "3000", payload: closePayload(3000, "app"), code: 3000, reason: "app", reply: closePayload(3000, "")},
		{name: "4999", payload: closePayload(4999, "κόσμε"), code: 4999, reason: "κόσμε", reply: closePayload(4999, "")},
		{name: "max reason", payload: closePayload(1000, strings.Repeat("r", 123)), code: 1000, reason: strings.Repeat("r", 123), reply: closePayload(1000, "")},
		{name: "one byte", payload: []byte{0x03}, fail: StatusProtocolError},
		{name: "code 0", payload: closePayload(0, ""), fail: StatusProtocolError},
		{name: "code 999", payload: closePayload(999, ""), fail: StatusProtocolError},
		{name: "code 1004", payload: closePayload(1004, ""), fail: StatusProtocolError},
		{name: "code 1005", payload: closePayload(1005, ""), fail: StatusProtocolError},
		{name: "code 1006", payload: closePayload(1006, ""), fail: StatusProtocolError},
		{name: "code 1015", payload: closePayload(1015, ""), fail: StatusProtocolError},
		{name: "code 1016", payload: closePayload(1016, ""), fail: StatusProtocolError},
		{name: "code 2999", payload: closePayload(2999, ""), fail: StatusProtocolError},
		{name: "code 5000", payload: closePayload(5000, ""), fail: StatusProtocolError},
		{name: "code 65535", payload: closePayload(65535, ""), fail: StatusProtocolError},
		{name: "reason not UTF-8", payload: closePayload(1000, "\xce\xba\xff"), fail: StatusInvalidFramePayloadData},
	}
	for _, tc := range tests {
		for _, role := range []Role{RoleServer, RoleClient} {
			t.Run(tc.name+"/"+role.String(), func(t *testing.T) {
				c, p := withRaw(t, role, nil)
				p.send(framing.OpClose, true, tc.payload)
				errc := make(chan error, 1)
				go func() { _, _, err := c.Read(readCtx(t)); errc <- err }()
				if tc.fail != 0 {
					requireFailed(t, c, p, recv(t, "the read's result", errc), tc.fail)
					return
				}
				h, reply := p.mustNext()
				require.Equal(t, framing.OpClose, h.Opcode)
				require.Equal(t, tc.reply, reply)
				p.nc.Close() // a server closes first; the client waits for it
				err := recv(t, "the read's result", errc)
				var ce *CloseError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, &CloseError{Code: tc.code, Reason: tc.reason, Remote: true, Received: true}, ce)
				require.ErrorIs(t, err, ErrClosed)
				_, _, err2 := c.Read(readCtx(t))
				require.Same(t, ce, err2)
				require.NoError(t, c.Close(1000, ""), "harmless after a completed handshake")
			})
		}
	}
}

// The server closes TCP right after the handshake; the client waits for the
// server's FIN before closing (RFC 6455, 7.1.1).
func TestRFC7_TCPCloseOrder(t *testing.T) {
	t.Run("server closes first", func(t *testing.T) {
		c, p := withRaw(t, RoleServer, nil)
		p.send(framing.OpClose, true, closePayload(1000, ""))
		_, _, err := c.Read(readCtx(t))
		require.Equal(t, StatusNormalClosure, CloseStatus(err))
		require.Equal(t, closePayload(1000, ""), p.expectClose())
		p.expectEOF()
	})
	t.Run("client waits for the server", func(t *testing.T) {
		c, p := withRaw(t, RoleClient, nil)
		p.send(framing.OpClose, true, closePayload(1001, ""))
		errc := make(chan error, 1)
		go func() {
			_, _, err := c.Read(readCtx(t))
			errc <- err
		}()
		require.Equal(t, closePayload(1001, ""), p.expectClose())
		select {
		case err := <-errc:
			t.Fatalf("client returned before the server closed TCP: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		p.nc.Close()
		require.Equal(t, StatusGoingAway, CloseStatus(recv(t, "the read's result", errc)))
	})
}

// Close refuses codes and reasons that may not be sent, and sends nothing.
func TestRFC7_CloseArguments(t *testing.T) {
	tests := []struct {
		code   StatusCode
		reason string
		is     error
	}{
		{0, "", ErrInvalidCloseCode}, {999, "", ErrInvalidCloseCode}, {1004, "", ErrInvalidCloseCode},
		{1005, "", ErrInvalidCloseCode}, {1006, "", ErrInvalidCloseCode}, {1015, "", ErrInvalidCloseCode},
		{1016, "", ErrInvalidCloseCode}, {2999, "", ErrInvalidCloseCode}, {5000, "", ErrInvalidCloseCode},
		{-1, "", ErrInvalidCloseCode},
		{1000, strings.Repeat("x", 124), errReasonTooLong},
		{1000, "\xff", ErrInvalidUTF8},
	}
	c, p := withRaw(t, RoleServer, nil)
	for _, tc := range tests {
		require.ErrorIs(t, c.Close(tc.code, tc.reason), tc.is, "%d %q", tc.code, tc.reason)
	}
	require.NoError(t, c.Write(bg(), MessageText, []byte("still open")))
	h, b := p.mustNext()
	require.Equal(t, framing.OpText, h.Opcode, "nothing was sent before")
	require.Equal(t, "still open", string(b))
}

// Close while another goroutine is blocked in Read: the reader sees the
// reply and both return.
func TestRFC7_CloseWithConcurrentReader(t *testing.T) {
	for _, tr := range transports {
		for _, closer := range []string{"client", "server"} {
			t.Run(tr+"/"+closer, func(t *testing.T) {
				cl, sv := connPair(t, tr, nil, nil)
				a, b := cl, sv
				if closer == "server" {
					a, b = sv, cl
				}
				errA := make(chan error, 1)
				errB := make(chan error, 1)
				go func() { _, _, err := a.Read(bg()); errA <- err }()
				go func() { _, _, err := b.Read(bg()); errB <- err }()
				require.NoError(t, a.Close(4001, "done"))
				for i, err := range []error{recv(t, "A's read", errA), recv(t, "B's read", errB)} {
					var ce *CloseError
					require.ErrorAs(t, err, &ce)
					require.True(t, ce.Received)
					require.Equal(t, i == 1, ce.Remote, "Remote: the peer started the close")
					require.Equal(t, i == 0, IsNormalClose(err) && ce.local, "our own close")
					require.Equal(t, StatusCode(4001), ce.Code)
				}
				_, _, err := b.Read(readCtx(t))
				require.Equal(t, "done", err.(*CloseError).Reason, "the peer sees the reason")
			})
		}
	}
}

// Close with nobody reading: Close reads itself, answers pings, discards
// data frames that follow its close frame, and stops at the peer's close.
func TestRFC7_CloseWithoutReader(t *testing.T) {
	var pings []string
	c, p := withRaw(t, RoleServer, &Options{OnPing: func(b []byte) { pings = append(pings, string(b)) }})
	// A message arrives before Close; nobody reads it.
	p.send(framing.OpText, true, []byte("unread"))
	done := make(chan error, 1)
	go func() { done <- c.Close(StatusNormalClosure, "bye") }()
	require.Equal(t, closePayload(1000, "bye"), p.expectClose())
	p.send(framing.OpBinary, false, []byte("discarded"))
	p.send(framing.OpPing, true, []byte("late ping"))
	p.send(0, true, []byte("discarded too"))
	p.send(framing.OpClose, true, closePayload(1000, "ok"))
	require.NoError(t, recv(t, "the call", done))
	p.expectEOF()
	require.Equal(t, []string{"late ping"}, pings)
	_, _, err := c.Read(readCtx(t))
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, CloseError{Code: 1000, Reason: "ok", Received: true, local: true}, *ce)
}

// A reader blocked in Read when Close is called still receives the data the
// peer sent before it saw our close frame (RFC 6455, 7.1.2: the peer may
// send data until it answers), then the peer's close. (Without
// Options.DedicatedReader that holds only for a read in progress: see
// TestRFC7_DedicatedReaderGetsDataBeforeCloseReply for a reader loop.)
func TestRFC7_DataAfterCloseDeliveredToReader(t *testing.T) {
	c, p := withRaw(t, RoleClient, nil)
	type result struct {
		data string
		err  error
	}
	reads := make(chan result, 2)
	go func() {
		for {
			_, b, err := c.Read(readCtx(t))
			reads <- result{string(b), err}
			if err != nil {
				return
			}
		}
	}()
	for len(c.readLock) == 0 {
		runtime.Gosched() // wait until the reader is inside Read
	}
	closed := make(chan error, 1)
	go func() { closed <- c.Close(3001, "") }()
	require.Equal(t, closePayload(3001, ""), p.expectClose())
	p.send(framing.OpText, true, []byte("in flight"))
	p.send(framing.OpClose, true, closePayload(3001, ""))
	p.nc.Close()
	require.NoError(t, recv(t, "Close", closed))
	first := recv(t, "the first read", reads)
	require.NoError(t, first.err)
	require.Equal(t, "in flight", first.data)
	err := recv(t, "the second read", reads).err
	require.Equal(t, StatusCode(3001), CloseStatus(err))
	require.True(t, err.(*CloseError).Received)
	require.False(t, err.(*CloseError).Remote, "we started the close")
}

// Without a reply Close gives up after CloseTimeout and closes TCP.
func TestRFC7_CloseTimeout(t *testing.T) {
	for _, reading := range []bool{false, true} {
		c, p := withRaw(t, RoleServer, &Options{CloseTimeout: 50 * time.Millisecond})
		errc := make(chan error, 1)
		if reading {
			go func() { _, _, err := c.Read(bg()); errc <- err }()
		}
		require.NoError(t, c.Close(StatusGoingAway, "away"))
		require.Equal(t, closePayload(1001, "away"), p.expectClose())
		p.expectEOF()
		if !reading {
			_, _, err := c.Read(readCtx(t))
			errc <- err
		}
		err := recv(t, "the read's result", errc)
		var ce *CloseError
		require.ErrorAs(t, err, &ce)
		require.False(t, ce.Remote)
		require.Equal(t, StatusGoingAway, ce.Code)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	}
}

// Close twice, concurrently, after the peer's close, and CloseNow.
func TestRFC7_CloseIdempotent(t *testing.T) {
	t.Run("concurrent", func(t *testing.T) {
		c, p := withRaw(t, RoleServer, nil)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); errs <- c.Close(StatusNormalClosure, "") }()
		}
		require.Equal(t, closePayload(1000, ""), p.expectClose())
		p.send(framing.OpClose, true, closePayload(1000, ""))
		waitGroup(t, "the goroutines", &wg)
		close(errs)
		var nils int
		for err := range errs {
			if err == nil {
				nils++
			} else {
				require.ErrorIs(t, err, ErrClosed)
			}
		}
		require.Equal(t, 8, nils, "the handshake completed: every Close reports nil")
		p.expectEOF() // exactly one close frame was sent
		require.NoError(t, c.Close(StatusNormalClosure, ""), "a Close after a completed handshake is harmless")
		require.ErrorIs(t, c.CloseNow(), ErrClosed)
	})
	t.Run("CloseNow", func(t *testing.T) {
		c, p := withRaw(t, RoleClient, nil)
		errc := make(chan error, 1)
		go func() { _, _, err := c.Read(bg()); errc <- err }()
		require.NoError(t, c.CloseNow())
		err := recv(t, "the read's result", errc)
		require.Equal(t, StatusAbnormalClosure, CloseStatus(err))
		require.ErrorIs(t, err, ErrClosed)
		require.ErrorIs(t, c.CloseNow(), ErrClosed)
		require.ErrorIs(t, c.Close(1000, ""), ErrClosed)
		p.expectEOF()
	})
}

// After close every call fails with an error matching ErrClosed.
func TestAfterCloseEverythingFails(t *testing.T) {
	cl, sv := connPair(t, "tcp", nil, nil)
	go func() { _, _, _ = sv.Read(bg()) }()
	require.NoError(t, cl.Close(StatusNormalClosure, ""))
	_, _, err1 := cl.Read(readCtx(t))
	_, _, err2 := cl.ReadAppend(bg(), nil)
	_, _, err3 := cl.Reader(readCtx(t))
	_, err4 := cl.Writer(bg(), MessageText)
	for _, err := range []error{
		err1, err2, err3, err4,
		cl.Write(bg(), MessageBinary, nil),
		cl.Ping(bg(), nil),
		cl.Pong(bg(), nil),
		cl.CloseNow(),
	} {
		require.ErrorIs(t, err, ErrClosed)
	}
	require.NoError(t, cl.Close(1000, ""), "the handshake completed")
	require.Same(t, err1, err2)
	require.Same(t, err1, err3)
}

func TestCloseErrorText(t *testing.T) {
	tests := []struct {
		err  *CloseError
		want string
	}{
		{&CloseError{Code: 1000, Reason: "bye", Remote: true}, "websocket: closed by peer: 1000 bye"},
		{&CloseError{Code: 1005, Remote: true}, "websocket: closed by peer: 1005"},
		{&CloseError{Code: 1002, Reason: "reserved opcode", Err: &framing.ProtocolError{Reason: "reserved opcode"}},
			"websocket: failed connection: 1002 protocol error: reserved opcode"},
		{&CloseError{Code: 1001, Reason: "away"}, "websocket: closed: 1001 away"},
		{&CloseError{Code: 1006, Err: errors.New("EOF")}, "websocket: failed connection: 1006 EOF"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, tc.err.Error())
	}
	require.Equal(t, StatusCode(-1), CloseStatus(errors.New("x")))
	require.Equal(t, StatusCode(1009), CloseStatus(&CloseError{Code: 1009}))
	require.Equal(t, "message too big", StatusMessageTooBig.String())
	require.Equal(t, "status 4000", StatusCode(4000).String())
	var code [2]byte
	binary.BigEndian.PutUint16(code[:], 1000)
	require.Equal(t, closePayload(1000, ""), code[:])
}

// Close with a message half read through a Reader: Close skips the rest of
// the frame, then data frames, up to the peer's close.
func TestRFC7_CloseMidMessage(t *testing.T) {
	c, p := withRaw(t, RoleServer, nil)
	p.send(framing.OpBinary, false, bytes.Repeat([]byte("m"), 5000))
	_, r, err := c.Reader(readCtx(t))
	require.NoError(t, err)
	_, err = io.ReadFull(r, make([]byte, 10))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Close(StatusNormalClosure, "") }()
	require.Equal(t, closePayload(1000, ""), p.expectClose())
	p.send(0, true, []byte("rest"))
	p.send(framing.OpClose, true, closePayload(1000, ""))
	require.NoError(t, recv(t, "the call", done))
	_, err = r.Read(make([]byte, 10))
	require.ErrorIs(t, err, ErrClosed)
	_, _, err = c.Read(readCtx(t))
	require.True(t, err.(*CloseError).Received)
}

// readResult is what one Read of a reader loop returned.
type readResult struct {
	data string
	err  error
}

// gatedReader runs a reader loop that waits for a token on gate before each
// Read (so it spends as long as the test wants between two reads, with the
// read lock free) and reports every result on the returned channel, which
// is closed when a Read failed.
func gatedReader(c *Conn, gate <-chan struct{}) <-chan readResult {
	reads := make(chan readResult, 8)
	go func() {
		defer close(reads)
		for range gate {
			_, b, err := c.Read(bg())
			reads <- readResult{string(b), err}
			if err != nil {
				return
			}
		}
	}()
	return reads
}

// With Options.DedicatedReader, Close leaves the peer's reply to the reader
// loop even while that loop is between two reads: the data the peer sent
// before its close reply (RFC 6455, 7.1.2) is delivered, then the peer's
// close. Without the option Close would drain the stream itself and
// discard "in flight".
func TestRFC7_DedicatedReaderGetsDataBeforeCloseReply(t *testing.T) {
	for _, role := range []Role{RoleClient, RoleServer} {
		t.Run(role.String(), func(t *testing.T) {
			c, p := withRaw(t, role, &Options{DedicatedReader: true})
			gate := make(chan struct{})
			defer close(gate)
			reads := gatedReader(c, gate)
			p.send(framing.OpText, true, []byte("before close"))
			gate <- struct{}{}
			first := recv(t, "the first read", reads)
			require.NoError(t, first.err)
			require.Equal(t, "before close", first.data)

			// The reader now waits at the gate: no read in progress.
			closed := make(chan error, 1)
			go func() { closed <- c.Close(3001, "bye") }()
			require.Equal(t, closePayload(3001, "bye"), p.expectClose())
			p.send(framing.OpText, false, []byte("in "))
			p.send(framing.OpPing, true, []byte("p"))
			p.send(0, true, []byte("flight"))
			p.send(framing.OpBinary, true, []byte("second"))
			p.send(framing.OpClose, true, closePayload(3001, "ok"))
			p.nc.Close() // a server closes first; a client waits for it
			select {
			case err := <-closed:
				t.Fatalf("Close returned (%v) before the reader met the close reply", err)
			default:
			}

			want := []readResult{{data: "in flight"}, {data: "second"}}
			for _, w := range want {
				gate <- struct{}{}
				require.Equal(t, w, recv(t, "a read", reads))
			}
			gate <- struct{}{}
			last := recv(t, "the last read", reads)
			var ce *CloseError
			require.ErrorAs(t, last.err, &ce)
			require.Equal(t, CloseError{Code: 3001, Reason: "ok", Received: true, local: true}, *ce)
			require.NoError(t, recv(t, "Close", closed))
			_, ok := recv2(t, "the reader loop's end", reads)
			require.False(t, ok, "the reader loop ended")
		})
	}
}

// With Options.DedicatedReader and no reader making progress, Close does
// not read the peer's reply itself: it gives up after CloseTimeout, closes
// the connection, and a later Read reports the timeout (not the reply).
func TestRFC7_DedicatedReaderCloseTimeout(t *testing.T) {
	tests := []struct {
		name   string
		reader bool // a reader loop exists but is stuck between two reads
	}{
		{name: "no reader"},
		{name: "stalled reader", reader: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, p := withRaw(t, RoleServer, &Options{DedicatedReader: true, CloseTimeout: 50 * time.Millisecond})
			gate := make(chan struct{})
			defer close(gate)
			var reads <-chan readResult
			if tc.reader {
				reads = gatedReader(c, gate)
			}
			closed := make(chan error, 1)
			go func() { closed <- c.Close(StatusGoingAway, "away") }()
			require.Equal(t, closePayload(1001, "away"), p.expectClose())
			p.send(framing.OpText, true, []byte("unread"))
			p.send(framing.OpClose, true, closePayload(1001, ""))
			require.NoError(t, recv(t, "Close", closed))
			// Closed with the peer's frames unread: EOF or a reset.
			_, err := io.Copy(io.Discard, p.br)
			if err != nil {
				require.ErrorIs(t, err, syscall.ECONNRESET)
			}

			if tc.reader {
				gate <- struct{}{}
				r := recv(t, "a read", reads)
				require.Empty(t, r.data)
				err = r.err
			} else {
				_, _, err = c.Read(readCtx(t))
			}
			var ce *CloseError
			require.ErrorAs(t, err, &ce)
			require.False(t, ce.Remote, "Close must not have read the reply")
			require.Equal(t, StatusGoingAway, ce.Code)
			require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		})
	}
}
