package protocol

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/wslua/wslua/framing"
)

// DefaultCompressionThreshold is the Threshold used when
// CompressionOptions.Threshold is 0: shorter messages gain little or nothing
// from compression.
const DefaultCompressionThreshold = 128

// CompressionOptions describe the permessage-deflate extension (RFC 7692).
//
// In handshake.DialOptions.Compression and handshake.UpgradeOptions.Compression
// they are a policy: what the client offers, what the server accepts. In
// Options.Compression they are the agreement the opening handshake reached,
// which the Conn applies; Dial and Upgrade fill that field in. The zero
// value is valid: compression at flate.BestSpeed, messages from 128 bytes
// on, context takeover allowed both ways, 32 KiB windows.
type CompressionOptions struct {
	// Level is the compress/flate level used for the messages this
	// endpoint sends: flate.BestSpeed (1) to flate.BestCompression (9),
	// flate.DefaultCompression (-1) or flate.HuffmanOnly (-2). 0 means
	// flate.BestSpeed. It is not negotiated.
	Level int
	// Threshold is the size from which messages are sent compressed:
	// shorter ones go out as they are (RSV1 clear). 0 means
	// DefaultCompressionThreshold, a negative value compresses every
	// message. At most 1 MiB. It is not negotiated.
	Threshold int
	// ServerNoContextTakeover: the server compresses every message on its
	// own, without referring to earlier ones (server_no_context_takeover).
	// A client policy requests it (the server must confirm it); a server
	// policy announces it. It lets the client drop its inflating window
	// between messages, and spares the server the compressor it would keep.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the same for the messages the client sends
	// (client_no_context_takeover). A client policy announces it (the
	// client then never uses context takeover, whatever the answer); a
	// server policy imposes it on every client.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits limits the LZ77 window of the server's compressor
	// to 2^n bytes, n in 8-15 (server_max_window_bits); 0 means no limit
	// (15). A client policy requests it, and fails the handshake unless the
	// server confirms a window at most that large; a server policy
	// announces it.
	ServerMaxWindowBits int
	// ClientMaxWindowBits limits the window of the client's compressor
	// likewise (client_max_window_bits). A client policy announces it (the
	// client always offers the parameter, with this value if set, so that
	// the server may ask for a smaller window); a server policy asks for it
	// when the client's offer allows, and otherwise accepts the offer
	// anyway (the server's inflater handles any window).
	ClientMaxWindowBits int
}

// Validate reports whether o holds values that can be used: Level in range,
// window bits 0 or 8-15, Threshold at most 1 MiB.
func (o *CompressionOptions) Validate() error {
	switch {
	case o.Level < flate.HuffmanOnly || o.Level > flate.BestCompression:
		return fmt.Errorf("websocket: compression level %d out of range (-2 to 9)", o.Level)
	case o.Threshold > maxCompressionThreshold:
		return fmt.Errorf("websocket: compression threshold %d above 1 MiB", o.Threshold)
	case !validWindowBits(o.ServerMaxWindowBits):
		return fmt.Errorf("websocket: server max window bits %d not 0 or 8-15", o.ServerMaxWindowBits)
	case !validWindowBits(o.ClientMaxWindowBits):
		return fmt.Errorf("websocket: client max window bits %d not 0 or 8-15", o.ClientMaxWindowBits)
	}
	return nil
}

// String formats the negotiated parameters as in a Sec-WebSocket-Extensions
// element, followed by the local settings; for logs and test names.
func (o *CompressionOptions) String() string {
	var b strings.Builder
	b.WriteString("permessage-deflate")
	if o.ServerNoContextTakeover {
		b.WriteString("; server_no_context_takeover")
	}
	if o.ClientNoContextTakeover {
		b.WriteString("; client_no_context_takeover")
	}
	if o.ServerMaxWindowBits != 0 {
		fmt.Fprintf(&b, "; server_max_window_bits=%d", o.ServerMaxWindowBits)
	}
	if o.ClientMaxWindowBits != 0 {
		fmt.Fprintf(&b, "; client_max_window_bits=%d", o.ClientMaxWindowBits)
	}
	fmt.Fprintf(&b, " (level %d, threshold %d)", o.Level, o.Threshold)
	return b.String()
}

func validWindowBits(n int) bool { return n == 0 || (n >= minWindowBits && n <= maxWindowBits) }

const (
	minWindowBits = 8
	maxWindowBits = 15
	// maxCompressionThreshold bounds Threshold: a message Writer holds up
	// to that many bytes before it decides to compress.
	maxCompressionThreshold = maxPooledPayload
	// minHistoryBits is the smallest inflating window kept between
	// messages. zlib, which many peers use, compresses with a 512-byte
	// window when asked for 256 bytes (8 bits); keeping 512 bytes costs
	// next to nothing and spares those peers a failed connection.
	minHistoryBits = 9
	// deflateTailLen is the length of the 0x00 0x00 0xff 0xff tail that
	// RFC 7692, 7.2.1 strips from every compressed message.
	deflateTailLen = 4
)

// ErrInvalidCompressedData is the cause of a 1007 failure: the payload of a
// compressed message is not valid DEFLATE data.
var ErrInvalidCompressedData = errors.New("websocket: invalid compressed data")

// RSV1 misuse (RFC 7692, 6 and 6.1) fails the connection with 1002.
var (
	errRsv1Control      = &framing.ProtocolError{Reason: "RSV1 set on a control frame"}
	errRsv1Continuation = &framing.ProtocolError{Reason: "RSV1 set on a continuation frame"}
)

// compressorIdle is how long a compressor kept for context takeover
// survives without a message to send. Then it goes back to the pool and the
// next message starts without history, which the peer cannot tell from a
// sender that chose not to refer to earlier messages: RFC 7692 makes
// context takeover a permission, never an obligation.
var compressorIdle = 5 * time.Second

// deflateState is a Conn's permessage-deflate state. The sending half is
// guarded by the message lock (Conn.writeLock), the receiving half by the
// read lock.
type deflateState struct {
	agreed    CompressionOptions // as given to NewConn
	level     int                // compress/flate level used to compress
	threshold int                // compress messages of at least this many bytes

	// Sending side.
	sendTakeover bool              // keep the compressor's history between messages
	sendChunk    int               // > 0: compress in independent chunks of this size
	own          *pooledCompressor // kept for context takeover; nil while idle
	cur          *pooledCompressor // compressor of the message being sent
	fed          int               // bytes given to cur since its last reset
	idle         *time.Timer       // returns own to the pool after compressorIdle
	sink         frameSink         // turns compressed bytes into frames
	w            compressWriter    // the io.WriteCloser Writer returns

	// Receiving side.
	recvTakeover bool          // the peer may refer to earlier messages
	recvWindow   int           // history kept between messages (recvTakeover)
	inflating    bool          // the message being read is compressed
	fr           io.ReadCloser // inflater of the current message, nil between messages
	src          inflateSource // its input: the message's payload, then the tail
	produced     int64         // bytes inflated for the current message
	hist         []byte        // the last output, up to recvWindow bytes at its end
}

// initCompression applies the agreed permessage-deflate parameters, if
// any: NewConn calls it. Invalid options are a programming error (Dial and
// Upgrade validate them), like an invalid Role.
func (c *Conn) initCompression(o *CompressionOptions) {
	if o == nil {
		return
	}
	if err := o.Validate(); err != nil {
		panic("protocol: NewConn: Options.Compression: " + err.Error())
	}
	d := &deflateState{agreed: *o, level: o.Level, threshold: o.Threshold}
	if d.level == 0 {
		d.level = flate.BestSpeed
	}
	if d.threshold == 0 {
		d.threshold = DefaultCompressionThreshold
	}
	ownNoTakeover, peerNoTakeover := o.ClientNoContextTakeover, o.ServerNoContextTakeover
	ownBits, peerBits := o.ClientMaxWindowBits, o.ServerMaxWindowBits
	if !c.client {
		ownNoTakeover, peerNoTakeover = peerNoTakeover, ownNoTakeover
		ownBits, peerBits = peerBits, ownBits
	}
	if ownBits != 0 && ownBits < maxWindowBits && d.level != flate.HuffmanOnly {
		// compress/flate always searches a 32 KiB window: honour a
		// smaller one by compressing chunks of that size independently
		// (see the package documentation).
		d.sendChunk = 1 << ownBits
		d.level = flate.BestSpeed // resetting it is cheap
	}
	// Huffman-only coding never refers back: there is no history to keep.
	d.sendTakeover = !ownNoTakeover && d.sendChunk == 0 && d.level != flate.HuffmanOnly
	d.recvTakeover = !peerNoTakeover
	if peerBits == 0 {
		peerBits = maxWindowBits
	}
	d.recvWindow = 1 << max(peerBits, minHistoryBits)
	d.sink.c = c
	d.w.c = c
	c.pmd = d
	c.allowedRsv |= framing.Rsv1
}

// Compression returns the permessage-deflate parameters in use, or nil if
// messages are never compressed on this connection.
func (c *Conn) Compression() *CompressionOptions {
	if c.pmd == nil {
		return nil
	}
	o := c.pmd.agreed
	return &o
}

// checkFrame applies RFC 7692's rules on RSV1 to a frame header that passed
// framing's Check, and notes whether a new data message is compressed.
func (d *deflateState) checkFrame(h *framing.Header) error {
	switch {
	case h.Opcode.IsControl():
		if h.Rsv&framing.Rsv1 != 0 {
			return errRsv1Control
		}
	case h.Opcode == framing.OpContinuation:
		if h.Rsv&framing.Rsv1 != 0 {
			return errRsv1Continuation
		}
	default:
		d.inflating = h.Rsv&framing.Rsv1 != 0
	}
	return nil
}

// compressible reports whether a message of n bytes is sent compressed.
func (d *deflateState) compressible(n int) bool { return n >= d.threshold }

// pooledCompressor is a flate.Writer with a switchable destination, so
// that a pooled compressor keeps no reference to the Conn it served.
type pooledCompressor struct {
	fw  *flate.Writer
	dst switchWriter
}

// switchWriter forwards writes to w.
type switchWriter struct{ w io.Writer }

// Write implements io.Writer.
func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

// compressorPools holds idle compressors by level (index level+2).
var compressorPools [flate.BestCompression - flate.HuffmanOnly + 1]sync.Pool

// getCompressor returns a compressor of the given (valid) level, reset
// and writing to dst.
func getCompressor(level int, dst io.Writer) *pooledCompressor {
	if pc, ok := compressorPools[level-flate.HuffmanOnly].Get().(*pooledCompressor); ok {
		pc.dst.w = dst
		pc.fw.Reset(&pc.dst)
		return pc
	}
	pc := &pooledCompressor{dst: switchWriter{dst}}
	pc.fw, _ = flate.NewWriter(&pc.dst, level) // cannot fail: the level is valid
	return pc
}

// putCompressor returns a compressor to its pool. It is reset when taken
// out again.
func putCompressor(level int, pc *pooledCompressor) {
	pc.dst.w = nil
	compressorPools[level-flate.HuffmanOnly].Put(pc)
}

// decompressorPool holds idle inflaters (flate readers).
var decompressorPool sync.Pool

// noInput is the input of pooled inflaters: they refer to no Conn.
var noInput = strings.NewReader("")

// getDecompressor returns an inflater reading src, primed with dict.
func getDecompressor(src flate.Reader, dict []byte) io.ReadCloser {
	if fr, ok := decompressorPool.Get().(io.ReadCloser); ok {
		_ = fr.(flate.Resetter).Reset(src, dict) // never fails for a flate reader
		return fr
	}
	return flate.NewReaderDict(src, dict)
}

// putDecompressor returns an inflater to the pool.
func putDecompressor(fr io.ReadCloser) {
	_ = fr.(flate.Resetter).Reset(noInput, nil)
	decompressorPool.Put(fr)
}
