// Package interop holds the interoperability and load tests of the wslua
// WebSocket stack. It is a nested module (its own go.mod, with a replace of
// github.com/wslua/wslua to ../) so that its peers — gorilla/websocket,
// coder/websocket, Node's ws and Python's websockets — never enter the main
// go.mod. Everything is in _test.go files; this file only documents them.
//
// # Running
//
//	bash interop/ci.sh          # installs the peers if missing, vet, go test -race
//	cd interop && go test ./... # without -race: the load tests use 1,000 connections
//	cd interop && go test -run '^$' -bench Load1000 -benchtime=1x .
//
// ci.sh runs `npm ci` in interop/node when node_modules lacks the locked ws
// version, and `apt-get install python3-websockets` when /usr/bin/python3
// cannot import websockets. The Node and Python tests skip when their peer
// is missing, unless the CI environment variable is set: then they fail.
//
// # The matrix (TestInterop)
//
// runSuite runs the same checks for every client/server pair:
//
//	our client (handshake.Dial)  ->  gorilla server, coder server (in-process httptest),
//	                                 Node ws (node/server.js), Python websockets
//	                                 (python/server.py), our handshake.Upgrade server
//	gorilla and coder clients    ->  our testserver, our handshake.Upgrade server
//
// The checks: text and binary messages of 0, 125, 126, 65535, 65536 and
// 1 MiB bytes; fragmented messages from the client's streaming writer (our
// Conn.Writer, gorilla's NextWriter, coder's Writer; several Write calls,
// including empty ones, and a ping sent between two fragments) and from the
// server; ping/pong both ways with the payload echoed; close codes 1000,
// 1001, 3000 and 4999 with reasons, started by either side, each side
// seeing the other's code and reason; subprotocol negotiation. Every client
// connection goes through a frame tap (tap_test.go) that decodes the frame
// headers on the wire, so fragmentation is checked, not assumed.
//
// # The contract of the peer servers
//
// The gorilla, coder, Node and Python servers, and our Upgrade-based one,
// speak the same contract, on 127.0.0.1, with the subprotocols "chat" and
// "superchat" (the first of the server's list that the client offered):
//
//	/echo               echo every message with its type
//	/fragecho?parts=N   echo every message as one message in N frames
//	                    (cut at byte offsets i*len/N; Python cuts text at
//	                    character offsets and adds an empty final frame)
//	/ping?data=X        send a ping with payload X (coder: its own payload),
//	                    and once the pong came, the text "pong:" + the pong's
//	                    payload; then echo
//	/close?code=C&reason=R
//	                    send a close frame (C, R) at once, wait for the reply
//	/proto              send the text "proto:" + the selected subprotocol,
//	                    then echo
//
// At the end of every session the server reports the close frame the client
// sent (code 1005: none in the frame, 1006: no close frame) under the id
// query parameter: in-process servers through a Go callback, the Node and
// Python processes as JSON lines on stdout after the first line, which is
// their port. Our testserver speaks its own scripted paths (see package
// testserver) and reports through Options.OnClose.
//
// # Compression (compression_test.go)
//
// permessage-deflate (RFC 7692) round trips, one connection per parameter
// combination: our client against Node ws (every context takeover pair
// times several window pairs, 8, 9, 10, 12, 15 and the bare
// client_max_window_bits offer; ws servers imposing, narrowing or refusing
// parameters; levels and thresholds), gorilla (EnableCompression), coder
// (both CompressionModes) and Python websockets (its default, 12-bit
// windows); Node ws clients (node/client.js) and gorilla and coder clients
// against our testserver under as many server policies. Each connection
// echoes text and binary messages, compressible and random, of 0 to 1 MiB
// bytes, checked byte for byte; the agreed parameters are checked on both
// sides, and a frame tap checks RSV1 message by message against each
// sender's threshold and, with a random block sent twice, context
// takeover. Node's server takes its perMessageDeflate options, as JSON,
// from the pmd query parameter (no compression without it).
//
// # Load (TestLoad1000, TestLoad1000Lua, BenchmarkLoad1000, BenchmarkLoad1000Lua)
//
// 1,000 concurrent client connections from this process to our testserver
// on loopback, each echoing 100 messages: through the Go API (pipelined: a
// writer goroutine per connection while its reader checks every message,
// so loss, corruption, cross-talk and reordering are caught), and through
// the Lua module (one VM under scheduler.Run, 1,000 coroutines each owning
// a client that does 100 echo round trips). The tests assert integrity,
// never time. Under the race detector they use 200 connections (race
// slows everything several times and caps live goroutines), which keeps
// `go test -race ./...` well under a minute; without -race and in the
// benchmarks they use the full 1,000. TestMain raises the soft limit on
// open files to 4,096 when it is lower; if the hard limit forbids that, the
// load scales down to what the limit allows and logs it.
//
// The benchmarks report B/conn, the growth of runtime.MemStats.HeapAlloc
// per connection measured (after GC) with every connection open after its
// echoes, and inuse-B/conn (HeapInuse+StackInuse). server=child runs the
// testserver in a child process (this test binary, re-executed), so the
// figures are the client's alone; server=inproc has both ends in this
// process.
//
// # Browsers and HTTP/2 (browser_test.go, hypercorn_test.go)
//
// TestBrowsers starts headless Chromium and Firefox ESR (Debian's chromium
// and firefox-esr) on browser/page.html, served by a TLS server of ours
// (a test CA; Chromium runs with --ignore-certificate-errors, Firefox gets
// a fresh profile that trusts the CA through certutil). The page runs the
// WebSocket cases (echo of text and binary messages including empty and
// 16 MiB ones, 10,000 messages in order, permessage-deflate, subprotocols,
// close codes both ways, server pings, a foreign Origin refused by the
// default CheckOrigin) and posts each result to /report; no WebDriver. It
// runs twice per browser: with the server offering only http/1.1 in ALPN,
// and with h2 and extended CONNECT, where the server checks that every
// WebSocket arrived as an RFC 8441 stream (HTTP/2.0 CONNECT, :protocol
// websocket). TestHypercornHTTP2 runs our client with DialOptions.HTTP2
// against Python's Hypercorn (python/hypercorn_server.py): echo, subprotocol,
// close codes both ways, 21 WebSockets on one TCP connection. Hypercorn
// 0.13.2 fails the whole connection when data or END_STREAM arrives on a
// stream it already closed, which the test works around and documents.
package interop
