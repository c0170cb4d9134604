package lua

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	glua "github.com/yuin/gopher-lua"
)

// evalOptions evaluates the Lua expression src and parses it as options.
func evalOptions(t *testing.T, src string) (connectOptions, error) {
	t.Helper()
	L := glua.NewState()
	defer L.Close()
	require.NoError(t, L.DoString("return "+src))
	return parseOptions(L, L.Get(-1))
}

func TestParseOptionsValid(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, o connectOptions)
	}{
		{"nil gives defaults", "nil", func(t *testing.T, o connectOptions) {
			require.Equal(t, 45*time.Second, o.DialTimeout, "gorilla's default dialer's handshake timeout")
			require.False(t, o.DialTimeoutSet)
			require.Equal(t, int64(defaultMaxMessageSize), o.MaxMessageSize)
			require.Equal(t, defaultChannelCapacity, o.ChannelCapacity)
			require.Nil(t, o.Header)
			require.Nil(t, o.TLS)
		}},
		{"empty table", "{}", func(t *testing.T, o connectOptions) {
			require.Equal(t, 45*time.Second, o.DialTimeout)
			require.Equal(t, int64(16<<20), o.MaxMessageSize)
		}},
		{"spec example", `{headers = { ["User-Agent"] = "Lua WebSocket Client" }, dial_timeout = "5s",
			read_timeout = "30s", write_timeout = "10s", ping_interval = "15s", pong_timeout = "20s"}`,
			func(t *testing.T, o connectOptions) {
				require.Equal(t, "Lua WebSocket Client", o.Header.Get("User-Agent"))
				require.Equal(t, 5*time.Second, o.DialTimeout)
				require.Equal(t, 30*time.Second, o.ReadTimeout)
				require.Equal(t, 10*time.Second, o.WriteTimeout)
				require.Equal(t, 15*time.Second, o.PingInterval)
				require.Equal(t, 20*time.Second, o.PongTimeout)
			}},
		{"dial_timeout 0 means none", `{dial_timeout = 0}`, func(t *testing.T, o connectOptions) {
			require.Zero(t, o.DialTimeout)
			require.True(t, o.DialTimeoutSet)
		}},
		{"milliseconds", `{dial_timeout = 1500, close_timeout = 0.5, read_timeout = 0}`, func(t *testing.T, o connectOptions) {
			require.Equal(t, 1500*time.Millisecond, o.DialTimeout)
			require.Equal(t, 500*time.Microsecond, o.CloseTimeout)
			require.Zero(t, o.ReadTimeout)
		}},
		{"repeated header and number value", `{headers = { ["x-a"] = {"1", "2"}, ["X-N"] = 7 }}`, func(t *testing.T, o connectOptions) {
			require.Equal(t, []string{"1", "2"}, o.Header.Values("X-A"))
			require.Equal(t, "7", o.Header.Get("X-N"))
		}},
		{"protocols", `{protocols = {"chat", "superchat.v2"}}`, func(t *testing.T, o connectOptions) {
			require.Equal(t, []string{"chat", "superchat.v2"}, o.Protocols)
		}},
		{"limits", `{max_message_size = 1024, channel_capacity = 0}`, func(t *testing.T, o connectOptions) {
			require.Equal(t, int64(1024), o.MaxMessageSize)
			require.Equal(t, 0, o.ChannelCapacity)
		}},
		{"tls", `{tls = {insecure_skip_verify = true, server_name = "example.test", ca_file = "ca.pem",
			cert_file = "c.pem", key_file = "k.pem"}}`, func(t *testing.T, o connectOptions) {
			require.Equal(t, &tlsOptions{InsecureSkipVerify: true, ServerName: "example.test",
				CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem"}, o.TLS)
		}},
		{"proxy", `{proxy = "http://user:pw@127.0.0.1:3128"}`, func(t *testing.T, o connectOptions) {
			require.Equal(t, "127.0.0.1:3128", o.Proxy.Host)
		}},
		{"no proxy", `{proxy = false}`, func(t *testing.T, o connectOptions) {
			require.True(t, o.NoProxy)
			require.Nil(t, o.Proxy)
		}},
		{"origin", `{origin = "http://example.test"}`, func(t *testing.T, o connectOptions) {
			require.Equal(t, http.Header{"Origin": {"http://example.test"}}, o.Header)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := evalOptions(t, tt.src)
			require.NoError(t, err)
			tt.check(t, o)
		})
	}
}

func TestParseOptionsErrors(t *testing.T) {
	tests := []struct {
		src  string
		want string // the error must contain this (it names the option)
	}{
		{`"5s"`, "options must be a table, got string"},
		{`{[1] = true}`, "keys must be strings"},
		{`{dial_timout = "5s"}`, "invalid option dial_timout: unknown option"},
		{`{dial_timeout = -1}`, "invalid option dial_timeout: duration must not be negative"},
		{`{read_timeout = "-5s"}`, "invalid option read_timeout: duration must not be negative"},
		{`{write_timeout = "soon"}`, "invalid option write_timeout: bad duration"},
		{`{ping_interval = "5000"}`, "invalid option ping_interval: bad duration"},
		{`{pong_timeout = true}`, "invalid option pong_timeout: number (milliseconds) or duration string expected, got boolean"},
		{`{close_timeout = 0/0}`, "invalid option close_timeout: duration must be finite"},
		{`{dial_timeout = 1/0}`, "invalid option dial_timeout: duration must be finite"},
		{`{dial_timeout = 1e300}`, "invalid option dial_timeout: duration too large"},
		{`{headers = "x"}`, "invalid option headers: table expected"},
		{`{headers = {["bad name"] = "x"}}`, "invalid option headers: invalid header name"},
		{`{headers = {["X-A"] = "a\r\nb"}}`, "invalid option headers: header X-A: invalid value"},
		{`{headers = {["X-A"] = true}}`, "invalid option headers: header X-A: string expected, got boolean"},
		{`{headers = {["X-A"] = {}}}`, "invalid option headers: header X-A: empty list"},
		{`{headers = {["X-A"] = {"a", {}}}}`, "invalid option headers: header X-A: string expected, got table"},
		{`{headers = {["sec-websocket-key"] = "x"}}`, "invalid option headers: header Sec-Websocket-Key is set by the opening handshake"},
		{`{headers = {[1] = "x"}}`, "invalid option headers: keys must be strings"},
		{`{protocols = "chat"}`, "invalid option protocols: array of strings expected"},
		{`{protocols = {a = "chat"}}`, "invalid option protocols: array expected"},
		{`{protocols = {"a b"}}`, "invalid option protocols: invalid subprotocol name"},
		{`{protocols = {"a", "a"}}`, "invalid option protocols: duplicate subprotocol"},
		{`{protocols = {1}}`, "invalid option protocols: string expected, got number"},
		{`{max_message_size = 0}`, "invalid option max_message_size: must be between"},
		{`{max_message_size = 1.5}`, "invalid option max_message_size: integer expected"},
		{`{max_message_size = "1"}`, "invalid option max_message_size: integer expected, got string"},
		{`{channel_capacity = -1}`, "invalid option channel_capacity: must be between"},
		{`{channel_capacity = 1e9}`, "invalid option channel_capacity: must be between"},
		{`{tls = true}`, "invalid option tls: table expected"},
		{`{tls = {insecure_skip_verify = "yes"}}`, "invalid option tls.insecure_skip_verify: boolean expected"},
		{`{tls = {ca_file = 1}}`, "invalid option tls.ca_file: non-empty string expected"},
		{`{tls = {server_name = ""}}`, "invalid option tls.server_name: non-empty string expected"},
		{`{tls = {verify = false}}`, "invalid option tls.verify: unknown option"},
		{`{tls = {cert_file = "c.pem"}}`, "invalid option tls: cert_file and key_file must be given together"},
		{`{proxy = 1}`, "invalid option proxy: URL string or false expected"},
		{`{proxy = true}`, "invalid option proxy: URL string or false expected, got boolean"},
		{`{proxy = "ftp://x"}`, "invalid option proxy: scheme must be http, https, socks5 or socks5h"},
		{`{proxy = "http://"}`, "invalid option proxy: URL has no host"},
		{`{proxy = "http://a b:pw@x/%zz"}`, "invalid option proxy: bad URL"},
		{`{origin = 5}`, "invalid option origin: string expected"},
		{`{origin = ""}`, "invalid option origin: invalid header value"},
		{`{origin = "http://a", headers = {Origin = "http://b"}}`, "invalid option origin: conflicts with headers.Origin"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := evalOptions(t, tt.src)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestParseOptionsFirstErrorIsStable checks that with several bad options the
// reported one does not depend on table iteration order.
func TestParseOptionsFirstErrorIsStable(t *testing.T) {
	for range 20 {
		_, err := evalOptions(t, `{zzz = 1, aaa = 2, dial_timeout = -1, read_timeout = -1}`)
		require.EqualError(t, err, "invalid option dial_timeout: duration must not be negative, got -1")
		_, err = evalOptions(t, `{zzz = 1, aaa = 2}`)
		require.EqualError(t, err, "invalid option aaa: unknown option")
	}
}

func TestParseOptionsNoSecretInProxyError(t *testing.T) {
	_, err := evalOptions(t, `{proxy = "http://user:s3cret@x/%zz"}`)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret")
}

// FuzzParseOptions feeds arbitrary Lua option tables: parseOptions must
// never panic, and a success must give sane values.
func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{
		`{}`, `{dial_timeout = "5s"}`, `{headers = {a = "b"}}`, `{protocols = {"x"}}`,
		`{tls = {insecure_skip_verify = true}}`, `{channel_capacity = 3}`, `{proxy = "http://h"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		L := glua.NewState(glua.Options{SkipOpenLibs: true})
		defer L.Close()
		fn, err := L.LoadString("return " + src)
		if err != nil {
			return
		}
		L.Push(fn)
		if L.PCall(0, 1, nil) != nil {
			return
		}
		o, err := parseOptions(L, L.Get(-1))
		if err != nil {
			return
		}
		if o.MaxMessageSize <= 0 || o.ChannelCapacity < 0 || o.ChannelCapacity > maxChannelCapacity ||
			o.DialTimeout < 0 || o.ReadTimeout < 0 || o.WriteTimeout < 0 || o.PingInterval < 0 ||
			o.PongTimeout < 0 || o.CloseTimeout < 0 {
			t.Fatalf("bad options accepted: %+v", o)
		}
	})
}
