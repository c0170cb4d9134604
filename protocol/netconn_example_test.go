package protocol_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"

	"github.com/wslua/wslua/protocol"
)

// NetConn turns a Conn into a net.Conn carrying a byte stream: here the
// server echoes the stream with io.Copy and the client reads lines with
// bufio, whatever the messages that carried them.
func ExampleNetConn() {
	a, b := net.Pipe()
	client := protocol.NewConn(a, nil, &protocol.Options{Role: protocol.RoleClient})
	server := protocol.NewConn(b, nil, &protocol.Options{Role: protocol.RoleServer})
	ctx := context.Background()

	done := make(chan struct{})
	go func() {
		defer close(done)
		s := protocol.NetConn(ctx, server, protocol.MessageBinary)
		_, _ = io.Copy(s, s) // until the client closes: Read returns io.EOF
		_ = s.Close()
	}()

	c := protocol.NetConn(ctx, client, protocol.MessageBinary)
	go func() { // a pipe has no buffer: write while reading
		fmt.Fprint(c, "hello, ")         // one message
		fmt.Fprint(c, "stream\nsecond ") // another
		fmt.Fprint(c, "line\n")
	}()
	r := bufio.NewReader(c)
	for range 2 {
		line, err := r.ReadString('\n')
		fmt.Printf("%q %v\n", line, err)
	}
	fmt.Println(c.Close())
	<-done
	// Output:
	// "hello, stream\n" <nil>
	// "second line\n" <nil>
	// <nil>
}
