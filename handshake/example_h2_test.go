package handshake_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wslua/wslua/handshake"
	// In a main package: turns on extended CONNECT in net/http, so that
	// browsers and DialOptions.HTTP2 can open WebSockets over HTTP/2.
	_ "github.com/wslua/wslua/handshake/xconnect"
	"github.com/wslua/wslua/protocol"
)

// A server that takes WebSockets over HTTP/1.1 and over HTTP/2 (RFC 8441),
// and a client that prefers HTTP/2 and reports which one it got.
func ExampleDialOptions_http2() {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := handshake.Upgrade(w, r, nil) // HTTP/1.1 GET or HTTP/2 extended CONNECT
		if err != nil {
			log.Print(err)
			return
		}
		go echo(c)
		<-handshake.Done(c) // over HTTP/2 the WebSocket lives as long as the handler
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	pool := &handshake.HTTP2Pool{} // or nil: handshake.DefaultHTTP2Pool
	defer pool.Close()
	ctx := context.Background()
	for range 2 {
		c, resp, err := handshake.Dial(ctx, "wss"+strings.TrimPrefix(srv.URL, "https")+"/", &handshake.DialOptions{
			TLSConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig,
			HTTP2:     handshake.HTTP2Prefer, // HTTP2Require: fail instead of falling back
			HTTP2Pool: pool,
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		if err := c.Write(ctx, protocol.MessageText, []byte("hi")); err != nil {
			fmt.Println(err)
			return
		}
		_, msg, err := c.Read(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s over %s (status %d)\n", msg, resp.Proto, resp.StatusCode)
		c.Close(protocol.StatusNormalClosure, "")
	}
	// Output:
	// hi over HTTP/2.0 (status 200)
	// hi over HTTP/2.0 (status 200)
}
