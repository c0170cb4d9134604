// Package framing encodes and decodes WebSocket frames as defined by RFC 6455,
// section 5: frame headers in all three length forms, the masking transform,
// and the structural rules a frame header must obey.
//
// The package knows bytes and frames only. Messages, fragmentation state,
// UTF-8 and the close handshake live in package protocol.
//
// Nothing here allocates on the success path: headers are parsed from and
// written into caller-owned bytes, and errors for malformed headers are
// preallocated values.
package framing
