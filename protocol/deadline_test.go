package protocol

import (
	"context"
	"io"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// ReadTimeout is an idle timeout: a silent peer fails the connection with
// 1006 and a timeout error; a frame arriving in time resets it.
func TestReadTimeout(t *testing.T) {
	c, p := withRaw(t, RoleServer, &Options{ReadTimeout: 200 * time.Millisecond})
	p.send(framing.OpText, true, []byte("in time"))
	_, msg, err := c.Read(bg())
	require.NoError(t, err)
	require.Equal(t, "in time", string(msg))
	_, _, err = c.Read(bg())
	require.Equal(t, StatusAbnormalClosure, CloseStatus(err))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout())
	p.expectEOF()
	_, _, err2 := c.Read(bg())
	require.Same(t, err, err2)
}

// A Read cancelled while it waits for the next message returns ctx.Err()
// and the Conn stays usable: the next Read gets the message. Cancelled in
// the middle of a message, the stream cannot be resumed: the connection
// fails (1006, Err the context's error), no half-dead read side.
func TestReadContextCancel(t *testing.T) {
	for _, mode := range []string{"Read", "ReadAppend", "Reader", "Reader mid-message", "Read mid-header"} {
		t.Run(mode, func(t *testing.T) {
			c, p := withRaw(t, RoleClient, nil)
			ctx, cancel := context.WithCancel(bg())
			errc := make(chan error, 1)
			go func() {
				var err error
				switch mode {
				case "Read", "Read mid-header":
					_, _, err = c.Read(ctx)
				case "ReadAppend":
					_, _, err = c.ReadAppend(ctx, nil)
				default:
					var r io.Reader
					_, r, err = c.Reader(ctx)
					for err == nil { // "par", then blocks inside the message
						_, err = r.Read(make([]byte, 10))
					}
				}
				errc <- err
			}()
			switch mode {
			case "Reader mid-message": // cancel in the middle of a message
				p.send(framing.OpText, false, []byte("par"))
			case "Read mid-header": // a header cut short stays buffered
				p.write(p.frame(framing.OpText, true, []byte("whole"))[:1])
			}
			time.Sleep(20 * time.Millisecond)
			cancel()
			err := recv(t, "the read's result", errc)
			require.ErrorIs(t, err, context.Canceled)
			if mode == "Reader mid-message" {
				_, _, err = c.Read(bg())
				require.ErrorIs(t, err, ErrClosed, "the connection failed")
				require.ErrorIs(t, err, context.Canceled, "with the cancellation as its cause")
				require.Equal(t, StatusAbnormalClosure, CloseStatus(err))
				require.ErrorIs(t, c.Write(bg(), MessageText, []byte("x")), ErrClosed)
				p.expectEOF()
				return
			}
			if mode == "Read mid-header" {
				p.write(p.frame(framing.OpText, true, []byte("whole"))[1:])
			} else {
				p.send(framing.OpText, true, []byte("whole"))
			}
			_, msg, err := c.Read(bg())
			require.NoError(t, err, "the read side stays usable")
			require.Equal(t, "whole", string(msg))
			require.NoError(t, c.Write(bg(), MessageText, []byte("still writable")))
			_, b := p.mustNext()
			require.Equal(t, "still writable", string(b))
			require.NoError(t, c.Close(StatusGoingAway, ""))
			require.Equal(t, closePayload(1001, ""), p.expectClose())
			p.expectEOF()
			_, _, err = c.Read(bg())
			require.ErrorIs(t, err, ErrClosed)
		})
	}
}

// A context done before Read starts costs nothing: the Conn stays usable.
func TestReadContextDoneBefore(t *testing.T) {
	c, p := withRaw(t, RoleServer, nil)
	ctx, cancel := context.WithCancel(bg())
	cancel()
	_, _, err := c.Read(ctx)
	require.ErrorIs(t, err, context.Canceled)
	p.send(framing.OpBinary, true, []byte("fine"))
	_, msg, err := c.Read(bg())
	require.NoError(t, err)
	require.Equal(t, "fine", string(msg))
}

// A context with a deadline that does not expire leaves no trace: later
// reads and writes are not hit by a stale deadline.
func TestContextNoStaleDeadline(t *testing.T) {
	cl, sv := connPair(t, "tcp", nil, nil)
	for i := 0; i < 50; i++ {
		ctx, cancel := context.WithTimeout(bg(), time.Hour)
		require.NoError(t, cl.Write(ctx, MessageText, []byte("x")))
		_, _, err := sv.Read(ctx)
		require.NoError(t, err)
		cancel()
	}
	// Cancel right after each call, racing the cleanup.
	for i := 0; i < 50; i++ {
		ctx, cancel := context.WithCancel(bg())
		require.NoError(t, cl.Write(ctx, MessageText, []byte("y")))
		go cancel()
		_, _, err := sv.Read(bg())
		require.NoError(t, err)
	}
}

// A write blocked past its context or WriteTimeout closes the connection
// (its frame may be cut short).
func TestWriteDeadlines(t *testing.T) {
	t.Run("context", func(t *testing.T) {
		a, b := net.Pipe() // nobody reads b: writes block
		defer b.Close()
		c := NewConn(a, nil, &Options{Role: RoleServer})
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(bg(), 50*time.Millisecond)
		defer cancel()
		err := c.Write(ctx, MessageBinary, make([]byte, 100))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorIs(t, c.Write(bg(), MessageBinary, nil), ErrClosed)
		_, _, err = c.Read(bg())
		require.Equal(t, StatusAbnormalClosure, CloseStatus(err))
	})
	t.Run("WriteTimeout", func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		c := NewConn(a, nil, &Options{Role: RoleClient, WriteTimeout: 50 * time.Millisecond})
		defer c.CloseNow()
		err := c.Write(bg(), MessageBinary, make([]byte, 100))
		require.Equal(t, StatusAbnormalClosure, CloseStatus(err))
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.ErrorIs(t, c.Ping(bg(), nil), ErrClosed)
	})
	t.Run("ping context", func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		c := NewConn(a, nil, &Options{Role: RoleClient})
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(bg(), 50*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, c.Ping(ctx, []byte("p")), context.DeadlineExceeded)
	})
}

// Keepalive: pings go out at PingInterval and pongs keep the connection up.
func TestKeepalivePongsKeepItUp(t *testing.T) {
	var pings atomic.Int32
	enough := make(chan struct{})
	cl, sv := connPair(t, "tcp",
		&Options{PingInterval: 10 * time.Millisecond, PongTimeout: 10 * time.Second},
		&Options{OnPing: func([]byte) {
			if pings.Add(1) == 5 {
				close(enough)
			}
		}})
	clErr := make(chan error, 1)
	go func() { _, _, err := cl.Read(bg()); clErr <- err }()
	svErr := make(chan error, 1)
	go func() { _, _, err := sv.Read(bg()); svErr <- err }()
	recv(t, "enough pongs", enough)
	require.NoError(t, cl.Close(StatusNormalClosure, ""))
	require.Equal(t, StatusNormalClosure, CloseStatus(recv(t, "the client's read", clErr)))
	require.Equal(t, StatusNormalClosure, CloseStatus(recv(t, "the server's read", svErr)))
}

// Keepalive: without pongs the connection fails with 1006 and a timeout.
func TestKeepalivePongTimeout(t *testing.T) {
	c, p := withRaw(t, RoleClient, &Options{PingInterval: 20 * time.Millisecond, PongTimeout: 30 * time.Millisecond})
	errc := make(chan error, 1)
	go func() { _, _, err := c.Read(bg()); errc <- err }()
	h, _ := p.mustNext()
	require.Equal(t, framing.OpPing, h.Opcode)
	err := recv(t, "the read's result", errc)
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, StatusAbnormalClosure, ce.Code)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.Same(t, errPongTimeout, ce.Err)
	p.expectEOF()
}

// RFC 6455, section 5.5.2-5.5.3: an unsolicited pong counts for the keepalive and reaches OnPong; a data
// message after it is delivered normally.
func TestRFC5_5_PingPong(t *testing.T) {
	var got []string
	c, p := withRaw(t, RoleServer, &Options{OnPong: func(b []byte) { got = append(got, string(b)) }})
	p.send(framing.OpPong, true, []byte("hb"))
	p.send(framing.OpText, true, []byte("data"))
	_, msg, err := c.Read(readCtx(t))
	require.NoError(t, err)
	require.Equal(t, "data", string(msg))
	require.Equal(t, []string{"hb"}, got)
	// Pings of every size are answered with the same payload.
	for _, n := range []int{0, 1, 125} {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(i)
		}
		p.send(framing.OpPing, true, payload)
	}
	p.send(framing.OpText, true, []byte("end"))
	_, _, err = c.Read(readCtx(t))
	require.NoError(t, err)
	for _, n := range []int{0, 1, 125} {
		h, b := p.mustNext()
		require.Equal(t, framing.OpPong, h.Opcode)
		require.Len(t, b, n)
		for i := range b {
			require.Equal(t, byte(i), b[i])
		}
	}
}

// A cancellable context used for many calls is registered once: calls
// under it do not allocate, and its cancellation still interrupts a later
// blocked call, whether it comes before or during that call.
func TestContextRegistrationKept(t *testing.T) {
	t.Run("no allocations", func(t *testing.T) {
		if raceEnabled {
			t.Skip("allocation counts are not meaningful with -race")
		}
		ctx, cancel := context.WithCancel(bg())
		defer cancel()
		c := NewConn(&loopConn{data: frames(RoleClient, framing.OpBinary, []byte("0123456789abcdef"), 1)}, nil,
			&Options{Role: RoleClient})
		buf := make([]byte, 0, 64)
		msg := []byte("0123456789abcdef")
		require.Zero(t, testing.AllocsPerRun(200, func() {
			if err := c.Write(ctx, MessageBinary, msg); err != nil {
				panic(err)
			}
			if _, _, err := c.ReadAppend(ctx, buf[:0]); err != nil {
				panic(err)
			}
		}))
	})
	for _, during := range []bool{false, true} {
		name := map[bool]string{false: "cancelled between calls", true: "cancelled during a call"}[during]
		t.Run(name, func(t *testing.T) {
			cl, sv := connPair(t, "tcp", nil, nil)
			ctx, cancel := context.WithCancel(bg())
			defer cancel()
			for i := 0; i < 3; i++ { // the registration is made, then kept
				require.NoError(t, cl.Write(ctx, MessageText, []byte("x")))
				_, _, err := sv.Read(ctx)
				require.NoError(t, err)
			}
			if !during {
				cancel()
				_, _, err := sv.Read(ctx)
				require.ErrorIs(t, err, context.Canceled)
				return
			}
			time.AfterFunc(20*time.Millisecond, cancel)
			_, _, err := sv.Read(ctx) // nothing arrives: only the cancellation ends it
			require.ErrorIs(t, err, context.Canceled)
		})
	}
	t.Run("a new context after a cancelled one", func(t *testing.T) {
		cl, sv := connPair(t, "tcp", nil, nil)
		ctx1, cancel1 := context.WithCancel(bg())
		require.NoError(t, cl.Write(ctx1, MessageText, []byte("a")))
		cancel1()
		ctx2, cancel2 := context.WithCancel(bg())
		defer cancel2()
		// The first context's registration must not cut the second's calls.
		for i := 0; i < 20; i++ {
			require.NoError(t, cl.Write(ctx2, MessageText, []byte("b")))
		}
		for i := 0; i < 21; i++ {
			_, _, err := sv.Read(ctx2)
			require.NoError(t, err)
		}
	})
}
