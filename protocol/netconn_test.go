package protocol_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/protocol"
)

// waitLimit bounds every wait of these tests: a regression fails with a
// message instead of the package timeout.
const waitLimit = 5 * time.Second

// testCtx is a context that ends after waitLimit (or with the test): the
// Conn and NetConn calls under it cannot block longer.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

// loopbackConns returns a client and a server Conn over loopback TCP, both
// closed at once when the test ends.
func loopbackConns(t *testing.T, opts *protocol.Options) (client, server *protocol.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	b := <-accepted
	require.NotNil(t, b, "accept failed")
	copts, sopts := protocol.Options{}, protocol.Options{}
	if opts != nil {
		copts, sopts = *opts, *opts
	}
	copts.Role, sopts.Role = protocol.RoleClient, protocol.RoleServer
	client = protocol.NewConn(a, nil, &copts)
	server = protocol.NewConn(b, nil, &sopts)
	t.Cleanup(func() { _ = client.CloseNow(); _ = server.CloseNow() })
	return client, server
}

// pipeConns is loopbackConns over net.Pipe, whose writes block until the
// other end reads: a peer that does not read blocks every write at once.
func pipeConns(t *testing.T) (client, server *protocol.Conn) {
	a, b := net.Pipe()
	client = protocol.NewConn(a, nil, &protocol.Options{Role: protocol.RoleClient})
	server = protocol.NewConn(b, nil, &protocol.Options{Role: protocol.RoleServer})
	t.Cleanup(func() { _ = client.CloseNow(); _ = server.CloseNow() })
	return client, server
}

// within runs f on a goroutine and fails the test if it has not returned
// after waitLimit.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(waitLimit):
		t.Fatalf("%s: still blocked after %v", what, waitLimit)
	}
}

// requireTimeout checks that err is a net.Conn timeout.
func requireTimeout(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout(), "Timeout() of %v", err)
}

// Bytes written to one end come out of the other as the same stream, with
// io.Copy echoing them on the server and bufio reading lines that span
// messages on the client; each Write is one message.
func TestNetConnStream(t *testing.T) {
	for _, typ := range []protocol.MessageType{protocol.MessageBinary, protocol.MessageText} {
		t.Run(typ.String(), func(t *testing.T) {
			cl, sv := loopbackConns(t, nil)
			ctx := testCtx(t)
			client, server := protocol.NetConn(ctx, cl, typ), protocol.NetConn(ctx, sv, typ)
			echoed := make(chan error, 1)
			go func() {
				_, err := io.Copy(server, server) // until the client's close: io.EOF is no error
				echoed <- err
			}()

			var want strings.Builder
			for i := range 200 {
				want.WriteString(strings.Repeat("x", i%37) + "\n")
			}
			s := want.String()
			for rest := s; rest != ""; { // messages of 1 to 97 bytes, cutting lines anywhere
				n := min(len(rest), 1+len(rest)%97)
				k, err := client.Write([]byte(rest[:n]))
				require.NoError(t, err)
				require.Equal(t, n, k)
				rest = rest[n:]
			}
			br := bufio.NewReaderSize(client, 16)
			var got strings.Builder
			within(t, "reading the echo", func() {
				for got.Len() < len(s) {
					line, err := br.ReadString('\n')
					if err != nil {
						break
					}
					got.WriteString(line)
				}
			})
			require.Equal(t, s, got.String())

			require.NoError(t, client.Close())
			within(t, "the server's io.Copy", func() { require.NoError(t, <-echoed) })
			_, err := client.Read(make([]byte, 1))
			require.ErrorIs(t, err, net.ErrClosed, "Read after Close")
			_, err = client.Write([]byte("x"))
			require.ErrorIs(t, err, net.ErrClosed, "Write after Close")
			require.ErrorIs(t, client.Close(), net.ErrClosed, "second Close")
			require.ErrorIs(t, client.SetDeadline(time.Now()), net.ErrClosed)
		})
	}
}

// Read returns the messages' payloads in order, in pieces as small as the
// caller's buffer, skipping empty messages, then io.EOF after a normal close;
// each Write arrives as one message.
func TestNetConnMessages(t *testing.T) {
	cl, sv := loopbackConns(t, nil)
	ctx := testCtx(t)
	client := protocol.NetConn(ctx, cl, protocol.MessageBinary)
	for _, m := range []string{"abc", "", "defgh", "i"} {
		require.NoError(t, sv.Write(ctx, protocol.MessageBinary, []byte(m)))
	}
	var pieces []string
	buf := make([]byte, 2)
	for len(pieces) < 5 {
		n, err := client.Read(buf)
		require.NoError(t, err)
		pieces = append(pieces, string(buf[:n]))
	}
	require.Equal(t, []string{"ab", "c", "de", "fg", "h"}, pieces, "a Read never spans the end of a message")
	n, err := client.Read(nil)
	require.NoError(t, err)
	require.Zero(t, n)

	for _, m := range []string{"one", "two"} {
		_, err := client.Write([]byte(m))
		require.NoError(t, err)
	}
	_, err = client.Write(nil) // sends nothing
	require.NoError(t, err)
	for _, m := range []string{"one", "two"} {
		typ, p, err := sv.Read(ctx)
		require.NoError(t, err)
		require.Equal(t, protocol.MessageBinary, typ)
		require.Equal(t, m, string(p))
	}

	closed := make(chan error, 1)
	go func() { closed <- sv.Close(protocol.StatusGoingAway, "") }()
	var rest []byte
	within(t, "reading to EOF", func() { rest, err = io.ReadAll(client) })
	require.NoError(t, err, "ReadAll stops at io.EOF")
	require.Equal(t, "i", string(rest))
	require.NoError(t, <-closed)
	_, err = client.Read(buf)
	require.Equal(t, io.EOF, err, "EOF again")
}

// Closes other than 1000 and 1001 are errors carrying the Conn's
// *CloseError; a message of the other type fails the connection with 1003.
func TestNetConnErrors(t *testing.T) {
	t.Run("close 4001", func(t *testing.T) {
		cl, sv := loopbackConns(t, nil)
		client := protocol.NetConn(testCtx(t), cl, protocol.MessageBinary)
		go func() { _ = sv.Close(4001, "bye") }()
		var err error
		within(t, "Read", func() { _, err = client.Read(make([]byte, 8)) })
		require.Error(t, err)
		require.NotEqual(t, io.EOF, err)
		require.Equal(t, protocol.StatusCode(4001), protocol.CloseStatus(err))
		var ce *protocol.CloseError
		require.ErrorAs(t, err, &ce)
		require.True(t, ce.Remote)
	})
	t.Run("wrong message type", func(t *testing.T) {
		cl, sv := loopbackConns(t, nil)
		client := protocol.NetConn(testCtx(t), cl, protocol.MessageBinary)
		ctx := testCtx(t)
		require.NoError(t, sv.Write(ctx, protocol.MessageText, []byte("text")))
		peer := make(chan error, 1)
		go func() {
			_, _, err := sv.Read(ctx)
			peer <- err
		}()
		var err error
		within(t, "Read", func() { _, err = client.Read(make([]byte, 8)) })
		require.ErrorContains(t, err, "text message on a binary stream")
		within(t, "the peer's Read", func() { err = <-peer })
		require.Equal(t, protocol.StatusUnsupportedData, protocol.CloseStatus(err))
	})
}

// A deadline that has passed makes calls fail at once without touching the
// connection, which works again under a later deadline; a deadline moved
// while a Read waits is the one that counts.
func TestNetConnDeadlinePassed(t *testing.T) {
	cl, sv := loopbackConns(t, nil)
	ctx := testCtx(t)
	client := protocol.NetConn(ctx, cl, protocol.MessageBinary)
	buf := make([]byte, 16)

	require.NoError(t, client.SetDeadline(time.Now().Add(-time.Second)))
	var err error
	within(t, "Read past its deadline", func() { _, err = client.Read(buf) })
	requireTimeout(t, err)
	within(t, "Write past its deadline", func() { _, err = client.Write([]byte("lost")) })
	requireTimeout(t, err)

	require.NoError(t, client.SetDeadline(time.Time{}))
	require.NoError(t, sv.Write(ctx, protocol.MessageBinary, []byte("after")))
	n, err := client.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "after", string(buf[:n]))
	_, err = client.Write([]byte("back"))
	require.NoError(t, err)
	_, p, err := sv.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, "back", string(p), "the timed-out Write sent nothing")

	// A deadline that passes between calls leaves a partly read message
	// intact.
	require.NoError(t, sv.Write(ctx, protocol.MessageBinary, []byte("0123456789")))
	n, err = client.Read(buf[:4])
	require.NoError(t, err)
	require.Equal(t, "0123", string(buf[:n]))
	require.NoError(t, client.SetReadDeadline(time.Now().Add(10*time.Millisecond)))
	time.Sleep(30 * time.Millisecond)
	within(t, "Read past its deadline", func() { _, err = client.Read(buf) })
	requireTimeout(t, err)
	require.NoError(t, client.SetReadDeadline(time.Now().Add(waitLimit)))
	n, err = client.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "456789", string(buf[:n]))

	// Moved later while a Read waits: the Read outlives the first deadline.
	require.NoError(t, client.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
	go func() {
		time.Sleep(10 * time.Millisecond)
		_ = client.SetReadDeadline(time.Now().Add(waitLimit))
		time.Sleep(150 * time.Millisecond)
		_ = sv.Write(ctx, protocol.MessageBinary, []byte("late"))
	}()
	within(t, "Read", func() { n, err = client.Read(buf) })
	require.NoError(t, err)
	require.Equal(t, "late", string(buf[:n]))
}

// A deadline that expires while a call is blocked interrupts it with a
// timeout and closes the connection.
func TestNetConnDeadlineExpires(t *testing.T) {
	t.Run("read", func(t *testing.T) {
		cl, sv := loopbackConns(t, nil)
		client := protocol.NetConn(testCtx(t), cl, protocol.MessageBinary)
		require.NoError(t, client.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
		start := time.Now()
		var err error
		within(t, "Read past its deadline", func() { _, err = client.Read(make([]byte, 8)) })
		requireTimeout(t, err)
		require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
		var rerr error
		within(t, "the peer's Read", func() { _, _, rerr = sv.Read(testCtx(t)) })
		require.Equal(t, protocol.StatusAbnormalClosure, protocol.CloseStatus(rerr), "the connection is closed")
		require.NoError(t, client.SetReadDeadline(time.Time{}))
		_, err = client.Read(make([]byte, 8))
		require.ErrorIs(t, err, protocol.ErrClosed, "later Reads report the closed Conn")
	})
	t.Run("write to a peer that does not read", func(t *testing.T) {
		cl, _ := pipeConns(t) // nobody reads the server end
		client := protocol.NetConn(testCtx(t), cl, protocol.MessageBinary)
		require.NoError(t, client.SetDeadline(time.Now().Add(50*time.Millisecond)))
		var err error
		within(t, "Write past its deadline", func() { _, err = client.Write(make([]byte, 1024)) })
		requireTimeout(t, err)
		require.ErrorIs(t, cl.Write(testCtx(t), protocol.MessageBinary, []byte("x")), protocol.ErrClosed,
			"the Conn is closed")
	})
	t.Run("SetDeadline in the past wakes a blocked Read", func(t *testing.T) {
		cl, _ := loopbackConns(t, nil)
		client := protocol.NetConn(testCtx(t), cl, protocol.MessageBinary)
		go func() {
			time.Sleep(20 * time.Millisecond)
			_ = client.SetDeadline(time.Unix(1, 0))
		}()
		var err error
		within(t, "Read", func() { _, err = client.Read(make([]byte, 8)) })
		requireTimeout(t, err)
	})
}

// The context given to NetConn bounds the connection; Close wakes a blocked
// Read; the addresses are the socket's.
func TestNetConnLifetime(t *testing.T) {
	t.Run("context", func(t *testing.T) {
		cl, _ := loopbackConns(t, nil)
		ctx, cancel := context.WithCancel(testCtx(t))
		client := protocol.NetConn(ctx, cl, protocol.MessageBinary)
		go func() { time.Sleep(20 * time.Millisecond); cancel() }()
		var err error
		within(t, "Read", func() { _, err = client.Read(make([]byte, 8)) })
		require.Error(t, err)
		require.NotEqual(t, io.EOF, err)
		require.ErrorIs(t, cl.Write(testCtx(t), protocol.MessageBinary, []byte("x")), protocol.ErrClosed)
	})
	t.Run("Close wakes Read", func(t *testing.T) {
		cl, sv := loopbackConns(t, nil)
		ctx := testCtx(t)
		go func() { // the server answers the close handshake
			for {
				if _, _, err := sv.Read(ctx); err != nil {
					return
				}
			}
		}()
		client := protocol.NetConn(ctx, cl, protocol.MessageBinary)
		go func() { time.Sleep(20 * time.Millisecond); _ = client.Close() }()
		var err error
		within(t, "Read", func() { _, err = client.Read(make([]byte, 8)) })
		require.ErrorIs(t, err, net.ErrClosed)
	})
	t.Run("addresses", func(t *testing.T) {
		cl, sv := loopbackConns(t, nil)
		client := protocol.NetConn(testCtx(t), cl, protocol.MessageBinary)
		server := protocol.NetConn(testCtx(t), sv, protocol.MessageBinary)
		require.Equal(t, cl.NetConn().LocalAddr(), client.LocalAddr())
		require.Equal(t, cl.NetConn().RemoteAddr(), client.RemoteAddr())
		require.Equal(t, client.LocalAddr().String(), server.RemoteAddr().String())
		require.Equal(t, "tcp", client.RemoteAddr().Network())
		_ = client.SetDeadline(time.Unix(1, 0))
		_, err := client.Read(make([]byte, 1))
		var oe *net.OpError
		require.ErrorAs(t, err, &oe)
		require.Equal(t, "read", oe.Op)
		require.Equal(t, client.RemoteAddr(), oe.Addr)
	})
}

// Concurrent Writes through the net.Conn each stay one message.
func TestNetConnConcurrentWrites(t *testing.T) {
	cl, sv := loopbackConns(t, nil)
	ctx := testCtx(t)
	client := protocol.NetConn(ctx, cl, protocol.MessageBinary)
	const writers, each = 4, 50
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			msg := bytes.Repeat([]byte{byte('a' + w)}, 1000+w)
			for range each {
				if _, err := client.Write(msg); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	counts := map[byte]int{}
	within(t, "reading every message", func() {
		for range writers * each {
			_, p, err := sv.Read(ctx)
			if err != nil {
				break
			}
			if len(bytes.Trim(p, string(p[:1]))) == 0 && len(p) == 1000+int(p[0]-'a') {
				counts[p[0]]++
			}
		}
	})
	for range writers {
		require.NoError(t, <-errs)
	}
	for w := range writers {
		require.Equal(t, each, counts[byte('a'+w)], "whole messages from writer %d", w)
	}
}
