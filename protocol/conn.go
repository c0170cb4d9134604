package protocol

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wslua/wslua/framing"
)

// Conn is a WebSocket connection (RFC 6455) over a net.Conn whose opening
// handshake is done.
//
// Reading: one goroutine at a time reads messages with Read, ReadAppend or
// Reader (concurrent calls are serialized). Pings are answered and control
// frames handled while reading, so some goroutine should keep reading for
// the connection to stay healthy; a Conn nobody reads still completes Close
// (unless Options.DedicatedReader promises a reader).
//
// Writing: Write, Writer, Ping, Pong and Close may be called from any number
// of goroutines. The frames of two messages never interleave, while control
// frames may go out between the frames of a long message.
//
// Closing: Close performs the close handshake, CloseNow closes at once.
// Once the Conn is closed, every method returns an error matching ErrClosed;
// Read and friends keep returning the same *CloseError.
type Conn struct {
	nc         net.Conn
	br         connReader // read buffer, owned by the holder of readLock
	client     bool
	canWritev  bool          // nc takes vectored writes (writev)
	allowedRsv byte          // RSV bits negotiated extensions may set (0: none yet)
	pmd        *deflateState // permessage-deflate, nil when not negotiated
	subproto   string        // negotiated subprotocol

	readLimit     atomic.Int64 // < 0: unlimited (SetReadLimit)
	readTimeout   time.Duration
	writeTimeout  time.Duration
	closeTimeout  time.Duration
	ctrlTimeout   time.Duration // bound of the control frames the Conn owes
	dedicated     bool          // Options.DedicatedReader: Close never reads
	pingInterval  time.Duration
	pongTimeout   time.Duration
	writeBufSize  int
	onPing        func([]byte)
	onPong        func([]byte)
	readDeadline  deadlineGuard
	writeDeadline deadlineGuard

	// Read side, owned by the holder of readLock.
	readLock chan struct{} // a mutex that select can wait on
	rd       readState
	mr       messageReader
	rslab    handles // Reader's handles

	// Write side.
	writeLock chan struct{} // message lock: held for a whole message
	mw        messageWriter
	wgen      atomic.Uint64 // generation of the Writer's message (written under the message lock)
	wslab     handles       // Writer's handles (guarded by the message lock)
	// frameLock is the frame lock, held around each frame's network write,
	// waited for with a context or a timeout. The fields below up to
	// rawChecked are guarded by it.
	frameLock  frameLock
	ctrlBuf    [framing.MaxHeaderSize + framing.MaxControlPayload]byte
	hdrBuf     [framing.MaxHeaderSize]byte
	vec        net.Buffers
	vecArr     [2][]byte
	raw        syscall.RawConn // for TryWrite's non-blocking writes
	rawChecked bool            // raw was looked up
	// writerActive: a Writer holds the message lock. A Write takes the
	// message lock only then (see lockData).
	writerActive atomic.Bool

	// Closing.
	closeMu   sync.Mutex
	closing   bool        // Close was called (guarded by closeMu)
	closeSent atomic.Bool // a close frame was sent: no frame may follow
	closeErr  atomic.Pointer[CloseError]
	closeOnce sync.Once
	closed    chan struct{} // closed once the net.Conn is closed

	// A failure held back by Options.DeferFailure (see Fail).
	deferFailure bool
	pending      atomic.Pointer[CloseError]
	pendingTimer *time.Timer // guarded by closeMu
	failOnce     sync.Once

	// PingRTT calls waiting for their pong, by ping number.
	pingSeq  atomic.Uint64
	pingMu   sync.Mutex
	pingWait map[uint64]chan struct{}

	// Keepalive.
	awaitingPong atomic.Bool
	pongTimer    *time.Timer
}

// NewConn wraps an established connection whose opening handshake is done.
// br, if not nil, is the reader the handshake used on nc: the bytes it
// already holds (perhaps the first frames) are read first, then nc is read
// directly. The Conn takes over br's buffer as its read buffer if it is at
// least Options.ReadBufferSize bytes long; br must read nc and nothing else,
// and reads nothing once NewConn returns.
//
// opts must not be nil and opts.Role must be RoleClient or RoleServer;
// NewConn panics otherwise (a programming error, not bad input). If
// opts.PingInterval is positive, NewConn starts the keepalive goroutine,
// which ends when the Conn closes: close every Conn.
func NewConn(nc net.Conn, br *bufio.Reader, opts *Options) *Conn {
	if opts == nil || (opts.Role != RoleClient && opts.Role != RoleServer) {
		panic("protocol: NewConn: Options.Role must be RoleClient or RoleServer")
	}
	size := opts.ReadBufferSize
	if size <= 0 {
		size = defaultReadBufferSize
	}
	c := &Conn{
		nc:           nc,
		client:       opts.Role == RoleClient,
		subproto:     opts.Subprotocol,
		readTimeout:  opts.ReadTimeout,
		writeTimeout: opts.WriteTimeout,
		closeTimeout: opts.CloseTimeout,
		ctrlTimeout:  opts.ControlTimeout,
		deferFailure: opts.DeferFailure,
		dedicated:    opts.DedicatedReader,
		pingInterval: opts.PingInterval,
		pongTimeout:  opts.PongTimeout,
		writeBufSize: opts.WriteBufferSize,
		onPing:       opts.OnPing,
		onPong:       opts.OnPong,
		readLock:     make(chan struct{}, 1),
		writeLock:    make(chan struct{}, 1),
		closed:       make(chan struct{}),
	}
	c.frameLock.init()
	c.readDeadline.nc = nc
	c.writeDeadline.nc, c.writeDeadline.write = nc, true
	c.readLimit.Store(opts.ReadLimit)
	if opts.ReadLimit == 0 {
		c.readLimit.Store(defaultReadLimit)
	}
	if c.writeBufSize <= 0 {
		c.writeBufSize = defaultWriteBufferSize
	}
	c.writeBufSize = min(c.writeBufSize, maxPooledPayload)
	if c.closeTimeout <= 0 {
		c.closeTimeout = defaultCloseTimeout
	}
	if c.ctrlTimeout <= 0 {
		c.ctrlTimeout = defaultControlTimeout
	}
	if c.pongTimeout <= 0 {
		c.pongTimeout = c.pingInterval
	}
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		c.canWritev = true
	}
	c.br.init(nc, br, size)
	c.mr.c = c
	c.mw.c = c
	c.initCompression(opts.Compression)
	if c.pingInterval > 0 {
		c.startKeepalive()
	}
	return c
}

// SetReadLimit changes the largest message the Conn accepts (see
// Options.ReadLimit; 0 means the default, 16 MiB, a negative value no
// limit). It may be called at any time, from any goroutine: it applies to
// the frames read from then on, so a message being read is checked against
// the new limit from its next frame on.
func (c *Conn) SetReadLimit(n int64) {
	if n == 0 {
		n = defaultReadLimit
	}
	c.readLimit.Store(n)
}

// Subprotocol returns the subprotocol given in Options.Subprotocol.
func (c *Conn) Subprotocol() string { return c.subproto }

// NetConn returns the underlying connection. Reading from or writing to it
// directly corrupts the WebSocket stream; it is meant for addresses,
// connection state and the like.
func (c *Conn) NetConn() net.Conn { return c.nc }

// shutdown records ce as the final error unless one is recorded already,
// closes the network connection (once) and returns the recorded error.
func (c *Conn) shutdown(ce *CloseError) error {
	c.closeErr.CompareAndSwap(nil, ce)
	c.closeOnce.Do(c.closeNet)
	return c.closeErr.Load()
}

func (c *Conn) closeNet() {
	_ = c.nc.Close()
	close(c.closed)
	if c.pmd != nil {
		c.releaseIdleCompressor() // no message will use it
	}
	c.readDeadline.forget()
	c.writeDeadline.forget()
}

// closedErr returns the final error if the Conn is closed, else an error
// that matches ErrClosed (a close frame was sent, the handshake is under
// way).
func (c *Conn) closedErr() error {
	if ce := c.closeErr.Load(); ce != nil {
		return ce
	}
	return errCloseInProgress
}
