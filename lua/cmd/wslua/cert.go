package main

import (
	"crypto/tls"
	"encoding/pem"

	"github.com/wslua/wslua/testserver"
)

// selfSignedCert generates a self-signed certificate for localhost,
// 127.0.0.1, ::1 and the extra host names or addresses given
// (testserver.SelfSignedCert). It is its own CA, so a client trusts it by
// taking its PEM as a CA file. It returns the TLS certificate and the
// certificate in PEM form.
func selfSignedCert(hosts ...string) (tls.Certificate, []byte, error) {
	cert, err := testserver.SelfSignedCert(hosts...)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), nil
}
