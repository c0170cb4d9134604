package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"slices"
	"testing"
)

// fuzzKey is the Sec-WebSocket-Key the fuzzed responses answer; the seeds use
// its accept value s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.
const fuzzKey = "dGhlIHNhbXBsZSBub25jZQ=="

// FuzzReadResponse feeds arbitrary bytes to the client's response reader and
// validator. It must not panic, must read at most the head limit plus one
// body excerpt, and must keep its promises about what it returns.
func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi"))
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate; a=\"b\"\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope"))
	f.Add([]byte("HTTP/1.1 302 Found\r\nLocation: /x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &countingReader{r: bytes.NewReader(data)}
		lim := &headLimiter{r: src, n: maxResponseHead}
		br := bufio.NewReader(lim)
		check := &responseCheck{key: fuzzKey, subprotocols: []string{"chat", "superchat"}}
		resp, sub, err := readResponse(br, lim, check, nil)

		if src.n > maxResponseHead {
			t.Fatalf("read %d bytes, more than the %d-byte limit", src.n, maxResponseHead)
		}
		if err == nil {
			if resp == nil || resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("success without a 101 response: %+v", resp)
			}
			if sub != "" && !slices.Contains(check.subprotocols, sub) {
				t.Fatalf("accepted unrequested subprotocol %q", sub)
			}
			if resp.Header.Get("Sec-WebSocket-Extensions") != "" {
				if exts, perr := parseExtensions(resp.Header.Values("Sec-WebSocket-Extensions")); perr != nil || len(exts) > 0 {
					t.Fatalf("accepted an extension: %q", resp.Header.Values("Sec-WebSocket-Extensions"))
				}
			}
			return
		}
		if sub != "" {
			t.Fatalf("subprotocol %q returned with error %v", sub, err)
		}
		var he *HandshakeError
		if !errors.As(err, &he) {
			t.Fatalf("error %T is not a *HandshakeError: %v", err, err)
		}
		if len(he.Body) > maxBodyExcerpt {
			t.Fatalf("body excerpt of %d bytes", len(he.Body))
		}
		if msg := he.Error(); len(msg) > 4096 {
			t.Fatalf("error message of %d bytes", len(msg))
		}
		if he.StatusCode != 0 && (resp == nil || resp.StatusCode != he.StatusCode) {
			t.Fatalf("status %d in the error but response %+v", he.StatusCode, resp)
		}
	})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r *bytes.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
