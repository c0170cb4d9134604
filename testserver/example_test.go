package testserver_test

import (
	"context"
	"fmt"
	"net"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
	"github.com/wslua/wslua/testserver"
)

// Serve runs the scripted server on a listener of your own until the
// context ends.
func ExampleServe() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- testserver.Serve(ctx, ln, nil, nil) }()

	c, _, err := handshake.Dial(ctx, "ws://"+ln.Addr().String()+"/echo", nil)
	if err != nil {
		panic(err)
	}
	_ = c.Write(ctx, protocol.MessageText, []byte("hello"))
	_, msg, _ := c.Read(ctx)
	fmt.Println(string(msg))
	_ = c.Close(protocol.StatusNormalClosure, "")

	stop()
	fmt.Println(<-done)
	// Output:
	// hello
	// <nil>
}

// Paths lists what the server answers on, one line each.
func ExamplePaths() {
	for _, p := range testserver.Paths()[:3] {
		fmt.Printf("%-6s %s\n", p.Path, p.Summary)
	}
	// Output:
	// /      echo every text and binary message (?limit=N lowers the read limit)
	// /echo  the same as /
	// /ping  send pings (?data=x&count=n&hex=..), wait for the pongs, report them as JSON, then echo
}
