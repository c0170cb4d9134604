package protocol

import "time"

// Role says which end of the connection a Conn is.
type Role uint8

const (
	// RoleClient masks the frames it sends and refuses masked frames.
	RoleClient Role = iota + 1
	// RoleServer refuses unmasked frames and never masks its own.
	RoleServer
)

// String returns "client" or "server".
func (r Role) String() string {
	switch r {
	case RoleClient:
		return "client"
	case RoleServer:
		return "server"
	}
	return "invalid role"
}

// MessageType is the type of a data message.
type MessageType int

const (
	// MessageText is a UTF-8 text message (opcode 0x1).
	MessageText MessageType = 1
	// MessageBinary is a binary message (opcode 0x2).
	MessageBinary MessageType = 2
)

// String returns "text" or "binary".
func (t MessageType) String() string {
	switch t {
	case MessageText:
		return "text"
	case MessageBinary:
		return "binary"
	}
	return "invalid message type"
}

// Defaults for the zero values of Options.
const (
	defaultReadLimit       = 16 << 20
	defaultReadBufferSize  = 4096
	defaultWriteBufferSize = 4096
	defaultCloseTimeout    = 5 * time.Second
	defaultControlTimeout  = 5 * time.Second
	maxFinWait             = time.Second
)

// Options configure a Conn. The zero value is valid except for Role, which
// must be set. NewConn copies the options; later changes have no effect.
type Options struct {
	// Role is RoleClient or RoleServer. It decides the masking rules.
	Role Role
	// Subprotocol is the subprotocol agreed in the opening handshake,
	// reported by Conn.Subprotocol.
	Subprotocol string
	// ReadLimit is the largest message, in bytes, the Conn accepts: a
	// message whose frame headers announce more fails the connection with
	// 1009 before its payload is read. 0 means 16 MiB; a negative value
	// means no limit.
	ReadLimit int64
	// ReadBufferSize is the size of the Conn's read buffer (at least 16
	// bytes). 0 means 4096. Large payloads are read straight into their
	// destination, not through it.
	ReadBufferSize int
	// WriteBufferSize is how much a message Writer buffers before sending a
	// frame. 0 means 4096. Write sends a message in one frame whatever its
	// size.
	WriteBufferSize int
	// ReadTimeout is an idle timeout: the longest a read waits for the next
	// bytes of a frame (the deadline is reset for every frame, and for every
	// network read inside a frame). When it expires the connection is closed
	// and Read returns a CloseError with code 1006 whose Err matches
	// os.ErrDeadlineExceeded. 0 means none.
	ReadTimeout time.Duration
	// WriteTimeout bounds the network write of each frame. An expired write
	// closes the connection (a frame may be half written). 0 means none.
	WriteTimeout time.Duration
	// PingInterval, if positive, makes the Conn send a ping at that
	// interval from its own goroutine, which ends when the Conn closes.
	// Pongs are only noticed while some goroutine reads from the Conn.
	PingInterval time.Duration
	// PongTimeout is how long the keepalive waits for a pong after a ping
	// before it fails the connection (Read then returns a CloseError with
	// code 1006 whose Err is a timeout). 0 means PingInterval.
	PongTimeout time.Duration
	// CloseTimeout bounds the closing handshake: Close's wait to send its
	// close frame (behind a frame being written), that write and the wait
	// for the peer's close frame, and likewise the reply to the peer's
	// close frame. When it expires the network connection is closed. 0
	// means 5 seconds.
	CloseTimeout time.Duration
	// ControlTimeout bounds the control frames the Conn sends on its own:
	// the pong answering a ping and the keepalive ping. Such a frame waits
	// for a frame being written (a peer that stopped reading can hold a
	// write forever) and is written within this time, or the connection
	// fails (code 1006, Err matching os.ErrDeadlineExceeded), which also
	// ends the write that held it up. 0 means 5 seconds.
	ControlTimeout time.Duration
	// DedicatedReader declares that one goroutine reads the Conn in a loop
	// (Read, ReadAppend or Reader) until a read fails, as a reader goroutine
	// that hands messages over to a queue does. Close then leaves reading
	// the peer's close reply to that reader instead of reading it itself,
	// so that the data messages the peer sent before its close frame (RFC
	// 6455, 7.1.2 lets it send data until it answers) all reach the reader,
	// followed by the *CloseError.
	//
	// Without it, Close reads the reply itself whenever no read is in
	// progress at that moment (even between two reads of a loop), and
	// discards the data messages that precede it. With it, Close never
	// reads: it waits until the reader has met the peer's close frame (or
	// the connection ended otherwise) and returns after CloseTimeout at the
	// latest, closing the connection as on any timeout. A reader that is
	// slow between two reads therefore delays Close, and one that has
	// stopped reading makes Close wait the whole CloseTimeout.
	DedicatedReader bool
	// DeferFailure makes the Conn fail in stream order: when a read meets
	// a frame header that breaks the protocol (reserved bits or opcode, a
	// continuation with nothing to continue or a new message inside a
	// fragmented one, a control frame that is fragmented or too long, a
	// message over the read limit), Read returns the *CloseError (code
	// 1002 or 1009, Err the cause) without sending the close frame or
	// closing: every later read returns the same error, while Write and
	// the other sending calls still work, so that the application can
	// finish answering the messages it received before the bad frame. It
	// then calls Fail, Close or CloseNow, which sends the close frame (not
	// CloseNow) and closes the connection; if it calls none of them within
	// CloseTimeout, the Conn calls Fail itself. Violations found inside a
	// message's payload (invalid UTF-8, a bad close frame payload) fail the
	// connection at once, as without the option.
	DeferFailure bool
	// OnPing, if set, is called with the payload of every ping received,
	// after the automatic pong is sent. OnPong likewise for every pong.
	// They run synchronously on the goroutine that is reading (inside Read,
	// ReadAppend, a message reader's Read, or Close when it reads the
	// peer's close reply itself), in wire order relative to data messages.
	// The payload is only valid during the call. They must not call Read,
	// ReadAppend, Reader or Close of the same Conn; they may call Write,
	// Ping and Pong.
	OnPing func(payload []byte)
	// OnPong: see OnPing.
	OnPong func(payload []byte)
	// Compression, if not nil, holds the permessage-deflate parameters (RFC
	// 7692) agreed in the opening handshake: the Conn then accepts RSV1 on
	// the first frame of a message, inflates such messages, and compresses
	// the messages it sends (see CompressionOptions). Dial and Upgrade set
	// it from the negotiation; configure compression through their own
	// Compression option.
	Compression *CompressionOptions
}
