package handshake

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDialTLS(t *testing.T) {
	h := newRaw101Handler()
	h.after = []byte{0x81, 0x01, 'x'}
	srv := newRaw101Server(t, h, true)
	addr := srv.Listener.Addr().String()
	_, port, _ := strings.Cut(addr, ":")

	tests := []struct {
		name    string
		url     string
		tls     *tls.Config
		wantErr string
		check   func(t *testing.T, err error)
	}{
		{
			name: "default verification refuses the test certificate", url: "wss://" + addr + "/",
			wantErr: "websocket: tls: handshake with " + addr + ": tls: failed to verify certificate: x509: certificate signed by unknown authority",
			check: func(t *testing.T, err error) {
				var ua x509.UnknownAuthorityError
				require.ErrorAs(t, err, &ua)
			},
		},
		{name: "trusted pool", url: "wss://" + addr + "/", tls: trusting(srv)},
		{name: "https alias", url: "https://" + addr + "/", tls: trusting(srv)},
		{name: "ServerName defaults to the URL host", url: "wss://localhost:" + port + "/", tls: &tls.Config{RootCAs: certPool(srv)}, wantErr: "certificate is valid for"},
		{name: "ServerName override", url: "wss://" + addr + "/", tls: &tls.Config{RootCAs: certPool(srv), ServerName: "example.com"}},
		{name: "wrong ServerName", url: "wss://" + addr + "/", tls: &tls.Config{RootCAs: certPool(srv), ServerName: "wrong.test"}, wantErr: "not wrong.test"},
		{name: "plain ws to a TLS server", url: "ws://" + addr + "/", wantErr: "server answered 400 Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := directOpts()
			opts.TLSConfig = tt.tls
			hc, _, err := dial(testCtx(t), tt.url, opts)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				requireHandshakeError(t, err)
				if tt.check != nil {
					tt.check(t, err)
				}
				return
			}
			require.NoError(t, err)
			defer hc.conn.Close()
			tc, ok := hc.conn.(*tls.Conn)
			require.True(t, ok, "wss must run over TLS")
			require.True(t, tc.ConnectionState().HandshakeComplete)
			got := make([]byte, 3)
			_, err = io.ReadFull(hc.br, got)
			require.NoError(t, err)
			require.Equal(t, h.after, got)
		})
	}
}

// TestDialTLSConfigNotModified: Dial clones the caller's config.
func TestDialTLSConfigNotModified(t *testing.T) {
	srv := newRaw101Server(t, newRaw101Handler(), true)
	cfg := trusting(srv)
	hc, _, err := dial(testCtx(t), "wss://"+srv.Listener.Addr().String()+"/", &DialOptions{TLSConfig: cfg, Proxy: directOpts().Proxy})
	require.NoError(t, err)
	hc.conn.Close()
	require.Empty(t, cfg.ServerName)
	require.Empty(t, cfg.NextProtos)
}

// A TLSConfig offering "h2" (as one shared with an http.Transport does) must
// not let an HTTP/2-capable server select h2 for an HTTP/1.1 upgrade; a
// protocol other than http/1.1 selected by the server fails the dial
// clearly.
func TestDialTLSALPN(t *testing.T) {
	tests := []struct {
		name        string
		serverProto []string // the server's NextProtos; nil: net/http's default with EnableHTTP2 (h2, http/1.1)
		clientProto []string
		wantErr     string
	}{
		{name: "h2 first in the client's list", clientProto: []string{"h2", "http/1.1"}},
		{name: "h2 only in the client's list", clientProto: []string{"h2"}},
		{name: "no list", clientProto: nil},
		{name: "server selects another protocol", serverProto: []string{"acme-tls/1"}, clientProto: []string{"acme-tls/1"}, wantErr: `server selected ALPN protocol "acme-tls/1", not one of ["http/1.1"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wg sync.WaitGroup
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				wg.Add(1)
				defer wg.Done()
				c, err := Upgrade(w, r, nil)
				if err == nil {
					c.CloseNow()
				}
			}))
			srv.EnableHTTP2 = true
			if tt.serverProto != nil {
				srv.TLS = &tls.Config{NextProtos: tt.serverProto}
			}
			startServer(t, srv, true, &wg)
			cfg := trusting(srv)
			cfg.NextProtos = tt.clientProto
			opts := directOpts()
			opts.TLSConfig = cfg
			c, _, err := Dial(testCtx(t), "wss://"+srv.Listener.Addr().String()+"/", opts)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Equal(t, opTLS, requireHandshakeError(t, err).Op)
				return
			}
			require.NoError(t, err)
			c.CloseNow()
			// httptest's h2 server lists only "h2"; Go's TLS server then
			// selects nothing for a client offering only http/1.1.
			require.Contains(t, []string{"", "http/1.1"}, c.NetConn().(*tls.Conn).ConnectionState().NegotiatedProtocol)
			require.Equal(t, tt.clientProto, cfg.NextProtos, "the caller's config is not modified")
		})
	}
}
