// Command scriptclient runs the loops of bench/lua and bench/node with our Go
// client (handshake.Dial, Conn.Write, Conn.ReadAppend), against the same
// echo server process, so the three figures compare like with like.
//
//	scriptclient roundtrip16|echo64k ws://127.0.0.1:9001/echo [count]
//
// It prints one line in `go test -bench` format, like the scripts.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// scriptCase is one of the script loops.
type scriptCase struct {
	name string
	n    int
	typ  protocol.MessageType
	msg  []byte
}

func cases() map[string]scriptCase {
	bin := make([]byte, 64<<10)
	for i := range bin {
		bin[i] = byte(i)
	}
	return map[string]scriptCase{
		"roundtrip16": {"ScriptRoundTrip16", 20000, protocol.MessageText, []byte("0123456789abcdef")},
		"echo64k":     {"ScriptEcho64K", 5000, protocol.MessageBinary, bin},
	}
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "scriptclient:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return errors.New("usage: scriptclient roundtrip16|echo64k URL [count]")
	}
	c, ok := cases()[args[0]]
	if !ok {
		return fmt.Errorf("unknown loop %q", args[0])
	}
	if len(args) > 2 {
		n, err := strconv.Atoi(args[2])
		if err != nil || n <= 0 {
			return fmt.Errorf("bad count %q", args[2])
		}
		c.n = n
	}
	ctx := context.Background()
	conn, _, err := handshake.Dial(ctx, args[1], &handshake.DialOptions{Conn: protocol.Options{ReadLimit: 32 << 20}})
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	var buf []byte
	loop := func(k int) error {
		for range k {
			if err := conn.Write(ctx, c.typ, c.msg); err != nil {
				return err
			}
			if _, buf, err = conn.ReadAppend(ctx, buf[:0]); err != nil {
				return err
			}
			if len(buf) != len(c.msg) {
				return errors.New("echo differs")
			}
		}
		return nil
	}
	warm := max(c.n/10, 10)
	if err := loop(warm); err != nil {
		return err
	}
	t0 := time.Now()
	if err := loop(c.n); err != nil {
		return err
	}
	secs := time.Since(t0).Seconds()
	line := fmt.Sprintf("Benchmark%s/client=go\t%d\t%.1f ns/op", c.name, c.n, secs*1e9/float64(c.n))
	if c.typ == protocol.MessageBinary {
		line += fmt.Sprintf("\t%.2f MB/s", float64(len(c.msg))*float64(c.n)/secs/1e6)
	}
	fmt.Printf("%s\t%.0f ops/s\n", line, float64(c.n)/secs)
	return conn.Close(protocol.StatusNormalClosure, "")
}
