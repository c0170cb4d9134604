package protocol

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReadAppendLeavesSpareCapacity: like append, ReadAppend writes
// nothing into dst's spare capacity beyond the bytes it appends, whatever
// the messages around (a large one that makes a guess of the next size, a
// short one followed at once by another).
func TestReadAppendLeavesSpareCapacity(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			cl, sv := connPair(t, tr, nil, &Options{ReadLimit: -1})
			// Groups sent together once the reader waits with nothing
			// buffered: a short message right after a long one's guess.
			groups := [][]int{{60 << 10}, {100, 60 << 10}, {60 << 10}, {10, 0, 70 << 10}, {70 << 10}, {5000, 60 << 10, 1}}
			var sizes []int
			for _, g := range groups {
				sizes = append(sizes, g...)
			}
			read := make(chan int, len(sizes))
			go func() {
				i := 0
				for _, g := range groups {
					for _, n := range g {
						_ = cl.Write(bg(), MessageBinary, bytes.Repeat([]byte{byte(i + 1)}, n))
						i++
					}
					for range g {
						<-read
					}
					time.Sleep(10 * time.Millisecond) // the reader waits again; not an assertion
				}
			}()
			const guard = 0xEE
			for i, n := range sizes {
				dst := bytes.Repeat([]byte{guard}, 256<<10)[:7]
				got, err := func() ([]byte, error) { _, b, err := sv.ReadAppend(readCtx(t), dst); return b, err }()
				require.NoError(t, err)
				require.Len(t, got, 7+n, "message %d", i)
				require.Equal(t, bytes.Repeat([]byte{guard}, 7), got[:7], "dst's bytes kept")
				require.Equal(t, bytes.Repeat([]byte{byte(i + 1)}, n), got[7:], "message %d", i)
				spare := got[len(got):cap(got)]
				require.Equal(t, len(spare), bytes.Count(spare, []byte{guard}),
					"message %d of %d bytes: nothing written beyond what was appended", i, n)
				read <- i
			}
		})
	}
}
