package protocol

import (
	"bufio"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/framing"
)

// NewConn takes over a bufio.Reader that already holds bytes read past the
// opening handshake: the first frames may be in it.
func TestNewConnBufferedReader(t *testing.T) {
	a, b := tcpPair(t)
	raw := &rawPeer{t: t, nc: b, br: bufio.NewReader(b), client: true}
	handshakeTail := "HTTP/1.1 101 Switching Protocols\r\n\r\n"
	raw.write(append(append([]byte(handshakeTail), raw.frame(framing.OpText, true, []byte("early"))...),
		raw.frame(framing.OpBinary, false, []byte("spl"))...))
	br := bufio.NewReaderSize(a, 64)
	// The handshake reads its response, and the reader fills past it.
	for {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		if line == "\r\n" {
			break
		}
	}
	require.Positive(t, br.Buffered(), "frame bytes are already buffered")
	c := NewConn(a, br, &Options{Role: RoleServer, Subprotocol: "chat"})
	defer c.CloseNow()
	require.Equal(t, "chat", c.Subprotocol())
	require.Same(t, a, c.NetConn())
	typ, msg, err := c.Read(readCtx(t))
	require.NoError(t, err)
	require.Equal(t, MessageText, typ)
	require.Equal(t, "early", string(msg))
	raw.send(0, true, []byte("it"))
	typ, msg, err = c.Read(readCtx(t))
	require.NoError(t, err)
	require.Equal(t, MessageBinary, typ)
	require.Equal(t, "split", string(msg))
}

func TestNewConnOptions(t *testing.T) {
	a, b := tcpPair(t)
	_ = b
	require.Panics(t, func() { NewConn(a, nil, nil) })
	require.Panics(t, func() { NewConn(a, nil, &Options{}) })
	require.Panics(t, func() { NewConn(a, nil, &Options{Role: 3}) })
	c := NewConn(a, nil, &Options{Role: RoleClient, ReadBufferSize: 100, WriteBufferSize: 1 << 30})
	defer c.CloseNow()
	require.Equal(t, int64(defaultReadLimit), c.readLimit.Load())
	require.Equal(t, defaultControlTimeout, c.ctrlTimeout)
	require.Equal(t, 100, c.br.Size())
	require.Equal(t, maxPooledPayload, c.writeBufSize)
	require.Equal(t, defaultCloseTimeout, c.closeTimeout)
	require.Equal(t, "client", RoleClient.String())
	require.Equal(t, "server", RoleServer.String())
	require.Equal(t, "text", MessageText.String())
	require.Equal(t, "binary", MessageBinary.String())
}
