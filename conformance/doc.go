// Package conformance holds this module's own RFC 6455 conformance tests,
// grouped like the Autobahn testsuite's case families and written from the
// RFC, section by section. It has no API: everything is in its tests.
//
// Each family runs in two directions:
//
//   - against our server (testserver, on handshake.Upgrade and
//     protocol.Conn), driven by a raw scripted client that writes
//     hand-crafted, masked frames with framing.AppendFrame and checks the
//     server's reaction byte by byte: the frames it echoes, or the close code
//     it sends;
//   - against our client (handshake.Dial and protocol.Conn), talking to the
//     testserver's scripted paths or to a raw scripted server, checking what
//     Read returns and which close code the client sent.
//
// The families: 1 framing, 2 pings and pongs, 3 reserved bits, 4 opcodes,
// 5 fragmentation, 6 UTF-8, 7 close handshake, 9 large messages,
// 10 automatic fragmentation.
//
// Tests that demonstrate a known bug in another package carry the build tag
// knownbug, so the default build stays green: go test -tags knownbug runs
// them.
package conformance
