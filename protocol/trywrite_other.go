//go:build !unix

package protocol

// rawWriteSupported: no non-blocking raw writes here; TryWrite declines.
const rawWriteSupported = false

func (c *Conn) tryWriteRaw([]byte) int { return 0 }
