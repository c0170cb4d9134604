package clients

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name      string
		got, sent string
		full      bool
		ok        bool
	}{
		{"equal", "abcdef", "abcdef", false, true},
		{"equal-full", "abcdef", "abcdef", true, true},
		{"empty", "", "", true, true},
		{"shorter", "abcde", "abcdef", false, false},
		{"first-byte", "xbcdef", "abcdef", false, false},
		{"last-byte", "abcdex", "abcdef", false, false},
		{"middle-byte-quick", "abxdef", "abcdef", false, true},
		{"middle-byte-full", "abxdef", "abcdef", true, false},
	}
	defer func(v bool) { FullCheck = v }(FullCheck)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			FullCheck = tc.full
			err := check([]byte(tc.got), []byte(tc.sent))
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, errEcho)
			}
		})
	}
}

func TestCheckStreamCount(t *testing.T) {
	for _, n := range []int{0, 16, 32, 1600} {
		require.NoError(t, checkStreamCount(n), n)
	}
	for _, n := range []int{-16, 1, 15, 17} {
		require.ErrorIs(t, checkStreamCount(n), errStream, n)
	}
	require.NoError(t, checkAck([]byte("ack")))
	require.ErrorIs(t, checkAck([]byte("ac")), errStream)
}
