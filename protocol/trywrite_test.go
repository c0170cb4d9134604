package protocol

import (
	"bytes"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTryWrite(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("TryWrite always declines on this platform")
	}
	for _, role := range []Role{RoleClient, RoleServer} {
		t.Run(role.String(), func(t *testing.T) {
			cl, sv := connPair(t, "tcp", nil, nil)
			w, r := cl, sv
			if role == RoleServer {
				w, r = sv, cl
			}
			for _, size := range []int{0, 16, 125, 126, 4000, 64 << 10} {
				p := pattern(size, byte(size))
				sent, err := w.TryWrite(MessageBinary, p)
				require.NoError(t, err)
				require.True(t, sent, "size %d on an idle connection", size)
				typ, got, err := r.Read(readCtx(t))
				require.NoError(t, err)
				require.Equal(t, MessageBinary, typ)
				require.True(t, bytes.Equal(p, got), "size %d", size)
			}
			sent, err := w.TryWrite(MessageText, []byte("héllo"))
			require.True(t, sent)
			require.NoError(t, err)
			typ, got, err := r.Read(readCtx(t))
			require.NoError(t, err)
			require.Equal(t, MessageText, typ)
			require.Equal(t, "héllo", string(got))
		})
	}
}

// TryWrite declines, sending nothing, whenever sending would wait or is
// not its kind of write; errors are those Write reports at once.
func TestTryWriteDeclines(t *testing.T) {
	t.Run("a Writer's message is under way", func(t *testing.T) {
		cl, sv := connPair(t, "tcp", nil, nil)
		mw, err := cl.Writer(bg(), MessageText)
		require.NoError(t, err)
		sent, err := cl.TryWrite(MessageText, []byte("later"))
		require.NoError(t, err)
		require.False(t, sent)
		_, _ = mw.Write([]byte("first"))
		require.NoError(t, mw.Close())
		sent, err = cl.TryWrite(MessageText, []byte("second"))
		require.NoError(t, err)
		require.True(t, sent)
		for _, want := range []string{"first", "second"} {
			_, got, err := sv.Read(readCtx(t))
			require.NoError(t, err)
			require.Equal(t, want, string(got))
		}
	})
	t.Run("no raw socket", func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		c := NewConn(a, nil, &Options{Role: RoleClient})
		defer c.CloseNow()
		sent, err := c.TryWrite(MessageBinary, []byte("x"))
		require.NoError(t, err)
		require.False(t, sent)
	})
	t.Run("too large", func(t *testing.T) {
		cl, _ := connPair(t, "tcp", nil, nil)
		sent, err := cl.TryWrite(MessageBinary, make([]byte, maxTryWrite+1))
		require.NoError(t, err)
		require.False(t, sent)
	})
	t.Run("compression", func(t *testing.T) {
		cl, _ := connPair(t, "tcp", &Options{Compression: &CompressionOptions{}}, nil)
		if cl.pmd == nil {
			t.Skip("compression needs negotiation here")
		}
		sent, err := cl.TryWrite(MessageBinary, []byte("x"))
		require.NoError(t, err)
		require.False(t, sent)
	})
	t.Run("errors", func(t *testing.T) {
		cl, _ := connPair(t, "tcp", nil, nil)
		_, err := cl.TryWrite(MessageType(9), []byte("x"))
		require.Error(t, err)
		require.NoError(t, cl.CloseNow())
		sent, err := cl.TryWrite(MessageText, []byte("x"))
		require.False(t, sent)
		require.ErrorIs(t, err, ErrClosed)
	})
}

// With a peer that does not read, TryWrite fills the socket and then
// declines instead of blocking; a frame the socket took only in part is
// finished in the background, so every message reported sent arrives,
// whole and in order, once the peer reads, and Write goes on after them.
func TestTryWriteFullSocket(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("TryWrite always declines on this platform")
	}
	cl, sv := connPair(t, "tcp", nil, &Options{ReadLimit: -1})
	p := pattern(3000, 7)
	sentCount := 0
	for {
		p[0] = byte(sentCount)
		sent, err := cl.TryWrite(MessageBinary, p)
		require.NoError(t, err)
		if !sent {
			break
		}
		sentCount++
		require.Less(t, sentCount, 1<<20/len(p)*64, "the socket never filled")
	}
	require.Positive(t, sentCount)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p[0] = 0xEE
		// Waits for the background remainder, if any, then goes out.
		if err := cl.Write(bg(), MessageBinary, p); err != nil {
			panic(fmt.Sprint("Write after TryWrite declined: ", err))
		}
	}()
	for i := 0; i <= sentCount; i++ {
		_, got, err := sv.Read(readCtx(t))
		require.NoError(t, err, "message %d of %d", i, sentCount)
		want := byte(i)
		if i == sentCount {
			want = 0xEE
		}
		require.Len(t, got, len(p))
		require.Equal(t, want, got[0], "message %d out of order", i)
		require.True(t, bytes.Equal(p[1:], got[1:]), "message %d", i)
	}
	waitGroup(t, "the goroutines", &wg)
}

// TryWrite and Write from several goroutines never interleave frames.
func TestTryWriteConcurrent(t *testing.T) {
	cl, sv := connPair(t, "tcp", nil, &Options{ReadLimit: -1})
	const each = 200
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := bytes.Repeat([]byte{byte('a' + g)}, 100+g*700)
			for range each {
				if g%2 == 0 {
					if sent, err := cl.TryWrite(MessageBinary, msg); err == nil && sent {
						continue
					}
				}
				if err := cl.Write(bg(), MessageBinary, msg); err != nil {
					panic(err)
				}
			}
		}()
	}
	for range 4 * each {
		_, got, err := sv.Read(readCtx(t))
		require.NoError(t, err)
		require.NotEmpty(t, got)
		require.Equal(t, bytes.Repeat(got[:1], len(got)), got, "frames interleaved")
	}
	waitGroup(t, "the goroutines", &wg)
}
