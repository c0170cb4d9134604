package lua

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TLSOptions.Config is the tls option's configuration, with its errors.
func TestTLSOptionsConfig(t *testing.T) {
	cfg, err := TLSOptions{InsecureSkipVerify: true, ServerName: "example.com"}.Config()
	require.NoError(t, err)
	require.True(t, cfg.InsecureSkipVerify)
	require.Equal(t, "example.com", cfg.ServerName)
	_, err = TLSOptions{CAFile: "/no/such/ca.pem"}.Config()
	require.ErrorContains(t, err, "tls.ca_file: open /no/such/ca.pem")
}
