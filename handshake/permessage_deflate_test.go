package handshake

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/protocol"
)

func TestDeflateOffer(t *testing.T) {
	tests := []struct {
		policy protocol.CompressionOptions
		want   string
	}{
		{protocol.CompressionOptions{}, "permessage-deflate; client_max_window_bits"},
		{protocol.CompressionOptions{Level: 9, Threshold: 10}, "permessage-deflate; client_max_window_bits"},
		{protocol.CompressionOptions{ServerNoContextTakeover: true}, "permessage-deflate; server_no_context_takeover; client_max_window_bits"},
		{protocol.CompressionOptions{ClientNoContextTakeover: true}, "permessage-deflate; client_no_context_takeover; client_max_window_bits"},
		{protocol.CompressionOptions{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=10; client_max_window_bits"},
		{protocol.CompressionOptions{ClientMaxWindowBits: 8}, "permessage-deflate; client_max_window_bits=8"},
		{
			protocol.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 15},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=15",
		},
	}
	for _, tt := range tests {
		d := &clientDeflate{policy: tt.policy}
		require.Equal(t, tt.want, d.offer())
		// The offer is valid input for our own server.
		resp, a := negotiateDeflate([]string{d.offer()}, &protocol.CompressionOptions{})
		require.NotEmpty(t, resp, tt.want)
		require.NotNil(t, a)
	}
}

// The client's validation of the server's answer: it may only narrow the
// offer.
func TestDeflateClientAccept(t *testing.T) {
	tests := []struct {
		name    string
		policy  protocol.CompressionOptions
		resp    string
		want    protocol.CompressionOptions
		wantErr string
	}{
		{name: "plain", resp: "permessage-deflate"},
		{name: "level and threshold kept", policy: protocol.CompressionOptions{Level: 6, Threshold: -1}, resp: "permessage-deflate", want: protocol.CompressionOptions{Level: 6, Threshold: -1}},
		{name: "server no takeover unasked", resp: "permessage-deflate; server_no_context_takeover", want: protocol.CompressionOptions{ServerNoContextTakeover: true}},
		{name: "client no takeover imposed", resp: "permessage-deflate; client_no_context_takeover", want: protocol.CompressionOptions{ClientNoContextTakeover: true}},
		{name: "client no takeover announced", policy: protocol.CompressionOptions{ClientNoContextTakeover: true}, resp: "permessage-deflate", want: protocol.CompressionOptions{ClientNoContextTakeover: true}},
		{name: "server window unasked", resp: "permessage-deflate; server_max_window_bits=11", want: protocol.CompressionOptions{ServerMaxWindowBits: 11}},
		{name: "server window narrowed", policy: protocol.CompressionOptions{ServerMaxWindowBits: 12}, resp: "permessage-deflate; server_max_window_bits=9", want: protocol.CompressionOptions{ServerMaxWindowBits: 9}},
		{name: "server window equal", policy: protocol.CompressionOptions{ServerMaxWindowBits: 12}, resp: "permessage-deflate; server_max_window_bits=12", want: protocol.CompressionOptions{ServerMaxWindowBits: 12}},
		{name: "client window asked", resp: "permessage-deflate; client_max_window_bits=8", want: protocol.CompressionOptions{ClientMaxWindowBits: 8}},
		{name: "client window announced", policy: protocol.CompressionOptions{ClientMaxWindowBits: 10}, resp: "permessage-deflate", want: protocol.CompressionOptions{ClientMaxWindowBits: 10}},
		{name: "client window narrowed", policy: protocol.CompressionOptions{ClientMaxWindowBits: 10}, resp: "permessage-deflate; client_max_window_bits=9", want: protocol.CompressionOptions{ClientMaxWindowBits: 9}},
		{name: "quoted value", resp: `permessage-deflate; server_max_window_bits="10"`, want: protocol.CompressionOptions{ServerMaxWindowBits: 10}},
		{name: "case-insensitive names", resp: "PerMessage-Deflate; Server_No_Context_Takeover", want: protocol.CompressionOptions{ServerNoContextTakeover: true}},
		{
			name: "everything", policy: protocol.CompressionOptions{ServerNoContextTakeover: true, ServerMaxWindowBits: 10},
			resp: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=15",
			want: protocol.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 15},
		},

		{name: "unknown parameter", resp: "permessage-deflate; x_fast", wantErr: "unknown parameter x_fast"},
		{name: "repeated parameter", resp: "permessage-deflate; server_no_context_takeover; server_no_context_takeover", wantErr: "given twice"},
		{name: "repeated window", resp: "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", wantErr: "given twice"},
		{name: "value on a flag", resp: "permessage-deflate; client_no_context_takeover=1", wantErr: "must not have a value"},
		{name: "server window without value", resp: "permessage-deflate; server_max_window_bits", wantErr: "needs a value"},
		{name: "client window without value", resp: "permessage-deflate; client_max_window_bits", wantErr: "needs a value"},
		{name: "window 7", resp: "permessage-deflate; server_max_window_bits=7", wantErr: "needs a value from 8 to 15"},
		{name: "window 16", resp: "permessage-deflate; client_max_window_bits=16", wantErr: "needs a value from 8 to 15"},
		{name: "leading zero", resp: "permessage-deflate; server_max_window_bits=09", wantErr: "needs a value"},
		{name: "not a number", resp: "permessage-deflate; server_max_window_bits=ten", wantErr: "needs a value"},
		{name: "server window above the offer", policy: protocol.CompressionOptions{ServerMaxWindowBits: 10}, resp: "permessage-deflate; server_max_window_bits=11", wantErr: "server_max_window_bits=11 exceeds the 10 offered"},
		{name: "client window above the offer", policy: protocol.CompressionOptions{ClientMaxWindowBits: 10}, resp: "permessage-deflate; client_max_window_bits=12", wantErr: "client_max_window_bits=12 exceeds the 10 offered"},
		{name: "requested no takeover ignored", policy: protocol.CompressionOptions{ServerNoContextTakeover: true}, resp: "permessage-deflate", wantErr: "did not confirm the server_no_context_takeover"},
		{name: "requested window ignored", policy: protocol.CompressionOptions{ServerMaxWindowBits: 9}, resp: "permessage-deflate; server_no_context_takeover", wantErr: "did not confirm the server_max_window_bits=9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &clientDeflate{policy: tt.policy}
			h := http.Header{}
			h.Set("Sec-WebSocket-Extensions", tt.resp)
			err := negotiateClientExtensions([]clientExtension{d}, h)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.ErrorContains(t, err, `extension "`)
				require.Nil(t, agreedCompression([]clientExtension{d}))
				return
			}
			require.NoError(t, err)
			require.Equal(t, &tt.want, agreedCompression([]clientExtension{d}))
		})
	}
}

// The server's choice among the client's offers.
func TestNegotiateDeflate(t *testing.T) {
	all := &protocol.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 9}
	tests := []struct {
		name     string
		policy   *protocol.CompressionOptions
		offers   []string
		wantResp string // "" declined
		want     protocol.CompressionOptions
	}{
		{name: "compression off", policy: nil, offers: []string{"permessage-deflate"}},
		{name: "no offer", policy: &protocol.CompressionOptions{}},
		{name: "other extension only", policy: &protocol.CompressionOptions{}, offers: []string{"x-webkit-deflate-frame"}},
		{name: "plain", policy: &protocol.CompressionOptions{}, offers: []string{"permessage-deflate"}, wantResp: "permessage-deflate"},
		{name: "level and threshold", policy: &protocol.CompressionOptions{Level: 3, Threshold: 64}, offers: []string{"permessage-deflate"}, wantResp: "permessage-deflate", want: protocol.CompressionOptions{Level: 3, Threshold: 64}},
		{name: "browser offer", policy: &protocol.CompressionOptions{}, offers: []string{"permessage-deflate; client_max_window_bits"}, wantResp: "permessage-deflate"},
		{
			name: "every parameter offered", policy: &protocol.CompressionOptions{},
			offers:   []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=12"},
			wantResp: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11",
			want:     protocol.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 11, ClientMaxWindowBits: 12},
		},
		{
			name: "policy imposes everything", policy: all, offers: []string{"permessage-deflate; client_max_window_bits"},
			wantResp: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9",
			want:     *all,
		},
		{
			name: "policy narrows the offer", policy: all, offers: []string{"permessage-deflate; server_max_window_bits=12; client_max_window_bits=8"},
			wantResp: "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=8",
			want:     protocol.CompressionOptions{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 8},
		},
		{
			name: "client window cannot be imposed", policy: &protocol.CompressionOptions{ClientMaxWindowBits: 9}, offers: []string{"permessage-deflate"},
			wantResp: "permessage-deflate",
		},
		{
			name: "offer narrower than policy", policy: &protocol.CompressionOptions{ServerMaxWindowBits: 12}, offers: []string{"permessage-deflate; server_max_window_bits=8"},
			wantResp: "permessage-deflate; server_max_window_bits=8", want: protocol.CompressionOptions{ServerMaxWindowBits: 8},
		},
		{
			name: "first valid of several offers in one header", policy: &protocol.CompressionOptions{},
			offers:   []string{"permessage-deflate; server_max_window_bits=7, permessage-deflate; client_no_context_takeover, permessage-deflate"},
			wantResp: "permessage-deflate; client_no_context_takeover", want: protocol.CompressionOptions{ClientNoContextTakeover: true},
		},
		{
			name: "offers over several headers", policy: &protocol.CompressionOptions{},
			offers:   []string{"x-foo, permessage-deflate; bogus", "permessage-deflate; server_max_window_bits=15"},
			wantResp: "permessage-deflate; server_max_window_bits=15", want: protocol.CompressionOptions{ServerMaxWindowBits: 15},
		},
		{name: "unknown parameter", policy: &protocol.CompressionOptions{}, offers: []string{"permessage-deflate; mem_level=9"}},
		{name: "repeated flag", policy: &protocol.CompressionOptions{}, offers: []string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}},
		{name: "repeated window", policy: &protocol.CompressionOptions{}, offers: []string{"permessage-deflate; client_max_window_bits; client_max_window_bits=10"}},
		{name: "flag with value", policy: &protocol.CompressionOptions{}, offers: []string{"permessage-deflate; server_no_context_takeover=yes"}},
		{name: "server window without value", policy: &protocol.CompressionOptions{}, offers: []string{"permessage-deflate; server_max_window_bits"}},
		{name: "window 16", policy: &protocol.CompressionOptions{}, offers: []string{"permessage-deflate; server_max_window_bits=16"}},
		{name: "window 0", policy: &protocol.CompressionOptions{}, offers: []string{"permessage-deflate; client_max_window_bits=0"}},
		{name: "window 08", policy: &protocol.CompressionOptions{}, offers: []string{"permessage-deflate; client_max_window_bits=08"}},
		{name: "malformed header", policy: &protocol.CompressionOptions{}, offers: []string{"permessage-deflate; ;"}},
		{name: "all declined", policy: &protocol.CompressionOptions{}, offers: []string{"permessage-deflate; a, permessage-deflate; b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, a := negotiateDeflate(tt.offers, tt.policy)
			require.Equal(t, tt.wantResp, resp)
			if tt.wantResp == "" {
				require.Nil(t, a)
				return
			}
			require.Equal(t, &tt.want, a)
			// Our client accepts our server's answer, and agrees.
			h := http.Header{}
			h.Set("Sec-WebSocket-Extensions", resp)
			d := &clientDeflate{}
			require.NoError(t, negotiateClientExtensions([]clientExtension{d}, h))
		})
	}
}

// Dial against hand-written answers: an answer that accepts what was not
// offered fails the handshake with a clear reason.
func TestDialCompressionResponses(t *testing.T) {
	const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
	tests := []struct {
		name    string
		policy  *protocol.CompressionOptions
		ext     string
		want    *protocol.CompressionOptions
		wantErr string
	}{
		{name: "accepted", policy: &protocol.CompressionOptions{}, ext: "permessage-deflate", want: &protocol.CompressionOptions{}},
		{name: "declined", policy: &protocol.CompressionOptions{}, ext: "", want: nil},
		{name: "narrowed", policy: &protocol.CompressionOptions{ServerMaxWindowBits: 12}, ext: "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9", want: &protocol.CompressionOptions{ServerMaxWindowBits: 10, ClientMaxWindowBits: 9}},
		{name: "not offered", policy: nil, ext: "permessage-deflate", wantErr: `unrequested extension "permessage-deflate"`},
		{name: "selected twice", policy: &protocol.CompressionOptions{}, ext: "permessage-deflate, permessage-deflate", wantErr: "selected twice"},
		{name: "bad parameter", policy: &protocol.CompressionOptions{}, ext: "permessage-deflate; server_max_window_bits=99", wantErr: `extension "permessage-deflate": parameter server_max_window_bits needs a value from 8 to 15, got "99"`},
		{name: "window beyond the offer", policy: &protocol.CompressionOptions{ClientMaxWindowBits: 9}, ext: "permessage-deflate; client_max_window_bits=10", wantErr: "client_max_window_bits=10 exceeds the 9 offered"},
		{name: "unconfirmed request", policy: &protocol.CompressionOptions{ServerNoContextTakeover: true}, ext: "permessage-deflate", wantErr: "did not confirm"},
		{name: "other extension", policy: &protocol.CompressionOptions{}, ext: "x-webkit-deflate-frame", wantErr: `unrequested extension "x-webkit-deflate-frame"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := head
			if tt.ext != "" {
				resp += "Sec-WebSocket-Extensions: " + tt.ext + "\r\n"
			}
			srv := cannedServer(t, resp+"\r\n")
			c, _, err := Dial(testCtx(t), "ws://"+srv.addr+"/", &DialOptions{Compression: tt.policy})
			req := srv.request(t)
			if tt.policy != nil {
				require.Equal(t, (&clientDeflate{policy: *tt.policy}).offer(), req.Header.Get("Sec-WebSocket-Extensions"))
			} else {
				require.Empty(t, req.Header.Values("Sec-WebSocket-Extensions"))
			}
			if tt.wantErr != "" {
				he := requireHandshakeError(t, err)
				require.Equal(t, "handshake", he.Op)
				require.Contains(t, he.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			defer c.CloseNow()
			require.Equal(t, tt.want, c.Compression())
		})
	}
}

func TestCompressionOptionErrors(t *testing.T) {
	t.Run("dial invalid policy", func(t *testing.T) {
		_, _, err := Dial(testCtx(t), "ws://127.0.0.1:1/", &DialOptions{Compression: &protocol.CompressionOptions{ServerMaxWindowBits: 20}})
		he := requireHandshakeError(t, err)
		require.Equal(t, "dial", he.Op)
		require.Contains(t, he.Reason, "invalid compression options")
	})
	t.Run("dial with Conn.Compression", func(t *testing.T) {
		_, _, err := Dial(testCtx(t), "ws://127.0.0.1:1/", &DialOptions{Conn: protocol.Options{Compression: &protocol.CompressionOptions{}}})
		he := requireHandshakeError(t, err)
		require.Equal(t, "dial", he.Op)
		require.Contains(t, he.Reason, "Conn.Compression is set by the handshake")
	})
	for name, opts := range map[string]*UpgradeOptions{
		"upgrade invalid policy":     {Compression: &protocol.CompressionOptions{Level: 12}},
		"upgrade with Conn.Compress": {Conn: protocol.Options{Compression: &protocol.CompressionOptions{}}},
	} {
		t.Run(name, func(t *testing.T) {
			srv, errs := upgradeServer(t, opts)
			req := validRawRequest(srv.Listener.Addr().String()).add("Sec-WebSocket-Extensions", "permessage-deflate")
			resp, body := roundTrip(t, srv.Listener.Addr().String(), req.String())
			require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
			require.Equal(t, "websocket: internal server error\n", body)
			he := requireHandshakeError(t, <-errs)
			require.Equal(t, "invalid compression options", he.Reason)
		})
	}
}

// What Upgrade answers to offers, seen on the wire.
func TestUpgradeCompressionResponse(t *testing.T) {
	tests := []struct {
		name     string
		policy   *protocol.CompressionOptions
		takeover bool // UpgradeOptions.CompressionContextTakeover
		offers   []string
		want     string
	}{
		{"off", nil, false, []string{"permessage-deflate"}, ""},
		{"accepted, no context takeover by default", &protocol.CompressionOptions{}, false, []string{"permessage-deflate; client_max_window_bits"}, "permessage-deflate; server_no_context_takeover"},
		{"accepted with context takeover", &protocol.CompressionOptions{}, true, []string{"permessage-deflate; client_max_window_bits"}, "permessage-deflate"},
		{"takeover allowed but refused by the policy", &protocol.CompressionOptions{ServerNoContextTakeover: true}, true, []string{"permessage-deflate"}, "permessage-deflate; server_no_context_takeover"},
		{"declined bad offer", &protocol.CompressionOptions{}, false, []string{"permessage-deflate; server_max_window_bits=4"}, ""},
		{"second offer", &protocol.CompressionOptions{}, true, []string{"permessage-deflate; foo", "permessage-deflate; server_no_context_takeover"}, "permessage-deflate; server_no_context_takeover"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, errs := upgradeServer(t, &UpgradeOptions{Compression: tt.policy, CompressionContextTakeover: tt.takeover})
			req := validRawRequest(srv.Listener.Addr().String())
			for _, o := range tt.offers {
				req.add("Sec-WebSocket-Extensions", o)
			}
			resp, _ := roundTrip(t, srv.Listener.Addr().String(), req.String())
			require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			require.Equal(t, tt.want, resp.Header.Get("Sec-WebSocket-Extensions"))
			require.NoError(t, <-errs)
		})
	}
}

// deflateEchoServer upgrades with opts and echoes messages; it reports the
// agreement each connection got.
func deflateEchoServer(t *testing.T, opts *UpgradeOptions) (*httptest.Server, chan *protocol.CompressionOptions) {
	agreed := make(chan *protocol.CompressionOptions, 1)
	var wg sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		c, err := Upgrade(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		agreed <- c.Compression()
		ctx := context.Background()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				return
			}
		}
	}))
	startServer(t, srv, false, &wg)
	return srv, agreed
}

// sideParams is what one side sets of the four parameters.
type sideParams struct{ snct, cnct, sbits, cbits bool }

// Every combination of the four parameters set by the client, the server,
// both or neither: Dial and Upgrade agree on the expected parameters, and
// messages of every kind make the round trip.
func TestCompressionLoopbackCombinations(t *testing.T) {
	// Window sizes each side asks for when it sets the parameter.
	const clientSBits, clientCBits, serverSBits, serverCBits = 11, 10, 9, 12
	text := bytes.Repeat([]byte("compressible text, compressible text; "), 200)
	binary := make([]byte, 5000)
	for i := range binary {
		binary[i] = byte(i * i >> 3)
	}
	msgs := []struct {
		typ protocol.MessageType
		p   []byte
	}{
		{protocol.MessageText, text},
		{protocol.MessageText, text},
		{protocol.MessageBinary, binary},
		{protocol.MessageBinary, []byte{}},
	}
	bits := func(set bool, n int) int {
		if set {
			return n
		}
		return 0
	}
	for mask := 0; mask < 256; mask++ {
		side := func(shift int) sideParams {
			m := mask >> shift
			return sideParams{m&1 != 0, m&2 != 0, m&4 != 0, m&8 != 0}
		}
		cs, ss := side(0), side(4)
		cp := &protocol.CompressionOptions{ServerNoContextTakeover: cs.snct, ClientNoContextTakeover: cs.cnct, ServerMaxWindowBits: bits(cs.sbits, clientSBits), ClientMaxWindowBits: bits(cs.cbits, clientCBits), Threshold: -1}
		sp := &protocol.CompressionOptions{ServerNoContextTakeover: ss.snct, ClientNoContextTakeover: ss.cnct, ServerMaxWindowBits: bits(ss.sbits, serverSBits), ClientMaxWindowBits: bits(ss.cbits, serverCBits), Level: 9}
		t.Run(fmt.Sprintf("client{%s}/server{%s}", cp, sp), func(t *testing.T) {
			srv, agreed := deflateEchoServer(t, &UpgradeOptions{Compression: sp, CompressionContextTakeover: true})
			ctx := testCtx(t)
			c, resp, err := Dial(ctx, wsURL(srv), &DialOptions{Compression: cp})
			require.NoError(t, err)
			defer c.CloseNow()
			require.True(t, strings.HasPrefix(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate"))

			want := protocol.CompressionOptions{
				ServerNoContextTakeover: cs.snct || ss.snct,
				ClientNoContextTakeover: cs.cnct || ss.cnct,
				ServerMaxWindowBits:     minBits(bits(cs.sbits, clientSBits), bits(ss.sbits, serverSBits)),
				ClientMaxWindowBits:     minBits(bits(cs.cbits, clientCBits), bits(ss.cbits, serverCBits)),
			}
			got := c.Compression()
			require.NotNil(t, got)
			require.Equal(t, -1, got.Threshold)
			got.Level, got.Threshold = 0, 0
			require.Equal(t, want, *got, "client agreement")
			sgot := <-agreed
			require.NotNil(t, sgot)
			require.Equal(t, 9, sgot.Level)
			sgot.Level, sgot.Threshold = 0, 0
			require.Equal(t, want, *sgot, "server agreement")

			for _, m := range msgs {
				require.NoError(t, c.Write(ctx, m.typ, m.p))
				typ, got, err := c.Read(ctx)
				require.NoError(t, err)
				require.Equal(t, m.typ, typ)
				require.Equal(t, m.p, got)
			}
			// A fragmented compressed message through a Writer.
			w, err := c.Writer(ctx, protocol.MessageText)
			require.NoError(t, err)
			for i := 0; i < 3; i++ {
				_, err = w.Write(text)
				require.NoError(t, err)
			}
			require.NoError(t, w.Close())
			_, got2, err := c.Read(ctx)
			require.NoError(t, err)
			require.Equal(t, bytes.Repeat(text, 3), got2)
		})
	}
}

// Without compression on either side nothing is offered or selected, and
// a client offering meets a server that declines.
func TestCompressionLoopbackDeclined(t *testing.T) {
	for _, tt := range []struct {
		name           string
		client, server *protocol.CompressionOptions
	}{
		{"neither", nil, nil},
		{"client only", &protocol.CompressionOptions{}, nil},
		{"server only", nil, &protocol.CompressionOptions{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, agreed := deflateEchoServer(t, &UpgradeOptions{Compression: tt.server})
			ctx := testCtx(t)
			c, resp, err := Dial(ctx, wsURL(srv), &DialOptions{Compression: tt.client})
			require.NoError(t, err)
			defer c.CloseNow()
			require.Empty(t, resp.Header.Values("Sec-WebSocket-Extensions"))
			require.Nil(t, c.Compression())
			require.Nil(t, <-agreed)
			require.NoError(t, c.Write(ctx, protocol.MessageText, []byte("plain")))
			_, got, err := c.Read(ctx)
			require.NoError(t, err)
			require.Equal(t, "plain", string(got))
		})
	}
}
