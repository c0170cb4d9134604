package protocol_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslua/wslua/protocol"
)

type jsonPoint struct {
	X, Y int
	Tag  string `json:"tag,omitempty"`
}

// WriteJSON sends one text message holding the encoding and a newline;
// ReadJSON decodes it, from text or binary messages, however large.
func TestJSONRoundTrip(t *testing.T) {
	cl, sv := loopbackConns(t, nil)
	ctx := testCtx(t)

	want := jsonPoint{X: 1, Y: -2, Tag: "héllo <&>"}
	require.NoError(t, protocol.WriteJSON(ctx, cl, want))
	typ, p, err := sv.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, protocol.MessageText, typ)
	enc, err := json.Marshal(want)
	require.NoError(t, err)
	require.Equal(t, string(enc)+"\n", string(p), "exactly one message")

	big := make([]jsonPoint, 20000) // about 400 KB: many frames of a Writer, many reads
	for i := range big {
		big[i] = jsonPoint{X: i, Y: i * i}
	}
	require.NoError(t, protocol.WriteJSON(ctx, cl, big))
	var got []jsonPoint
	require.NoError(t, protocol.ReadJSON(ctx, sv, &got))
	require.Equal(t, big, got)

	require.NoError(t, sv.Write(ctx, protocol.MessageBinary, []byte(` {"X":3,"Y":4} `)))
	var pt jsonPoint
	require.NoError(t, protocol.ReadJSON(ctx, cl, &pt))
	require.Equal(t, jsonPoint{X: 3, Y: 4}, pt)
}

// A message that is not one JSON value fitting v is an ErrInvalidJSON
// error that leaves the connection usable: the next message is read.
func TestReadJSONInvalid(t *testing.T) {
	cases := []struct {
		name, msg string
		syntax    bool // unwraps to a *json.SyntaxError
	}{
		{"empty", "", false},
		{"blank", " \n\t ", false},
		{"truncated", `{"X":1`, false},
		{"not JSON", "nope", true},
		{"trailing garbage", `{"X":1} x`, false},
		{"two values", `1 2`, false},
		{"wrong type", `{"X":"one"}`, false},
		{"garbage after a long string", `"` + strings.Repeat("a", 100<<10) + `" ]`, false},
	}
	cl, sv := loopbackConns(t, nil)
	ctx := testCtx(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, sv.Write(ctx, protocol.MessageText, []byte(tc.msg)))
			require.NoError(t, sv.Write(ctx, protocol.MessageText, []byte(`{"X":7}`)))
			var v jsonPoint
			err := protocol.ReadJSON(ctx, cl, &v)
			require.ErrorIs(t, err, protocol.ErrInvalidJSON)
			require.NotErrorIs(t, err, protocol.ErrClosed)
			if tc.syntax {
				var se *json.SyntaxError
				require.ErrorAs(t, err, &se)
			}
			v = jsonPoint{}
			require.NoError(t, protocol.ReadJSON(ctx, cl, &v), "the next message")
			require.Equal(t, jsonPoint{X: 7}, v)
		})
	}
	t.Run("not a pointer", func(t *testing.T) {
		require.NoError(t, sv.Write(ctx, protocol.MessageText, []byte(`{"X":1}`)))
		err := protocol.ReadJSON(ctx, cl, jsonPoint{})
		var iu *json.InvalidUnmarshalError
		require.ErrorAs(t, err, &iu)
		require.NotErrorIs(t, err, protocol.ErrInvalidJSON)
	})
}

// Errors of the connection come back as such, not as bad JSON: invalid
// UTF-8 in a text message fails the connection (1007) even though the
// decoder stopped before it, and a closed connection gives its CloseError.
func TestReadJSONConnectionErrors(t *testing.T) {
	ctx := testCtx(t)
	var n int
	for _, msg := range []string{"1 \xff", "nope" + strings.Repeat(" ", 100<<10) + "\xff"} {
		cl, sv := loopbackConns(t, nil)
		require.NoError(t, sv.Write(ctx, protocol.MessageText, []byte(msg)))
		err := protocol.ReadJSON(ctx, cl, &n)
		require.NotErrorIs(t, err, protocol.ErrInvalidJSON)
		require.Equal(t, protocol.StatusInvalidFramePayloadData, protocol.CloseStatus(err), "%v", err)
	}

	cl, sv := loopbackConns(t, nil)
	go func() { _ = sv.Close(protocol.StatusNormalClosure, "") }()
	err := protocol.ReadJSON(ctx, cl, &n)
	require.Equal(t, protocol.StatusNormalClosure, protocol.CloseStatus(err))
	require.ErrorIs(t, protocol.WriteJSON(ctx, cl, 1), protocol.ErrClosed)
}

// A value encoding/json refuses sends nothing: the peer's next message is
// the next value written.
func TestWriteJSONUnencodable(t *testing.T) {
	cl, sv := loopbackConns(t, nil)
	ctx := testCtx(t)
	var ue *json.UnsupportedTypeError
	require.ErrorAs(t, protocol.WriteJSON(ctx, cl, map[string]any{"c": make(chan int)}), &ue)
	require.NoError(t, protocol.WriteJSON(ctx, cl, "next"))
	var s string
	require.NoError(t, protocol.ReadJSON(ctx, sv, &s))
	require.Equal(t, "next", s)
}
