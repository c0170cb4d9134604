package bench

import (
	"bufio"
	binenc "encoding/binary"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// The receive strategies of a 64 KiB echo, on plain TCP with a 4-byte length
// prefix, both ends alike: what the read side of a message protocol can save
// on this machine, apart from any protocol. A message is written with one
// system call (prefix and payload copied into one buffer) in every case.
//
//   - bufio4k: the prefix and the first bytes through a 4 KiB buffer, the
//     rest straight into the message (what ours, gws and the TCP baseline
//     do): two reads per message when it has arrived, and the read that
//     finds the socket empty.
//   - whole: a buffer as large as the message: one read, then a copy of
//     the message out of the buffer.
//   - exact: one read of prefix and message into the message's own memory,
//     the size known in advance: what a speculative read that guesses right
//     gives (one read, no copy).
var readStrategies = []string{"bufio4k", "whole", "exact"}

// newPlatformReader returns the reader of a strategy only some systems
// have (readpath_linux_test.go), or nil.
var newPlatformReader = func(strategy string, c net.Conn) messageReader { return nil }

// messageReader reads one length-prefixed message of len(dst) bytes and
// returns it: in dst, or in the reader's own memory (exact).
type messageReader interface {
	read(dst []byte) ([]byte, error)
}

// newMessageReader returns strategy's reader on c for messages of size
// bytes.
func newMessageReader(strategy string, c net.Conn, size int) messageReader {
	if r := newPlatformReader(strategy, c); r != nil {
		return r
	}
	switch strategy {
	case "bufio4k":
		return &bufioReader{br: bufio.NewReaderSize(c, 4096)}
	case "whole":
		return &bufioReader{br: bufio.NewReaderSize(c, 4+size)}
	default:
		return &exactReader{c: c, buf: make([]byte, 4+size)}
	}
}

// bufioReader reads through a bufio.Reader: the prefix, then io.ReadFull
// (straight into dst for what the buffer does not hold).
type bufioReader struct{ br *bufio.Reader }

func (r *bufioReader) read(dst []byte) ([]byte, error) {
	var prefix [4]byte
	if _, err := io.ReadFull(r.br, prefix[:]); err != nil {
		return nil, err
	}
	if int(binenc.BigEndian.Uint32(prefix[:])) != len(dst) {
		return nil, errUnexpectedSize
	}
	_, err := io.ReadFull(r.br, dst)
	return dst, err
}

var errUnexpectedSize = errors.New("readpath: unexpected size")

// exactReader reads prefix and message together into buf and returns the
// message in place, buf[4:].
type exactReader struct {
	c   net.Conn
	buf []byte
}

func (r *exactReader) read([]byte) ([]byte, error) {
	if _, err := io.ReadFull(r.c, r.buf); err != nil {
		return nil, err
	}
	if int(binenc.BigEndian.Uint32(r.buf)) != len(r.buf)-4 {
		return nil, errUnexpectedSize
	}
	return r.buf[4:], nil
}

// writeMessage writes p after its prefix with one system call, through one
// (at least 4+len(p) bytes).
func writeMessage(c net.Conn, one, p []byte) error {
	binenc.BigEndian.PutUint32(one, uint32(len(p)))
	n := 4 + copy(one[4:], p)
	_, err := c.Write(one[:n])
	return err
}

// BenchmarkReadPath64K echoes 64 KiB messages over loopback TCP with each
// receive strategy on both ends (see readStrategies). rsys/op and
// cpu-ns/op count both ends.
func BenchmarkReadPath64K(b *testing.B) {
	for _, strategy := range readStrategies {
		b.Run("read="+strategy, func(b *testing.B) {
			client, server := tcpPair(b)
			go func() {
				r := newMessageReader(strategy, server, size64K)
				buf, one := make([]byte, size64K), make([]byte, 4+size64K)
				for {
					msg, err := r.read(buf)
					if err != nil || writeMessage(server, one, msg) != nil {
						break
					}
				}
				server.Close()
			}()
			r := newMessageReader(strategy, client, size64K)
			p, msg, one := binary(size64K), make([]byte, size64K), make([]byte, 4+size64K)
			b.SetBytes(size64K)
			b.ReportAllocs()
			b.ResetTimer()
			c0 := startCosts()
			for range b.N {
				if err := writeMessage(client, one, p); err != nil {
					b.Fatal(err)
				}
				if _, err := r.read(msg); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			c0.report(b)
			client.Close()
		})
	}
}

// tcpPair returns both ends of a loopback TCP connection, closed when b
// ends.
func tcpPair(tb testing.TB) (client, server net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(tb, err)
	server = <-accepted
	require.NotNil(tb, server, "accept failed")
	tb.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// Every strategy delivers the messages intact, both ways.
func TestReadStrategies(t *testing.T) {
	for _, strategy := range readStrategies {
		t.Run(strategy, func(t *testing.T) {
			client, server := tcpPair(t)
			const size = 10000
			want := binary(size)
			done := make(chan error, 1)
			go func() {
				r := newMessageReader(strategy, server, size)
				buf, one := make([]byte, size), make([]byte, 4+size)
				var err error
				for range 3 {
					var msg []byte
					if msg, err = r.read(buf); err != nil {
						break
					}
					if err = writeMessage(server, one, msg); err != nil {
						break
					}
				}
				done <- err
			}()
			r := newMessageReader(strategy, client, size)
			buf, one := make([]byte, size), make([]byte, 4+size)
			for range 3 {
				require.NoError(t, writeMessage(client, one, want))
				got, err := r.read(buf)
				require.NoError(t, err)
				require.Equal(t, want, got)
			}
			require.NoError(t, <-done)
		})
	}
}
