package fakeserver

import (
	"context"
	"fmt"
	"strings"

	"github.com/wslua/wslua/framing"
	"github.com/wslua/wslua/protocol"
)

// DefaultCases are the seven cases of the fake server, one for each kind of
// message a driver must echo:
//
//  1. a text message (with non-ASCII UTF-8)
//  2. a binary message holding every byte value
//  3. an empty text and an empty binary message
//  4. a 1 MiB binary and a 256 KiB text message
//  5. fragmented messages (text with a ping between fragments, binary with
//     an empty fragment) sent as raw frames
//  6. 20 small messages of both types sent before any echo is read
//  7. a message, then the server closes with 4001 and checks the client
//     answers with the same code
func DefaultCases() []Case {
	return []Case{
		{Name: "text", Run: func(ctx context.Context, c *Conn) error {
			return c.Echo(ctx, protocol.MessageText, []byte("Hello, Autobahn! ¡Hola! こんにちは ✓"))
		}},
		{Name: "binary", Run: func(ctx context.Context, c *Conn) error {
			return c.Echo(ctx, protocol.MessageBinary, allBytes())
		}},
		{Name: "empty", Run: func(ctx context.Context, c *Conn) error {
			if err := c.Echo(ctx, protocol.MessageText, nil); err != nil {
				return err
			}
			return c.Echo(ctx, protocol.MessageBinary, nil)
		}},
		{Name: "large", Run: func(ctx context.Context, c *Conn) error {
			if err := c.Echo(ctx, protocol.MessageBinary, Pattern(1<<20, 1)); err != nil {
				return err
			}
			return c.Echo(ctx, protocol.MessageText, []byte(strings.Repeat("ü€𝄞a", (256<<10)/10)))
		}},
		{Name: "fragmented", Run: runFragmented},
		{Name: "pipelined", Run: runPipelined},
		{Name: "close code", Run: func(ctx context.Context, c *Conn) error {
			if err := c.Echo(ctx, protocol.MessageText, []byte("before close")); err != nil {
				return err
			}
			return c.CloseAndCheck(ctx, 4001, "case over")
		}},
	}
}

// CompressionCase is a case run with permessage-deflate, as the real
// fuzzingserver's sections 12 and 13 are: the server accepts the extension
// if the client offers it (Result.Compressed), then echoes a compressible
// text and binary message, which travel compressed both ways when it was
// agreed. A client that does not offer it still passes the echo: only
// Result.Compressed tells.
func CompressionCase() Case {
	return Case{Name: "compressed", Compress: true, Run: func(ctx context.Context, c *Conn) error {
		if err := c.Echo(ctx, protocol.MessageText, []byte(strings.Repeat("deflate me, ", 2000))); err != nil {
			return err
		}
		return c.Echo(ctx, protocol.MessageBinary, Pattern(64<<10, 3))
	}}
}

// runFragmented sends a text message in three fragments (cut inside a
// multi-byte character) with a ping between the first two, and a binary
// message in three fragments, the middle one empty.
func runFragmented(ctx context.Context, c *Conn) error {
	text := []byte("fragmented ✓ text")
	cut := strings.Index(string(text), "✓") + 1 // inside the 3-byte ✓
	err := c.SendFrames(ctx,
		Frame{Opcode: framing.OpText, Payload: text[:cut]},
		Frame{Fin: true, Opcode: framing.OpPing, Payload: []byte("ping between fragments")},
		Frame{Opcode: framing.OpContinuation, Payload: text[cut : cut+4]},
		Frame{Fin: true, Opcode: framing.OpContinuation, Payload: text[cut+4:]},
	)
	if err != nil {
		return fmt.Errorf("sending fragments: %w", err)
	}
	if err := c.ExpectEcho(ctx, protocol.MessageText, text); err != nil {
		return err
	}
	bin := Pattern(3000, 2)
	err = c.SendFrames(ctx,
		Frame{Opcode: framing.OpBinary, Payload: bin[:1000]},
		Frame{Opcode: framing.OpContinuation},
		Frame{Fin: true, Opcode: framing.OpContinuation, Payload: bin[1000:]},
	)
	if err != nil {
		return fmt.Errorf("sending fragments: %w", err)
	}
	return c.ExpectEcho(ctx, protocol.MessageBinary, bin)
}

// runPipelined sends 20 messages, then reads the 20 echoes in order.
func runPipelined(ctx context.Context, c *Conn) error {
	type msg struct {
		typ protocol.MessageType
		p   []byte
	}
	var msgs []msg
	for i := range 20 {
		if i%2 == 0 {
			msgs = append(msgs, msg{protocol.MessageText, []byte(fmt.Sprintf("message %d: %s", i, strings.Repeat("é", i*7)))})
		} else {
			msgs = append(msgs, msg{protocol.MessageBinary, Pattern(i*97, byte(i))})
		}
	}
	for _, m := range msgs {
		if err := c.Write(ctx, m.typ, m.p); err != nil {
			return fmt.Errorf("sending: %w", err)
		}
	}
	for i, m := range msgs {
		if err := c.ExpectEcho(ctx, m.typ, m.p); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return nil
}

// allBytes returns the 256 byte values in order.
func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// Pattern returns n deterministic pseudo-random bytes depending on seed.
func Pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x >> 24)
	}
	return b
}
