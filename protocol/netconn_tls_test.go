package protocol_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/protocol"
)

// selfSigned returns a certificate for "tunnel.test" and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		DNSNames:     []string{"tunnel.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// The net.Conn is enough for crypto/tls: a TLS session runs through the
// WebSocket messages, its records cut into messages anywhere, and its
// close_notify and the close handshake end both sides cleanly.
func TestNetConnCarriesTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	cl, sv := loopbackConns(t, nil)
	ctx := testCtx(t)
	server := tls.Server(protocol.NetConn(ctx, sv, protocol.MessageBinary),
		&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
	client := tls.Client(protocol.NetConn(ctx, cl, protocol.MessageBinary),
		&tls.Config{RootCAs: pool, ServerName: "tunnel.test", MinVersion: tls.VersionTLS13})

	echoed := make(chan error, 1)
	go func() {
		_, err := io.Copy(server, server) // until the client's close_notify
		if err == nil {
			err = server.Close()
		}
		echoed <- err
	}()
	msg := make([]byte, 200<<10)
	_, _ = rand.Read(msg)
	var got []byte
	var rerr, werr error
	within(t, "the TLS echo", func() {
		wrote := make(chan error, 1)
		go func() { _, err := client.Write(msg); wrote <- err }()
		got = make([]byte, len(msg))
		_, rerr = io.ReadFull(client, got)
		werr = <-wrote // tls.Conn.Close during a Write skips close_notify
	})
	require.NoError(t, werr)
	require.NoError(t, rerr)
	require.Equal(t, msg, got)
	require.Equal(t, tls.VersionTLS13, int(client.ConnectionState().Version))

	within(t, "closing", func() { require.NoError(t, client.Close()) })
	within(t, "the server's end", func() { rerr = <-echoed })
	require.NoError(t, rerr)
}
