// Package protocol implements the WebSocket protocol (RFC 6455) above the
// frame layer: messages and fragmentation, UTF-8 validation of text,
// ping/pong, the closing handshake, read limits, deadlines and keepalive.
// It starts where the opening handshake (package handshake) ends: NewConn
// wraps the established net.Conn.
//
// # Reading
//
// Read returns whole messages in a new slice, ReadAppend appends them to a
// caller's buffer (no allocation in steady state), Reader streams one. All
// run on the caller's goroutine: there is no reader goroutine. Control
// frames are handled while reading: pings are answered with a pong carrying
// the same payload, Options.OnPing and OnPong are called in wire order, and
// the peer's close frame is answered and ends the connection. Text is
// validated incrementally, so invalid UTF-8 fails the connection (1007) as
// soon as it arrives, not at the end of the message. A message larger than
// Options.ReadLimit fails it (1009) as soon as a frame header announces it.
// Protocol violations fail it with 1002. In all these cases Read returns a
// *CloseError whose Err is the cause.
//
// # Writing
//
// Write sends a message as one frame, header and payload in one network
// write. Writer streams a message in fragments. Both may be used from many
// goroutines: a message lock keeps the frames of two messages apart, and a
// separate frame lock lets control frames (Ping, Pong, automatic pongs,
// close) go out between the fragments of a long message.
//
// # Closing
//
// Close performs the closing handshake and is safe to call twice or
// concurrently (later calls return ErrClosed). An empty close frame from the
// peer is answered with an empty close frame (RFC 6455, 5.5.1 allows it;
// 1005 may not be sent), any other with the same code. After the close the
// server closes TCP at once; the client waits up to a second (bounded by
// CloseTimeout) for the server to do so. Once closed, every method returns
// an error matching ErrClosed, and Read returns the same *CloseError every
// time.
//
// # Cancellation and timeouts
//
// Contexts cost nothing when they cannot be cancelled. A cancelled Read
// returns ctx.Err() and leaves the read side unusable (a frame may be half
// read); writing and Close still work. A cancelled or timed-out write, an
// expired ReadTimeout and a missing pong (Options.PingInterval,
// PongTimeout) close the connection: Read returns a *CloseError with code
// 1006.
package protocol
