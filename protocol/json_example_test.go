package protocol_test

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/wslua/wslua/protocol"
)

// WriteJSON sends a value as one text message; ReadJSON decodes one
// message into a value, and tells a message that is not JSON (the
// connection goes on) from a failed connection.
func ExampleReadJSON() {
	a, b := net.Pipe()
	client := protocol.NewConn(a, nil, &protocol.Options{Role: protocol.RoleClient})
	server := protocol.NewConn(b, nil, &protocol.Options{Role: protocol.RoleServer})
	defer client.CloseNow()
	defer server.CloseNow()
	ctx := context.Background()

	type order struct {
		Item  string `json:"item"`
		Count int    `json:"count"`
	}
	go func() {
		_ = server.Write(ctx, protocol.MessageText, []byte("not json"))
		_ = protocol.WriteJSON(ctx, server, order{Item: "tea", Count: 2})
	}()

	for range 2 {
		var o order
		err := protocol.ReadJSON(ctx, client, &o)
		switch {
		case errors.Is(err, protocol.ErrInvalidJSON):
			fmt.Println("skipped a message:", err)
		case err != nil:
			fmt.Println("connection failed:", err)
			return
		default:
			fmt.Printf("%+v\n", o)
		}
	}
	// Output:
	// skipped a message: websocket: message is not a valid JSON value: invalid character 'o' in literal null (expecting 'u')
	// {Item:tea Count:2}
}

// WriteJSON encodes a value straight into one text message; the peer gets
// the encoding followed by a newline.
func ExampleWriteJSON() {
	a, b := net.Pipe()
	client := protocol.NewConn(a, nil, &protocol.Options{Role: protocol.RoleClient})
	server := protocol.NewConn(b, nil, &protocol.Options{Role: protocol.RoleServer})
	defer client.CloseNow()
	defer server.CloseNow()
	ctx := context.Background()

	go func() {
		_ = protocol.WriteJSON(ctx, client, map[string]any{"op": "subscribe", "topics": []string{"a", "b"}})
	}()
	typ, p, err := server.Read(ctx)
	fmt.Printf("%s %q %v\n", typ, p, err)
	// Output:
	// text "{\"op\":\"subscribe\",\"topics\":[\"a\",\"b\"]}\n" <nil>
}
