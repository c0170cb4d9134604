package conformance

// The opening handshake (RFC 6455, section 4), as far as the families above
// rely on it: what our client accepts and what our server refuses.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/testserver"
)

// TestAcceptKeyRFCExample: the worked example of RFC 6455, section 1.3.
func TestAcceptKeyRFCExample(t *testing.T) {
	require.Equal(t, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", acceptFor("dGhlIHNhbXBsZSBub25jZQ=="))
	require.Equal(t, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", handshake.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
}

// TestClientRefusesBadResponses: section 4.1, the client's checks of the
// server's response ("If the response lacks ... the client MUST _Fail the
// WebSocket Connection_").
func TestClientRefusesBadResponses(t *testing.T) {
	tests := []struct {
		name     string
		response func(key string) string
	}{
		{"status 200", func(key string) string {
			return "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
		}},
		{"wrong accept", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
				acceptFor(key+"x") + "\r\n\r\n"
		}},
		{"missing accept", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
		}},
		{"missing Upgrade", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptFor(key) + "\r\n\r\n"
		}},
		{"wrong Upgrade", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptFor(key) + "\r\n\r\n"
		}},
		{"missing Connection", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + acceptFor(key) + "\r\n\r\n"
		}},
		{"extension not offered", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
				acceptFor(key) + "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
		}},
		{"subprotocol not offered", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
				acceptFor(key) + "\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer ln.Close()
			served := make(chan error, 1)
			go func() {
				nc, err := ln.Accept()
				if err != nil {
					served <- err
					return
				}
				defer nc.Close()
				_ = nc.SetDeadline(time.Now().Add(safetyTimeout))
				req, err := http.ReadRequest(bufioReader(nc))
				if err != nil {
					served <- err
					return
				}
				_, err = io.WriteString(nc, tc.response(req.Header.Get("Sec-WebSocket-Key")))
				served <- err
			}()
			ctx, cancel := context.WithTimeout(context.Background(), safetyTimeout)
			defer cancel()
			c, _, err := handshake.Dial(ctx, "ws://"+ln.Addr().String()+"/", nil)
			if c != nil {
				c.CloseNow()
			}
			require.Error(t, err)
			var he *handshake.HandshakeError
			require.ErrorAs(t, err, &he)
			require.NoError(t, <-served)
		})
	}
}

// TestServerRefusesBadRequests: section 4.2.1-4.2.2, the server's checks of
// the client's request.
func TestServerRefusesBadRequests(t *testing.T) {
	srv := testserver.New(nil)
	t.Cleanup(srv.Close)
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	tests := []struct {
		name    string
		request string
		status  int
		header  [2]string // a header the answer must carry
	}{
		{"POST", "POST / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
			"\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n", http.StatusMethodNotAllowed, [2]string{}},
		{"HTTP/1.0", "GET / HTTP/1.0\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
			"\r\nSec-WebSocket-Version: 13\r\n\r\n", http.StatusBadRequest, [2]string{}},
		{"no Upgrade", "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
			"\r\nSec-WebSocket-Version: 13\r\n\r\n", http.StatusBadRequest, [2]string{}},
		{"no Connection upgrade", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Key: " + key +
			"\r\nSec-WebSocket-Version: 13\r\n\r\n", http.StatusBadRequest, [2]string{}},
		{"no key", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
			http.StatusBadRequest, [2]string{}},
		{"key of 15 bytes", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\nSec-WebSocket-Version: 13\r\n\r\n",
			http.StatusBadRequest, [2]string{}},
		{"version 8", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
			"\r\nSec-WebSocket-Version: 8\r\n\r\n", http.StatusUpgradeRequired, [2]string{"Sec-WebSocket-Version", "13"}},
		{"tokens in any case and lists", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: WebSocket\r\nConnection: keep-alive, UPGRADE\r\nSec-WebSocket-Key: " + key +
			"\r\nSec-WebSocket-Version: 13\r\n\r\n", http.StatusSwitchingProtocols, [2]string{"Sec-WebSocket-Accept", acceptFor(key)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nc, err := net.Dial("tcp", srv.Addr())
			require.NoError(t, err)
			defer nc.Close()
			require.NoError(t, nc.SetDeadline(time.Now().Add(safetyTimeout)))
			_, err = io.WriteString(nc, tc.request)
			require.NoError(t, err)
			resp, err := http.ReadResponse(bufioReader(nc), nil)
			require.NoError(t, err)
			require.Equal(t, tc.status, resp.StatusCode, fmt.Sprint(resp.Header))
			if tc.header[0] != "" {
				require.Equal(t, tc.header[1], resp.Header.Get(tc.header[0]))
			}
			if tc.status != http.StatusSwitchingProtocols {
				require.Empty(t, resp.Header.Get("Sec-WebSocket-Accept"))
				require.False(t, strings.EqualFold(resp.Header.Get("Upgrade"), "websocket"))
			}
		})
	}
}
