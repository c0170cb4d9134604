package protocol

// THIS FILE IS THE AGREED API SKELETON. The protocol engineer replaces it by
// the real implementation (split into files per concept) keeping every
// exported name and signature below; others compile against it meanwhile.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"time"
)

// Role says which end of the connection a Conn is.
type Role uint8

const (
	// RoleClient masks the frames it sends and refuses masked frames.
	RoleClient Role = iota + 1
	// RoleServer refuses unmasked frames and never masks its own.
	RoleServer
)

// MessageType is the type of a data message.
type MessageType int

const (
	// MessageText is a UTF-8 text message (opcode 0x1).
	MessageText MessageType = 1
	// MessageBinary is a binary message (opcode 0x2).
	MessageBinary MessageType = 2
)

// StatusCode is a close status code (RFC 6455, section 7.4).
type StatusCode int

// Close status codes.
const (
	StatusNormalClosure           StatusCode = 1000
	StatusGoingAway               StatusCode = 1001
	StatusProtocolError           StatusCode = 1002
	StatusUnsupportedData         StatusCode = 1003
	StatusReserved                StatusCode = 1004
	StatusNoStatusRcvd            StatusCode = 1005
	StatusAbnormalClosure         StatusCode = 1006
	StatusInvalidFramePayloadData StatusCode = 1007
	StatusPolicyViolation         StatusCode = 1008
	StatusMessageTooBig           StatusCode = 1009
	StatusMandatoryExtension      StatusCode = 1010
	StatusInternalError           StatusCode = 1011
	StatusServiceRestart          StatusCode = 1012
	StatusTryAgainLater           StatusCode = 1013
	StatusBadGateway              StatusCode = 1014
	StatusTLSHandshake            StatusCode = 1015
)

// CloseError is the error returned once the connection is closed: by the
// peer's close frame (Remote true), or by this endpoint failing the
// connection (Remote false; Code is what was sent: 1002, 1007, 1009, ...;
// Err the cause), or by the transport ending without a close frame (Code
// 1006, Err the cause).
type CloseError struct {
	Code   StatusCode
	Reason string
	Remote bool
	Err    error
}

func (e *CloseError) Error() string { panic("not implemented") }
func (e *CloseError) Unwrap() error { return e.Err }

// CloseStatus returns the code of the *CloseError in err's chain, or -1.
func CloseStatus(err error) StatusCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// Sentinel errors.
var (
	ErrClosed           = errors.New("websocket: use of closed connection")
	ErrMessageTooBig    = errors.New("websocket: message exceeds the read limit")
	ErrInvalidUTF8      = errors.New("websocket: invalid UTF-8 in text message")
	ErrInvalidCloseCode = errors.New("websocket: invalid close code")
)

// Options configure a Conn. The zero value is valid except for Role.
type Options struct {
	Role            Role
	Subprotocol     string
	ReadLimit       int64
	ReadBufferSize  int
	WriteBufferSize int
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	PingInterval    time.Duration
	PongTimeout     time.Duration
	CloseTimeout    time.Duration
	OnPing          func(payload []byte)
	OnPong          func(payload []byte)
}

// Conn is a WebSocket connection.
type Conn struct{}

// NewConn wraps an established connection whose opening handshake is done.
func NewConn(nc net.Conn, br *bufio.Reader, opts *Options) *Conn { panic("not implemented") }

func (c *Conn) Read(ctx context.Context) (MessageType, []byte, error) { panic("not implemented") }
func (c *Conn) ReadAppend(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	panic("not implemented")
}
func (c *Conn) Reader(ctx context.Context) (MessageType, io.Reader, error) { panic("not implemented") }
func (c *Conn) Write(ctx context.Context, typ MessageType, p []byte) error { panic("not implemented") }
func (c *Conn) Writer(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	panic("not implemented")
}
func (c *Conn) Ping(ctx context.Context, payload []byte) error { panic("not implemented") }
func (c *Conn) Pong(ctx context.Context, payload []byte) error { panic("not implemented") }
func (c *Conn) Close(code StatusCode, reason string) error     { panic("not implemented") }
func (c *Conn) CloseNow() error                                { panic("not implemented") }
func (c *Conn) Subprotocol() string                            { panic("not implemented") }
func (c *Conn) NetConn() net.Conn                              { panic("not implemented") }
