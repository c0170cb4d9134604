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
// *CloseError whose Err is the cause. With Options.DeferFailure, a
// violation found in a frame header (1002, or 1009 for the read limit) is
// reported first and acted on later: the application can answer the
// messages it read before the bad frame, then calls Conn.Fail (or Close),
// which sends the close frame; CloseTimeout bounds the wait.
//
// # Writing
//
// Write sends a message as one frame, header and payload in one network
// write. Writer streams a message in fragments. Both may be used from many
// goroutines: a message lock keeps the frames of two messages apart, and a
// separate frame lock lets control frames (Ping, Pong, automatic pongs,
// close) go out between the fragments of a long message. Both locks are
// waited on with the caller's context. Every frame goes to the network
// through one path with one rule: a failure before a message's first byte
// is written (a context done while waiting) returns the error and leaves
// the Conn usable; once any byte of a message is on the wire, failing to
// finish it (a context done between two frames, WriteTimeout, a network
// error) fails the connection (a *CloseError with code 1006), so that the
// peer never sees another message continue a cut one. Writer and Reader
// return per-message handles: one used after its message ended returns an
// error.
//
// # Closing
//
// Close performs the closing handshake and is safe to call twice or
// concurrently. An empty close frame from the peer is answered with an
// empty close frame (RFC 6455, 5.5.1 allows it; 1005 may not be sent), any
// other with the same code. After the close the server closes TCP at once;
// the client waits up to a second (bounded by CloseTimeout) for the server
// to do so. Once closed, every method returns an error matching ErrClosed,
// and Read returns the same *CloseError every time: Received says that the
// peer's close frame arrived, Remote that the peer started the handshake.
// A Close after a completed handshake returns nil; IsNormalClose tells an
// expected end from a failure. When this end fails the connection (1002,
// 1007, 1009, ...), it sends its close frame and goes on reading and
// discarding for up to two seconds, until the peer's close frame, so that a
// peer still sending reads the close frame rather than a TCP reset.
//
// # Cancellation and timeouts
//
// Contexts cost nothing when they cannot be cancelled. A Read cancelled
// while it waits for the next message returns ctx.Err() and can be called
// again; cancelled in the middle of a message or frame it fails the
// connection (code 1006, Err the context's error): there is no half-dead
// read side. A cancelled or timed-out write fails the connection once the
// message began on the wire (see Writing). The control frames the Conn owes
// the peer are bounded: the pong answering a ping and the keepalive ping by
// Options.ControlTimeout, the close reply and Close by CloseTimeout (5
// seconds each by default); a peer that stops reading cannot pin a
// goroutine: when the bound expires the connection fails, which also ends
// the write that held the frame lock. Close always leaves the network
// connection closed when it returns. An expired ReadTimeout and a missing
// pong (Options.PingInterval, PongTimeout) close the connection too: Read
// returns a *CloseError with code 1006.
//
// # Memory
//
// Nothing is allocated for a frame's payload before its bytes arrive: a
// Read allocates at most 64 KiB at first and grows with what arrived, a
// compressed message takes its inflater when its first bytes are there. A
// peer that announces a large frame and goes silent costs its Conn's
// buffers only. ReadAppend writes nothing into dst beyond what it appends.
//
// # Compression
//
// Options.Compression turns on permessage-deflate (RFC 7692) with the
// parameters the opening handshake agreed (handshake.DialOptions and
// UpgradeOptions have a Compression option that negotiates them; it is off
// unless asked for). A message of at least CompressionOptions.Threshold
// bytes is compressed with compress/flate, flushed, and sent without the
// final 0x00 0x00 0xff 0xff, with RSV1 on its first frame only. Write
// sends it in one frame unless the compressed output outgrows the message
// or 1 MiB (then in several); a Writer sends a frame per WriteBufferSize
// bytes of output. A received message with RSV1 on its first frame is
// inflated as it is read; RSV1 on a control or continuation frame, or
// without the extension, fails the connection with 1002, invalid
// compressed data with 1007. The read limit applies to the inflated size
// (and, as before, to the compressed size) and is enforced while
// inflating: a message that inflates beyond it (a deflate bomb) fails with
// 1009 as soon as it passes the limit, having cost at most the limit in
// memory.
//
// Window sizes. compress/flate always compresses with a 32 KiB (15-bit)
// window and offers no way to restrict its matches to a smaller one. When
// this endpoint agreed to compress with a smaller window (8 to 14 bits:
// server_max_window_bits for a server, client_max_window_bits for a
// client), it honours the limit exactly, without promising what it cannot
// keep: it compresses each message in independent chunks of at most the
// window size, resetting the compressor (flate.Writer.Reset, documented to
// discard all history) and flushing between chunks, so that no match can
// reach further back than the window; it also never uses context takeover
// then. The cost is a lower compression ratio (about 0.48 of the input for
// text at 10 bits, 0.37 at 15) and the level is lowered to BestSpeed, whose
// reset is cheap; HuffmanOnly needs no chunks (it has no matches at all).
// Declining offers with small windows was the alternative, but peers that
// need them (Autobahn's 13.* cases, memory-constrained clients) would then
// get no compression at all. Inflating accepts any window (the inflater
// has 32 KiB): as a client, DialOptions offers server_max_window_bits only
// when asked to, since a smaller server window saves this side nothing.
//
// Memory. Without context takeover nothing stays allocated between
// messages: compressors and inflaters come from sync.Pools and go back
// after each message. With context takeover the receiving side keeps the
// last window of inflated data (the peer's window plus a quarter, 40 KiB
// for 15 bits), and the sending side keeps its compressor, about 1.2 MiB
// with compress/flate, while messages flow: it goes back to the pool after
// 5 seconds without a message to send, or when the connection closes, and
// the next message is compressed without history (context takeover is a
// permission for the sender, never an obligation). An idle Conn with
// context takeover both ways therefore holds about 48 KiB, one without
// about 4.5 KiB, as without compression.
package protocol
