package protocol

import (
	"context"
	"io"
)

// CloseRead is for a Conn that only writes (a server pushing updates, say):
// it starts a goroutine that reads the Conn and discards every data
// message, so that pings are answered, pongs noticed and the peer's close
// frame seen and answered. It returns a context carrying ctx's values that
// is cancelled once that goroutine has stopped reading: when the connection
// closes (the peer closed it, it failed, Close or CloseNow), or after ctx is
// done, which stops the goroutine (between messages, the Conn staying
// usable; in the middle of one, the connection fails as for a cancelled
// Read). Because the returned context ends only after the goroutine's last
// read has returned, a caller that waits for it may read the Conn itself
// again without racing the goroutine for the next message.
//
// Until the returned context is done, do not call Read, ReadAppend or
// Reader: they would take messages from the goroutine. Close works as usual (the goroutine reads
// the peer's answer).
func (c *Conn) CloseRead(ctx context.Context) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	done, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer cancel()
		var scratch [512]byte
		for {
			_, r, err := c.Reader(ctx)
			if err != nil {
				return
			}
			for err == nil {
				_, err = r.Read(scratch[:])
			}
			if err != io.EOF {
				return
			}
		}
	}()
	return done
}
