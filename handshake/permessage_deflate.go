package handshake

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wslua/wslua/protocol"
)

// Negotiation of permessage-deflate (RFC 7692, section 7). The client
// offers one element built from DialOptions.Compression and fails the
// handshake on any answer it did not ask for; the server accepts the first
// acceptable offer (the client lists them by preference) and declines,
// silently, any offer it cannot take: the connection then goes on without
// compression.

const deflateExtension = "permessage-deflate"

// Parameter names (RFC 7692, 7.1).
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// errCompressionInConn is returned when compression is configured in the
// Conn options instead of the handshake options.
var errCompressionInConn = errors.New("Conn.Compression is set by the handshake; configure compression with the Compression option")

// checkCompressionPolicy validates a handshake's compression options.
func checkCompressionPolicy(policy *protocol.CompressionOptions, conn *protocol.Options) error {
	if conn.Compression != nil {
		return errCompressionInConn
	}
	if policy == nil {
		return nil
	}
	return policy.Validate()
}

// parseWindowBits parses a window bits value: a decimal integer from 8 to
// 15 without leading zeros (RFC 7692, 7.1.2.1).
func parseWindowBits(s string) (int, bool) {
	if len(s) == 0 || len(s) > 2 || s[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 8 || n > 15 {
		return 0, false
	}
	return n, true
}

// clientDeflate is the client side of permessage-deflate: the offer and
// the validation of the server's answer.
type clientDeflate struct {
	policy protocol.CompressionOptions
	agreed *protocol.CompressionOptions // set by accept
}

// name implements clientExtension.
func (d *clientDeflate) name() string { return deflateExtension }

// offer implements clientExtension. client_max_window_bits is always
// offered: any window the server asks for can be honoured.
func (d *clientDeflate) offer() string {
	p := &d.policy
	var b strings.Builder
	b.WriteString(deflateExtension)
	if p.ServerNoContextTakeover {
		b.WriteString("; " + paramServerNoContextTakeover)
	}
	if p.ClientNoContextTakeover {
		b.WriteString("; " + paramClientNoContextTakeover)
	}
	if p.ServerMaxWindowBits != 0 {
		fmt.Fprintf(&b, "; %s=%d", paramServerMaxWindowBits, p.ServerMaxWindowBits)
	}
	b.WriteString("; " + paramClientMaxWindowBits)
	if p.ClientMaxWindowBits != 0 {
		fmt.Fprintf(&b, "=%d", p.ClientMaxWindowBits)
	}
	return b.String()
}

// accept implements clientExtension: the answer may only narrow the offer.
func (d *clientDeflate) accept(params []extensionParam) error {
	p := &d.policy
	a := protocol.CompressionOptions{Level: p.Level, Threshold: p.Threshold}
	seen := map[string]bool{}
	for _, prm := range params {
		name := strings.ToLower(prm.name)
		if seen[name] {
			return fmt.Errorf("parameter %s given twice", sanitize(prm.name, maxPeerText))
		}
		seen[name] = true
		switch name {
		case paramServerNoContextTakeover, paramClientNoContextTakeover:
			if prm.hasValue {
				return fmt.Errorf("parameter %s must not have a value", name)
			}
			if name == paramServerNoContextTakeover {
				a.ServerNoContextTakeover = true
			} else {
				a.ClientNoContextTakeover = true
			}
		case paramServerMaxWindowBits, paramClientMaxWindowBits:
			n, ok := parseWindowBits(prm.value)
			if !prm.hasValue || !ok {
				return fmt.Errorf("parameter %s needs a value from 8 to 15, got %q", name, sanitize(prm.value, maxPeerText))
			}
			limit := p.ServerMaxWindowBits
			if name == paramClientMaxWindowBits {
				limit = p.ClientMaxWindowBits
			}
			if limit != 0 && n > limit {
				return fmt.Errorf("%s=%d exceeds the %d offered", name, n, limit)
			}
			if name == paramServerMaxWindowBits {
				a.ServerMaxWindowBits = n
			} else {
				a.ClientMaxWindowBits = n
			}
		default:
			return fmt.Errorf("unknown parameter %s", sanitize(prm.name, maxPeerText))
		}
	}
	if p.ServerNoContextTakeover && !a.ServerNoContextTakeover {
		return fmt.Errorf("the server did not confirm the %s offered", paramServerNoContextTakeover)
	}
	if p.ServerMaxWindowBits != 0 && a.ServerMaxWindowBits == 0 {
		return fmt.Errorf("the server did not confirm the %s=%d offered", paramServerMaxWindowBits, p.ServerMaxWindowBits)
	}
	// What the client announced holds whatever the answer.
	a.ClientNoContextTakeover = a.ClientNoContextTakeover || p.ClientNoContextTakeover
	if a.ClientMaxWindowBits == 0 {
		a.ClientMaxWindowBits = p.ClientMaxWindowBits
	}
	d.agreed = &a
	return nil
}

// clientExtensions returns the extensions Dial offers.
func clientExtensions(opts *DialOptions) ([]clientExtension, error) {
	if err := checkCompressionPolicy(opts.Compression, &opts.Conn); err != nil {
		return nil, err
	}
	if opts.Compression == nil {
		return nil, nil
	}
	return []clientExtension{&clientDeflate{policy: *opts.Compression}}, nil
}

// agreedCompression returns the permessage-deflate parameters the server
// accepted, or nil.
func agreedCompression(exts []clientExtension) *protocol.CompressionOptions {
	for _, e := range exts {
		if d, ok := e.(*clientDeflate); ok {
			return d.agreed
		}
	}
	return nil
}

// negotiateDeflate is the server side: it answers the first acceptable
// permessage-deflate offer in the request's Sec-WebSocket-Extensions
// values. It returns the response element and the agreement, or "" and
// nil when compression is off or every offer is declined (a malformed
// header declines them all).
func negotiateDeflate(values []string, policy *protocol.CompressionOptions) (string, *protocol.CompressionOptions) {
	if policy == nil {
		return "", nil
	}
	offers, err := parseExtensions(values)
	if err != nil {
		return "", nil
	}
	for _, o := range offers {
		if !strings.EqualFold(o.name, deflateExtension) {
			continue
		}
		if resp, a, ok := acceptDeflateOffer(o.params, policy); ok {
			return resp, a
		}
	}
	return "", nil
}

// acceptDeflateOffer answers one offer, or declines it (ok false) if it
// has an unknown, repeated or invalid parameter.
func acceptDeflateOffer(params []extensionParam, p *protocol.CompressionOptions) (resp string, a *protocol.CompressionOptions, ok bool) {
	var serverNCT, clientNCT, clientBitsOffered bool
	var serverBits, clientBits int
	seen := map[string]bool{}
	for _, prm := range params {
		name := strings.ToLower(prm.name)
		if seen[name] {
			return "", nil, false
		}
		seen[name] = true
		switch name {
		case paramServerNoContextTakeover, paramClientNoContextTakeover:
			if prm.hasValue {
				return "", nil, false
			}
			if name == paramServerNoContextTakeover {
				serverNCT = true
			} else {
				clientNCT = true
			}
		case paramServerMaxWindowBits:
			n, valid := parseWindowBits(prm.value)
			if !prm.hasValue || !valid {
				return "", nil, false
			}
			serverBits = n
		case paramClientMaxWindowBits:
			clientBitsOffered = true
			if prm.hasValue {
				n, valid := parseWindowBits(prm.value)
				if !valid {
					return "", nil, false
				}
				clientBits = n
			}
		default:
			return "", nil, false
		}
	}

	agreed := &protocol.CompressionOptions{
		Level:                   p.Level,
		Threshold:               p.Threshold,
		ServerNoContextTakeover: serverNCT || p.ServerNoContextTakeover,
		ClientNoContextTakeover: clientNCT || p.ClientNoContextTakeover,
	}
	var b strings.Builder
	b.WriteString(deflateExtension)
	if agreed.ServerNoContextTakeover {
		b.WriteString("; " + paramServerNoContextTakeover)
	}
	if agreed.ClientNoContextTakeover {
		b.WriteString("; " + paramClientNoContextTakeover)
	}
	// The server's window: the offer's, narrowed by the policy; it may be
	// announced even if not offered.
	if serverBits != 0 || p.ServerMaxWindowBits != 0 {
		agreed.ServerMaxWindowBits = minBits(serverBits, p.ServerMaxWindowBits)
		fmt.Fprintf(&b, "; %s=%d", paramServerMaxWindowBits, agreed.ServerMaxWindowBits)
	}
	// The client's window: only if the offer names the parameter. A value
	// in the offer binds the client whatever the answer.
	if clientBitsOffered {
		agreed.ClientMaxWindowBits = clientBits
		if p.ClientMaxWindowBits != 0 {
			agreed.ClientMaxWindowBits = minBits(clientBits, p.ClientMaxWindowBits)
			fmt.Fprintf(&b, "; %s=%d", paramClientMaxWindowBits, agreed.ClientMaxWindowBits)
		}
	}
	return b.String(), agreed, true
}

// minBits returns the smaller of two window sizes where 0 means none (15).
func minBits(a, b int) int {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}
