// Package handshake implements the WebSocket opening handshake of RFC 6455,
// section 4, on both sides of the connection.
//
// Dial is the client: it connects to a ws:// or wss:// URL, directly or
// through an HTTP CONNECT or SOCKS5 proxy, writes the upgrade request by
// hand, validates the server's answer and returns a *protocol.Conn. Upgrade is
// the server: it validates an upgrade request received by a net/http handler,
// hijacks the connection, answers 101 Switching Protocols and returns a
// *protocol.Conn.
//
// Every failure is reported as a *HandshakeError, which says what was wrong
// and, when an HTTP response was involved, carries its status code and a short
// excerpt of its body. Credentials given in a URL never appear in an error.
//
// The one extension negotiated is permessage-deflate (RFC 7692), when
// DialOptions.Compression or UpgradeOptions.Compression ask for it: Dial
// offers it and fails if the answer accepts what was not offered (or
// selects any other extension); Upgrade accepts the first valid offer and
// declines the others. The agreed parameters reach the Conn in
// protocol.Options.Compression.
//
// Both sides also speak WebSockets over HTTP/2 (RFC 8441): Upgrade accepts
// extended CONNECT requests when net/http has them enabled (package
// xconnect), and Dial opens streams when DialOptions.HTTP2 asks for it,
// sharing one HTTP/2 connection per server between WebSockets (HTTP2Pool).
// Over HTTP/2 the Conn runs over a stream rather than a socket; everything
// else is the same.
package handshake
