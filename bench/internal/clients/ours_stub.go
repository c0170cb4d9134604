//go:build wsbench_noours

package clients

import "errors"

// dialOurs stands in for the wslua client when the bench is built with the
// wsbench_noours tag (while the main module does not compile).
func dialOurs(string) (Client, error) {
	return nil, errors.New("clients: built with wsbench_noours")
}
