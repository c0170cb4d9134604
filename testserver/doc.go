// Package testserver is an embeddable WebSocket server for tests. It is built
// on this module's own handshake.Upgrade and protocol.Conn: by default it
// echoes every message, and a set of scripted behaviours, chosen by the URL
// path and query, make it misbehave in the precise ways a client test needs.
//
// Start one with New (an httptest server on 127.0.0.1; Server.URL gives its
// ws:// address) or mount Handler / NewHandler in a server of your own.
// Closing the Server (or the ConnHandler) closes every open WebSocket and
// returns once every connection's goroutine has ended.
//
// Query parameters that are malformed or out of range are refused with
// HTTP 400 before the upgrade; an unknown path gets 404. Scripted frames are
// written as raw bytes (framing.AppendFrame) to the connection's net.Conn;
// unless stated otherwise a script then goes on echoing like /echo.
//
// # Behaviours
//
//	/ and /echo
//	    Echo every text and binary message unchanged, streaming it through
//	    Conn.Reader and Conn.Writer, so messages up to Options.MaxMessageSize
//	    (default 64 MiB) work; ?limit=N lowers the read limit to N bytes for
//	    this connection (the server then fails an oversized message with 1009);
//	    N above MaxMessageSize is refused with 400.
//	    Pings are answered by protocol.Conn; a close frame is answered with the
//	    same code. This is also the Autobahn fuzzingclient target.
//	/ping?data=x&count=n&hex=..
//	    Send n (default 1, at most 1000) pings. The payload is data (or the
//	    bytes of hex); with n > 1 the ping's index is appended to it ("x0",
//	    "x1", ...). The server then waits (Options.ScriptTimeout) for n pongs,
//	    answering pings and ignoring data frames meanwhile, and sends one text
//	    message, the JSON Report {"count":k,"pongs":[hex payloads],"inorder":b}
//	    (inorder: the pong payloads equal the ping payloads in order). Then echo.
//	/pong?data=x
//	    Send an unsolicited pong, then echo.
//	/fragmented?text=..&parts=n&ping=1&binary=1
//	    Send text (bytes of the parameter, any UTF-8 split) as one message in n
//	    frames (default 2, at most 1000; cut at byte offsets i*len/n, so empty
//	    fragments occur when n > len), with a ping ("frag-ping") between
//	    fragments if ping=1; binary=1 uses the binary opcode. Then echo.
//	/close?code=1001&reason=bye&hex=..
//	    Send a close frame with the code (any value 0-65535, not validated)
//	    and reason; without code, an empty close frame; hex gives the whole
//	    payload instead. Then wait for the client's close frame (ignoring
//	    other frames) and close the TCP connection.
//	/masked
//	    Send a masked text frame "masked" (a server must not mask). Then echo.
//	/badutf8?frag=1
//	    Send a text message holding invalid UTF-8. With frag=1 send only a
//	    first, non-final fragment whose last byte makes it invalid, and never
//	    the rest: a client that validates as data arrives fails with 1007.
//	    Then echo.
//	/oversize?n=N&huge=1&op=2&payload=1
//	    Send a frame header announcing N bytes (default 1 MiB; huge=1 means
//	    2^63-1; any uint64, so 2^63 gives an undecodable header) with opcode
//	    op (default 2, binary). The payload is sent only with payload=1 and
//	    N <= 64 MiB. Then echo.
//	/drop?after=header|payload|fragment
//	    Drop the TCP connection in the middle of a frame header (default), in
//	    the middle of a 10-byte payload, or after the first fragment of a
//	    fragmented text message.
//	/stall?drain=1
//	    Complete the handshake and never send or process anything. The
//	    server blocks in a 1-byte read so that it notices a client that goes
//	    away without sending; once the client has sent a byte it reads no
//	    more (so the client's writes eventually block) and holds the
//	    connection until the server closes. With drain=1 it instead reads and
//	    discards everything until the client goes away.
//	/noclose
//	    Echo data frames as they come (frame by frame) and answer pings, but
//	    never answer a close frame: keep reading until the client drops the
//	    TCP connection or the server closes.
//	/rsv?bit=1&bit=3&op=1
//	    Send a frame (opcode op, default text; payload "rsv") with the given
//	    reserved bits set (1 = RSV1, 2 = RSV2, 3 = RSV3; default RSV1). Then echo.
//	/opcode?op=3&after=1
//	    Send a frame with opcode op (default 3, a reserved one; payload
//	    "opcode"), after a valid text message "hello" if after=1. Then echo.
//	/pingflood?n=1000&every=10
//	    Send n (at most 10000) pings with payloads "0", "1", ..., and a text
//	    message "data-i" after every "every"-th ping and after the last, then
//	    wait for the pongs and send the JSON Report as /ping does (without the
//	    pong payloads). Then echo.
//	/halfclose
//	    TCP half-close (CloseWrite) right after the handshake; then read and
//	    discard until the client goes away.
//	/send?text=..&binary=..
//	    Send the given messages (repeatable, in query order; binary carries
//	    the parameter's bytes) with Conn.Write, then echo.
//	/subprotocol
//	    Echo; the server supports the subprotocols Options.Subprotocols
//	    (default "chat", "superchat"), in that order of preference.
//	/headers
//	    Send the request headers (plus "Host") as a JSON object of string
//	    arrays in one text message, then echo.
//	/raw?hex=..
//	    Write the given bytes verbatim, then echo.
//
// Options.OnClose reports, once per WebSocket session, how it ended and which
// close code the client sent, so a client test can assert the code its
// client sent in reaction to a script.
//
// The scripts that read raw frames (/ping, /pingflood, /close) read them
// straight from the net.Conn, byte-exact, before handing the connection back
// to protocol.Conn; they rely on the client sending nothing before it has
// received the 101 response, which every conforming client does.
package testserver
