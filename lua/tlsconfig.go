package lua

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
)

// maxPEMFileSize bounds the files named by the tls option.
const maxPEMFileSize = 4 << 20

// config builds the tls.Config of the tls option. It reads files, so it runs
// off the VM goroutine (in the dial work function).
func (t *tlsOptions) config() (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // explicitly requested by the script
	}
	if t.CAFile != "" {
		pem, err := readPEMFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: no PEM certificate found in %s", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		certPEM, err := readPEMFile(t.CertFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file: %w", err)
		}
		keyPEM, err := readPEMFile(t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.key_file: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// readPEMFile reads a file of at most maxPEMFileSize bytes.
func readPEMFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPEMFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPEMFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, maxPEMFileSize)
	}
	return b, nil
}
