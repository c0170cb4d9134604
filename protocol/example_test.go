package protocol_test

import (
	"context"
	"fmt"
	"io"
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

// IsNormalClose tells the end of a read loop that needs no log line (the
// peer said goodbye with 1000 or 1001, or this end closed the connection)
// from a failure worth reporting.
func ExampleIsNormalClose() {
	serve := func(c *protocol.Conn, done chan<- struct{}) {
		defer close(done)
		for {
			_, _, err := c.Read(context.Background())
			if err == nil {
				continue
			}
			if protocol.IsNormalClose(err) {
				fmt.Println("connection ended:", err)
			} else {
				fmt.Println("connection failed:", err)
			}
			return
		}
	}

	a, b := net.Pipe()
	client := protocol.NewConn(a, nil, &protocol.Options{Role: protocol.RoleClient})
	server := protocol.NewConn(b, nil, &protocol.Options{Role: protocol.RoleServer})
	done := make(chan struct{})
	go serve(server, done)
	_ = client.Close(protocol.StatusGoingAway, "bye")
	<-done

	a, b = net.Pipe()
	client = protocol.NewConn(a, nil, &protocol.Options{Role: protocol.RoleClient})
	server = protocol.NewConn(b, nil, &protocol.Options{Role: protocol.RoleServer, ReadLimit: 4})
	done = make(chan struct{})
	go serve(server, done)
	go func() { _, _, _ = client.Read(context.Background()) }() // answers the server's close
	_ = client.Write(context.Background(), protocol.MessageText, []byte("too long"))
	<-done
	_ = client.CloseNow()
	// Output:
	// connection ended: websocket: closed by peer: 1001 bye
	// connection failed: websocket: failed connection: 1009 message exceeds the read limit
}

// CloseRead serves a connection that only writes: the incoming side is
// read (and discarded) by a goroutine, and the returned context tells when
// the peer is gone.
func ExampleConn_CloseRead() {
	a, b := net.Pipe()
	client := protocol.NewConn(a, nil, &protocol.Options{Role: protocol.RoleClient})
	server := protocol.NewConn(b, nil, &protocol.Options{Role: protocol.RoleServer})
	ctx := server.CloseRead(context.Background())
	go func() {
		_, p, _ := client.Read(context.Background())
		fmt.Println("client got:", string(p))
		_ = client.Close(protocol.StatusNormalClosure, "")
	}()
	_ = server.Write(ctx, protocol.MessageText, []byte("tick"))
	<-ctx.Done()
	fmt.Println("peer gone")
	// Output:
	// client got: tick
	// peer gone
}

// PingRTT measures the round trip to the peer; some goroutine must be
// reading for the pong to be seen.
func ExampleConn_PingRTT() {
	a, b := net.Pipe()
	client := protocol.NewConn(a, nil, &protocol.Options{Role: protocol.RoleClient})
	server := protocol.NewConn(b, nil, &protocol.Options{Role: protocol.RoleServer})
	defer server.CloseNow()
	defer client.CloseNow()
	go echo(server)
	go func() { _, _, _ = client.Read(context.Background()) }()
	rtt, err := client.PingRTT(context.Background())
	fmt.Println(rtt > 0, err)
	// Output:
	// true <nil>
}

// SetReadLimit changes the read limit of a live connection, for instance
// once a client has authenticated.
func ExampleConn_SetReadLimit() {
	a, b := net.Pipe()
	client := protocol.NewConn(a, nil, &protocol.Options{Role: protocol.RoleClient})
	server := protocol.NewConn(b, nil, &protocol.Options{Role: protocol.RoleServer, ReadLimit: 16})
	defer client.CloseNow()
	go func() { _, _, _ = client.Read(context.Background()) }()
	go func() {
		_ = client.Write(context.Background(), protocol.MessageText, []byte("a longer message, once allowed"))
	}()
	server.SetReadLimit(1 << 20)
	_, p, err := server.Read(context.Background())
	fmt.Println(string(p), err)
	_ = server.Close(protocol.StatusNormalClosure, "")
	// Output:
	// a longer message, once allowed <nil>
}

// WriteUncompressed skips compression for a message that would not gain
// from it, on a connection that negotiated permessage-deflate.
func ExampleConn_WriteUncompressed() {
	a, b := net.Pipe()
	deflate := &protocol.CompressionOptions{}
	client := protocol.NewConn(a, nil, &protocol.Options{Role: protocol.RoleClient, Compression: deflate})
	server := protocol.NewConn(b, nil, &protocol.Options{Role: protocol.RoleServer, Compression: deflate})
	defer client.CloseNow()
	defer server.CloseNow()
	jpeg := make([]byte, 4096) // already compressed data, say
	go func() { _ = server.WriteUncompressed(context.Background(), protocol.MessageBinary, jpeg) }()
	_, p, err := client.Read(context.Background())
	fmt.Println(len(p), err)
	// Output:
	// 4096 <nil>
}

// With Options.DeferFailure a server answers every message that came
// before a frame that breaks the protocol, then fails the connection.
func ExampleConn_Fail() {
	client, server := net.Pipe()
	c := protocol.NewConn(server, nil, &protocol.Options{Role: protocol.RoleServer, DeferFailure: true})
	go func() {
		// A masked text message "hi", then a frame with a reserved opcode.
		_, _ = client.Write([]byte{0x81, 0x82, 0, 0, 0, 0, 'h', 'i', 0x83, 0x80, 0, 0, 0, 0})
	}()
	go func() { _, _ = io.Copy(io.Discard, client) }()
	ctx := context.Background()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			fmt.Println("read:", int(protocol.CloseStatus(err)))
			break
		}
		fmt.Printf("answering %q\n", msg)
		_ = c.Write(ctx, typ, msg)
	}
	_ = c.Fail() // sends the 1002 close frame after the answer, closes
	// Output:
	// answering "hi"
	// read: 1002
}
