package handshake_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

// echoHandler is the handler of ExampleUpgrade: it upgrades the request and
// hands the connection to a goroutine that echoes every message back until
// the client closes. Returning from the handler lets net/http free what it
// keeps for the connection while a handler runs.
func echoHandler(w http.ResponseWriter, r *http.Request) {
	c, err := handshake.Upgrade(w, r, &handshake.UpgradeOptions{
		Subprotocols: []string{"echo.v2", "echo.v1"},
	})
	if err != nil {
		// Upgrade has already answered the client (400, 403, 426, ...).
		log.Print(err)
		return
	}
	go echo(c)
}

// echo serves c until it ends. Its context is not the request's, which is
// canceled once the handler returns.
func echo(c *protocol.Conn) {
	defer c.CloseNow()
	ctx := context.Background()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return // the close handshake is done, or the connection failed
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}

func ExampleUpgrade() {
	srv := httptest.NewServer(http.HandlerFunc(echoHandler))
	defer srv.Close()

	// A plain HTTP GET is not a WebSocket handshake: Upgrade refuses it.
	resp, err := http.Get(srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 400 Bad Request
}

func ExampleDial() {
	srv := httptest.NewServer(http.HandlerFunc(echoHandler))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/echo"

	ctx := context.Background()
	c, _, err := handshake.Dial(ctx, url, &handshake.DialOptions{
		Subprotocols: []string{"echo.v1"},
		DialTimeout:  10 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseNow()
	fmt.Println("subprotocol:", c.Subprotocol())

	if err := c.Write(ctx, protocol.MessageText, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	_, msg, err := c.Read(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("echo:", string(msg))
	c.Close(protocol.StatusNormalClosure, "done")
	// Output:
	// subprotocol: echo.v1
	// echo: hello
}

func ExampleHandshakeError() {
	// A server that is not a WebSocket endpoint.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no websockets here", http.StatusNotFound)
	}))
	defer srv.Close()

	_, _, err := handshake.Dial(context.Background(), srv.URL, nil)
	var he *handshake.HandshakeError
	if errors.As(err, &he) {
		fmt.Println(he.StatusCode, strings.TrimSpace(string(he.Body)))
	}
	fmt.Println(err)
	// Output:
	// 404 no websockets here
	// websocket: handshake: server answered 404 Not Found: no websockets here
}
