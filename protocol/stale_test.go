package protocol

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStaleWriter: a Writer used after its Close returns an error, even
// once the next message's Writer is open, and writes nothing into it.
func TestStaleWriter(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "compressed"}[compressed], func(t *testing.T) {
			copts, sopts := &Options{}, &Options{}
			if compressed {
				copts.Compression, sopts.Compression = &CompressionOptions{}, &CompressionOptions{}
			}
			cl, sv := connPair(t, "tcp", copts, sopts)
			w1, err := cl.Writer(bg(), MessageText)
			require.NoError(t, err)
			_, err = w1.Write([]byte("one"))
			require.NoError(t, err)
			require.NoError(t, w1.Close())
			w2, err := cl.Writer(bg(), MessageText)
			require.NoError(t, err)
			_, err = w1.Write([]byte("STALE"))
			require.ErrorIs(t, err, errWriterClosed, "a Write on the previous message's Writer")
			require.ErrorIs(t, w1.Close(), errWriterClosed)
			_, err = w2.Write([]byte("two"))
			require.NoError(t, err)
			require.NoError(t, w2.Close())
			for _, want := range []string{"one", "two"} {
				_, p, err := sv.Read(bg())
				require.NoError(t, err)
				require.Equal(t, want, string(p))
			}
		})
	}
}

// TestStaleReader: a Reader used after the next message was asked for
// returns an error and never bytes of the later message.
func TestStaleReader(t *testing.T) {
	cl, sv := connPair(t, "tcp", nil, nil)
	for _, m := range []string{"one", "two", "three"} {
		require.NoError(t, cl.Write(bg(), MessageText, []byte(m)))
	}
	_, r1, err := sv.Reader(bg())
	require.NoError(t, err)
	b, err := io.ReadAll(r1)
	require.NoError(t, err)
	require.Equal(t, "one", string(b))
	_, r2, err := sv.Reader(bg())
	require.NoError(t, err)
	_, err = r1.Read(make([]byte, 10))
	require.ErrorIs(t, err, errStaleReader, "the previous message's reader")
	b, err = io.ReadAll(r2)
	require.NoError(t, err)
	require.Equal(t, "two", string(b), "the stale read took nothing from it")
	_, p, err := sv.Read(bg())
	require.NoError(t, err)
	require.Equal(t, "three", string(p))
	_, err = r2.Read(make([]byte, 10))
	require.ErrorIs(t, err, errStaleReader, "a reader after a Read")
}
