package handshake

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseExtensions(t *testing.T) {
	tests := []struct {
		name    string
		values  []string
		want    []extension
		wantErr bool
	}{
		{name: "none", values: nil, want: nil},
		{name: "empty elements", values: []string{" , ,"}, want: nil},
		{name: "plain", values: []string{"permessage-deflate"}, want: []extension{{name: "permessage-deflate"}}},
		{
			name:   "params",
			values: []string{`permessage-deflate; client_max_window_bits; server_max_window_bits=10`},
			want: []extension{{name: "permessage-deflate", params: []extensionParam{
				{name: "client_max_window_bits"},
				{name: "server_max_window_bits", value: "10", hasValue: true},
			}}},
		},
		{
			name:   "quoted and list over two lines",
			values: []string{`foo;a="x\"y" , bar`, "baz ;b = 2"},
			want: []extension{
				{name: "foo", params: []extensionParam{{name: "a", value: `x"y`, hasValue: true}}},
				{name: "bar"},
				{name: "baz", params: []extensionParam{{name: "b", value: "2", hasValue: true}}},
			},
		},
		{name: "missing name", values: []string{"; a=1"}, wantErr: true},
		{name: "missing param name", values: []string{"foo; =1"}, wantErr: true},
		{name: "missing value", values: []string{"foo; a="}, wantErr: true},
		{name: "unterminated quote", values: []string{`foo; a="x`}, wantErr: true},
		{name: "dangling escape", values: []string{`foo; a="x\`}, wantErr: true},
		{name: "junk after name", values: []string{"foo bar"}, wantErr: true},
		{name: "non-ASCII", values: []string{"fo\xc3\xa9"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseExtensions(tt.values)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// fakeExtension is a clientExtension for testing the negotiation plumbing.
type fakeExtension struct {
	ext      string
	rejectOn string // parameter name accept refuses
	got      []extensionParam
}

func (f *fakeExtension) name() string  { return f.ext }
func (f *fakeExtension) offer() string { return f.ext }
func (f *fakeExtension) accept(params []extensionParam) error {
	f.got = params
	for _, p := range params {
		if p.name == f.rejectOn {
			return errMalformedExtensions
		}
	}
	return nil
}

func TestNegotiateClientExtensions(t *testing.T) {
	tests := []struct {
		name    string
		offered []string
		header  []string
		wantErr string
	}{
		{name: "nothing either side"},
		{name: "unrequested", header: []string{"permessage-deflate"}, wantErr: `unrequested extension "permessage-deflate"`},
		{name: "accepted", offered: []string{"x-test"}, header: []string{"X-Test; a=1"}},
		{name: "rejected params", offered: []string{"x-test"}, header: []string{"x-test; bad"}, wantErr: `extension "x-test"`},
		{name: "twice", offered: []string{"x-test"}, header: []string{"x-test, x-test"}, wantErr: "selected twice"},
		{name: "malformed", offered: []string{"x-test"}, header: []string{"x-test;"}, wantErr: "malformed"},
		{name: "offered but not selected", offered: []string{"x-test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var offered []clientExtension
			for _, o := range tt.offered {
				offered = append(offered, &fakeExtension{ext: o, rejectOn: "bad"})
			}
			h := http.Header{}
			for _, v := range tt.header {
				h.Add("Sec-WebSocket-Extensions", v)
			}
			err := negotiateClientExtensions(offered, h)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
		})
	}
}
