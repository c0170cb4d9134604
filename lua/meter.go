package lua

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"syscall"
)

// meter wraps the TCP connection of a client whose keepalive is on: it
// counts the bytes read and written, which the keepalive takes as signs
// of life (see keepalive.timedOut). Without keepalive the protocol gets
// the bare socket, which lets it release its read buffer while a
// connection is quiet and wait for the next message on a shallow stack.
type meter struct {
	net.Conn
	read    atomic.Int64 // bytes read so far
	written atomic.Int64 // bytes written so far
}

// meterChunk bounds one network write, so that a long write to a slow
// peer shows progress as it goes.
const meterChunk = 64 << 10

// Read reads from the connection, counting the bytes.
func (m *meter) Read(p []byte) (int, error) {
	n, err := m.Conn.Read(p)
	m.read.Add(int64(n))
	return n, err
}

// Write writes to the connection, counting the bytes.
func (m *meter) Write(p []byte) (int, error) {
	total := 0
	for {
		chunk := p[:min(len(p), meterChunk)]
		n, err := m.Conn.Write(chunk)
		m.written.Add(int64(n))
		total += n
		p = p[n:]
		if err != nil || len(p) == 0 {
			return total, err
		}
	}
}

// dialer returns the NetDialContext of a client whose keepalive is on:
// every TCP connection it makes (to the server or its proxy) is metered,
// and the last one is stored in *wire.
func dialer(wire **meter) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		m := &meter{Conn: nc}
		*wire = m
		return m, nil
	}
}

// SyscallConn exposes the socket for the protocol's non-blocking writes
// (TryWrite); reads always go through Read.
func (m *meter) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := m.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}
