package handshake

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"strings"
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
