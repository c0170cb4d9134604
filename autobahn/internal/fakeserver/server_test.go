package fakeserver

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/wslua/wslua/handshake"
	"github.com/wslua/wslua/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// echoer is a hand-written client of one case; mangle may change each
// message before it is sent back.
type echoer struct {
	mangle   func(typ protocol.MessageType, p []byte) (protocol.MessageType, []byte)
	dropLast bool // do not echo the last message of the case... and drop the connection
}

// runCase runs case n for agent against s with e's behaviour.
func (e echoer) runCase(t *testing.T, s *Server, n int, agent string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u := s.URL() + "/runCase?case=" + strconv.Itoa(n) + "&agent=" + url.QueryEscape(agent)
	conn, _, err := handshake.Dial(ctx, u, &handshake.DialOptions{Conn: protocol.Options{ReadLimit: 64 << 20}})
	require.NoError(t, err)
	defer conn.CloseNow()
	for {
		typ, p, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if e.dropLast {
			return // CloseNow: no echo, no close frame
		}
		if e.mangle != nil {
			typ, p = e.mangle(typ, p)
		}
		if err := conn.Write(ctx, typ, p); err != nil {
			return
		}
	}
}

func TestFakeJudgesEchoes(t *testing.T) {
	tests := []struct {
		name    string
		client  echoer
		fail    bool   // every case must fail
		wantErr string // and its error must contain this
	}{
		{name: "faithful echo", client: echoer{}},
		{
			name: "payload changed",
			client: echoer{mangle: func(typ protocol.MessageType, p []byte) (protocol.MessageType, []byte) {
				return typ, append(append([]byte{}, p...), '!')
			}},
			fail:    true,
			wantErr: "differs",
		},
		{
			name: "type changed",
			client: echoer{mangle: func(typ protocol.MessageType, p []byte) (protocol.MessageType, []byte) {
				return protocol.MessageBinary, p
			}},
			fail:    true,
			wantErr: "came back as binary",
		},
		{name: "no echo", client: echoer{dropLast: true}, fail: true}, // the error depends on timing
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(nil)
			t.Cleanup(s.Close)
			for n := range len(DefaultCases()) {
				tt.client.runCase(t, s, n+1, "tester")
			}
			s.Close()
			results := s.Results()
			require.Len(t, results, len(DefaultCases()))
			for i, r := range results {
				require.Equal(t, i+1, r.Case)
				require.Equal(t, "tester", r.Agent)
				if !tt.fail {
					require.True(t, r.OK(), "case %d: %v", r.Case, r.Err)
					continue
				}
				if tt.name == "type changed" && r.Case == 2 {
					// Binary messages only: changing text to binary is
					// invisible there.
					continue
				}
				require.False(t, r.OK(), "case %d must fail", r.Case)
				require.ErrorContains(t, r.Err, tt.wantErr, "case %d", r.Case) // "" matches any error
			}
			require.Empty(t, s.BadRequests())
		})
	}
}

func TestFakeProtocolEndpoints(t *testing.T) {
	s := New(nil)
	t.Cleanup(s.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	conn, _, err := handshake.Dial(ctx, s.URL()+"/getCaseCount", nil)
	require.NoError(t, err)
	typ, p, err := conn.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, protocol.MessageText, typ)
	require.Equal(t, "7", string(p))
	_, _, err = conn.Read(ctx)
	require.Equal(t, protocol.StatusNormalClosure, protocol.CloseStatus(err))
	_ = conn.CloseNow()

	conn, _, err = handshake.Dial(ctx, s.URL()+"/updateReports?agent=a%20b", nil)
	require.NoError(t, err)
	_, _, err = conn.Read(ctx)
	require.Equal(t, protocol.StatusNormalClosure, protocol.CloseStatus(err))
	_ = conn.CloseNow()

	for _, bad := range []string{"/runCase?case=8&agent=x", "/runCase?case=0&agent=x", "/runCase?case=1", "/updateReports", "/other"} {
		_, _, err := handshake.Dial(ctx, s.URL()+bad, nil)
		require.Error(t, err, bad)
	}
	s.Close()
	require.Equal(t, []string{"a b"}, s.Updates())
	require.Equal(t, 1, s.CountCalls())
	require.Len(t, s.BadRequests(), 5)
	require.Empty(t, s.Results())
}
