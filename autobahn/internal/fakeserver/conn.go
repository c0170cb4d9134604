package fakeserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// Conn is the server side of one case's connection, with the helpers the
// scripted cases use.
type Conn struct {
	*protocol.Conn
	closed bool // CloseAndCheck was called
}

// Frame is a raw frame a case sends with SendFrames.
type Frame struct {
	Fin     bool
	Rsv     byte // reserved bits (framing.Rsv1...), to send bad frames
	Opcode  framing.Opcode
	Payload []byte
}

// SendFrames writes frames as raw, unmasked bytes in one network write,
// bypassing protocol.Conn, so a case controls fragmentation exactly. It must
// not be called while a Write of the Conn is under way.
func (c *Conn) SendFrames(ctx context.Context, frames ...Frame) error {
	var b []byte
	for _, f := range frames {
		b = framing.AppendFrame(b, framing.Header{Fin: f.Fin, Rsv: f.Rsv, Opcode: f.Opcode}, f.Payload)
	}
	nc := c.NetConn()
	if d, ok := ctx.Deadline(); ok {
		_ = nc.SetWriteDeadline(d)
		defer nc.SetWriteDeadline(time.Time{})
	}
	_, err := nc.Write(b)
	return err
}

// ExpectEcho reads the next message and checks that it is typ with the
// given payload.
func (c *Conn) ExpectEcho(ctx context.Context, typ protocol.MessageType, want []byte) error {
	got, p, err := c.Read(ctx)
	if err != nil {
		return fmt.Errorf("waiting for the echo of a %d-byte %s message: %w", len(want), typ, err)
	}
	if got != typ {
		return fmt.Errorf("echo of a %d-byte %s message came back as %s", len(want), typ, got)
	}
	if !bytes.Equal(p, want) {
		return fmt.Errorf("echo of a %d-byte %s message differs: got %d bytes %s", len(want), typ, len(p), excerpt(p))
	}
	return nil
}

// Echo sends one message with Write and checks its echo.
func (c *Conn) Echo(ctx context.Context, typ protocol.MessageType, p []byte) error {
	if err := c.Write(ctx, typ, p); err != nil {
		return fmt.Errorf("sending a %d-byte %s message: %w", len(p), typ, err)
	}
	return c.ExpectEcho(ctx, typ, p)
}

// CloseAndCheck starts the closing handshake with code and reason and
// checks that the client answers with a close frame carrying the same code
// (RFC 6455, 5.5.1: the endpoint typically echoes the status code).
func (c *Conn) CloseAndCheck(ctx context.Context, code protocol.StatusCode, reason string) error {
	c.closed = true
	if err := c.Close(code, reason); err != nil {
		return fmt.Errorf("closing: %w", err)
	}
	_, _, err := c.Read(ctx)
	var ce *protocol.CloseError
	if !errors.As(err, &ce) {
		return fmt.Errorf("after the close frame: want the connection closed, got %v", err)
	}
	if !ce.Received {
		return fmt.Errorf("the client did not answer the close frame: %v", ce)
	}
	if ce.Code != code {
		return fmt.Errorf("the client answered close %d with %d", code, ce.Code)
	}
	return nil
}

// ExpectFailure reads until the connection ends and checks that the client
// failed it with a close frame carrying code (after a bad frame).
func (c *Conn) ExpectFailure(ctx context.Context, code protocol.StatusCode) error {
	c.closed = true
	_, p, err := c.Read(ctx)
	var ce *protocol.CloseError
	switch {
	case err == nil:
		return fmt.Errorf("want the client to fail the connection with %d, got a message %s", code, excerpt(p))
	case !errors.As(err, &ce) || !ce.Remote:
		return fmt.Errorf("want the client to fail the connection with %d, got %v", code, err)
	case ce.Code != code:
		return fmt.Errorf("the client failed the connection with %d, want %d", ce.Code, code)
	}
	return nil
}

func excerpt(p []byte) string {
	if len(p) > 32 {
		return fmt.Sprintf("%q...", p[:32])
	}
	return fmt.Sprintf("%q", p)
}
