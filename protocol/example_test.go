package protocol_test

import (
	"context"
	"fmt"
	"net"

	"github.com/wslua/wslua/protocol"
)

// echo serves one connection: it sends every message back until the peer
// closes.
func echo(c *protocol.Conn) {
	ctx := context.Background()
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, p); err != nil {
			return
		}
	}
}

// NewConn wraps each end of a connection whose opening handshake is done
// (here an in-memory pipe): one end as the client, the other as the server.
func ExampleNewConn() {
	a, b := net.Pipe()
	client := protocol.NewConn(a, nil, &protocol.Options{Role: protocol.RoleClient})
	server := protocol.NewConn(b, nil, &protocol.Options{Role: protocol.RoleServer, ReadLimit: 1 << 20})
	done := make(chan struct{})
	go func() { defer close(done); echo(server) }()

	ctx := context.Background()
	if err := client.Write(ctx, protocol.MessageText, []byte("hello")); err != nil {
		fmt.Println(err)
		return
	}
	typ, p, err := client.Read(ctx)
	fmt.Println(typ, string(p), err)

	// Close runs the closing handshake: the server's reader answers it.
	fmt.Println(client.Close(protocol.StatusNormalClosure, "done"))
	<-done
	_, _, err = client.Read(ctx)
	fmt.Println(err)
	// Output:
	// text hello <nil>
	// <nil>
	// websocket: closed: 1000
}

// Read returns whole messages; ReadAppend reuses a buffer; the close of the
// peer ends the loop with a *CloseError.
func ExampleConn_Read() {
	a, b := net.Pipe()
	client := protocol.NewConn(a, nil, &protocol.Options{Role: protocol.RoleClient})
	server := protocol.NewConn(b, nil, &protocol.Options{Role: protocol.RoleServer})
	go func() {
		ctx := context.Background()
		for _, m := range []string{"one", "two", "three"} {
			_ = server.Write(ctx, protocol.MessageText, []byte(m))
		}
		_ = server.Close(protocol.StatusGoingAway, "bye")
	}()

	ctx := context.Background()
	buf := make([]byte, 0, 512)
	for {
		_, msg, err := client.ReadAppend(ctx, buf[:0])
		if err != nil {
			fmt.Println("code:", int(protocol.CloseStatus(err)), "err:", err)
			break
		}
		fmt.Println(string(msg))
	}
	// Output:
	// one
	// two
	// three
	// code: 1001 err: websocket: closed by peer: 1001 bye
}

// Write sends a message in one frame; Writer streams one in fragments.
func ExampleConn_Write() {
	a, b := net.Pipe()
	client := protocol.NewConn(a, nil, &protocol.Options{Role: protocol.RoleClient})
	server := protocol.NewConn(b, nil, &protocol.Options{Role: protocol.RoleServer})
	defer client.CloseNow()
	defer server.CloseNow()
	go func() {
		ctx := context.Background()
		_ = client.Write(ctx, protocol.MessageBinary, []byte{1, 2, 3})
		w, err := client.Writer(ctx, protocol.MessageText)
		if err != nil {
			return
		}
		fmt.Fprintf(w, "streamed ")
		fmt.Fprintf(w, "in pieces")
		_ = w.Close()
	}()

	ctx := context.Background()
	for i := 0; i < 2; i++ {
		typ, p, err := server.Read(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%v %q\n", typ, p)
	}
	// Output:
	// binary "\x01\x02\x03"
	// text "streamed in pieces"
}
