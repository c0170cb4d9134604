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
// 5 fragmentation, 6 UTF-8, 7 close handshake, 9 large messages and the read
// limit, 10 automatic fragmentation; plus the parts of the opening handshake
// (section 4) the others rely on. Each family lives in its own file,
// familyN_*_test.go, with one table of cases per direction.
//
// Under the race detector the family 9 series of messages cut into 64 B to
// 4 MiB frames uses a 4 MiB message instead of 16 MiB (the 16 MiB
// single-frame cases run in both modes); BenchmarkLargeMessages measures
// speed.
package conformance
