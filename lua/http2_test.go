package lua

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/testserver"
)

// TestHTTP2Option: http2 = true opens the WebSocket as a stream of an
// HTTP/2 connection when the server offers extended CONNECT (tostring says
// so), falls back to HTTP/1.1 when it does not, and http2 = "require"
// fails there with an error that says why.
func TestHTTP2Option(t *testing.T) {
	h2 := newServer(t, &testserver.Options{HTTP2: true})
	h1 := newServer(t, &testserver.Options{TLS: true})
	const script = `
		local client, err = websocket.connect(URL, {http2 = MODE, tls = {insecure_skip_verify = true}})
		if not client then print("error", err) return end
		assert(client:send("over the stream"))
		local m = client:receive():receive()
		print(m.data, tostring(client))
		assert(client:close())
		print(tostring(client))
	`
	for _, tc := range []struct {
		name, url, mode string
		want            []string
	}{
		{"h2 server, true", h2.URL(), "true", []string{"over the stream\twebsocket.client(" + h2.URL() + "/, open, http/2)", "websocket.client(" + h2.URL() + "/, closed, http/2)"}},
		{"h2 server, require", h2.URL(), `"require"`, []string{"over the stream\twebsocket.client(" + h2.URL() + "/, open, http/2)", "websocket.client(" + h2.URL() + "/, closed, http/2)"}},
		{"h2 server, false", h2.URL(), "false", []string{"over the stream\twebsocket.client(" + h2.URL() + "/, open)", "websocket.client(" + h2.URL() + "/, closed)"}},
		{"HTTP/1.1 server, prefer falls back", h1.URL(), `"prefer"`, []string{"over the stream\twebsocket.client(" + h1.URL() + "/, open)", "websocket.client(" + h1.URL() + "/, closed)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.NewReplacer("URL", `"`+tc.url+`/"`, "MODE", tc.mode).Replace(script)
			out := mustRunLua(t, tc.url, src)
			require.Equal(t, strings.Join(tc.want, "\n")+"\n", out)
		})
	}

	t.Run("HTTP/1.1 server, require fails", func(t *testing.T) {
		src := strings.NewReplacer("URL", `"`+h1.URL()+`/"`, "MODE", `"require"`).Replace(script)
		out := mustRunLua(t, h1.URL(), src)
		require.True(t, strings.HasPrefix(out, "error\t"), out)
		require.Contains(t, out, "HTTP/2")
	})
}

// TestHTTP2OptionValues: the option takes true, false, "prefer" or
// "require"; anything else is an error naming it.
func TestHTTP2OptionValues(t *testing.T) {
	for _, v := range []string{`"yes"`, `1`, `{}`} {
		out := mustRunLua(t, "ws://127.0.0.1:1", `print(websocket.connect("wss://127.0.0.1:1/", {http2 = `+v+`}))`)
		require.Contains(t, out, "http2", v)
		require.True(t, strings.HasPrefix(out, "nil\t"), out)
	}
}
