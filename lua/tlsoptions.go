package lua

import "crypto/tls"

// TLSOptions are the fields of websocket.connect's tls option, for Go
// programs that dial as the module does (the wslua command's connect).
type TLSOptions struct {
	InsecureSkipVerify bool
	CAFile             string
	ServerName         string
	CertFile           string
	KeyFile            string
}

// Config reads the files named and returns the tls.Config websocket.connect
// uses for these options, or the error it reports (which websocket.connect
// prefixes with "websocket: "). CertFile and KeyFile go together.
func (o TLSOptions) Config() (*tls.Config, error) {
	t := tlsOptions(o)
	return t.config()
}
