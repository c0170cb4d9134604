package protocol

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wslua/wslua/framing"
)

// CloseError is the error returned once the connection is closed:
//
//   - after a closing handshake: Received is true and Code and Reason are
//     those of the peer's close frame (Code 1005 if it carried none). Remote
//     tells who started it: true if the peer's close frame came first,
//     false if it answered ours (Close, or a failure of this endpoint);
//   - after Close without the peer's answer (the close timeout, the
//     connection lost meanwhile): Code and Reason are what Close sent, Err
//     the cause;
//   - after this endpoint failed the connection (Remote false): Code is
//     what was sent (1002, 1007, 1009, ...), Err the cause;
//   - after the transport ended without a close frame, or CloseNow: Code
//     1006, Err the cause (ErrClosed for CloseNow).
//
// IsNormalClose tells an expected end of the connection from a failure.
//
// Every CloseError matches ErrClosed with errors.Is, and unwraps to Err, so
// errors.Is(err, framing.ErrProtocol), errors.Is(err, ErrInvalidUTF8) or
// errors.Is(err, os.ErrDeadlineExceeded) tell the causes apart.
type CloseError struct {
	Code   StatusCode // status code received (Remote) or sent / implied
	Reason string     // close reason received (Remote) or sent
	Remote bool       // the peer started the closing handshake
	// Received: the peer's close frame was received (Code and Reason are
	// its own).
	Received bool
	Err      error // local cause, nil for a clean close

	local bool // the close was asked for by this end (Close, CloseNow)
}

// IsNormalClose reports whether err (from Read, ReadAppend, a message
// reader or a write) tells that the connection ended as expected: the peer
// closed it with 1000 (normal closure) or 1001 (going away), or this end
// closed it with Close or CloseNow, whatever the outcome of the handshake.
// Any other end (a failure of either side, a lost connection, another code
// from the peer) and any error that is not a *CloseError report false.
// Like gorilla's IsUnexpectedCloseError negated, it is what a read loop
// checks to decide whether to log the error.
func IsNormalClose(err error) bool {
	var ce *CloseError
	if !errors.As(err, &ce) {
		return false
	}
	if ce.local {
		return true
	}
	return ce.Received && (ce.Code == StatusNormalClosure || ce.Code == StatusGoingAway)
}

// Error formats the error as "websocket: closed by peer: CODE REASON",
// "websocket: closed: CODE REASON" (closed by this endpoint without a
// specific cause) or "websocket: failed connection: CODE CAUSE".
func (e *CloseError) Error() string {
	var b strings.Builder
	switch {
	case e.Remote:
		b.WriteString("websocket: closed by peer: ")
	case e.Err == nil:
		b.WriteString("websocket: closed: ")
	default:
		b.WriteString("websocket: failed connection: ")
	}
	b.WriteString(strconv.Itoa(int(e.Code)))
	if e.Err != nil && !e.Remote {
		b.WriteByte(' ')
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "websocket: "))
	} else if e.Reason != "" {
		b.WriteByte(' ')
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Unwrap returns the cause, if any.
func (e *CloseError) Unwrap() error { return e.Err }

// Is makes every CloseError match ErrClosed: the connection is closed.
func (e *CloseError) Is(target error) bool { return target == ErrClosed }

// CloseStatus returns the code of the *CloseError in err's chain, or -1.
func CloseStatus(err error) StatusCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// Sentinel errors, to be matched with errors.Is.
var (
	// ErrClosed is matched by every error a Conn returns once it is closed
	// or closing, including every *CloseError.
	ErrClosed = errors.New("websocket: use of closed connection")
	// ErrMessageTooBig is the cause of a 1009 failure: a message exceeded
	// Options.ReadLimit.
	ErrMessageTooBig = errors.New("websocket: message exceeds the read limit")
	// ErrInvalidUTF8 is the cause of a 1007 failure (a text message or close
	// reason that is not UTF-8), and is returned by Close for such a reason.
	ErrInvalidUTF8 = errors.New("websocket: invalid UTF-8 in text message")
	// ErrInvalidCloseCode is returned by Close for a code that may not be
	// sent (1004-1006, 1015, or outside 1000-4999).
	ErrInvalidCloseCode = errors.New("websocket: invalid close code")
)

// Errors of argument checks and of state; none of them closes the Conn.
var (
	errReasonTooLong   = errors.New("websocket: close reason longer than 123 bytes")
	errControlTooLong  = errors.New("websocket: control frame payload longer than 125 bytes")
	errMessageType     = errors.New("websocket: message type must be MessageText or MessageBinary")
	errStaleReader     = errors.New("websocket: message reader used after the next message was requested")
	errWriterClosed    = errors.New("websocket: write to a closed message writer")
	errCloseInProgress = &wrapClosed{errors.New("websocket: close frame already sent")}
)

// Protocol violations found above the frame layer (fail with 1002).
var (
	errUnexpectedContinuation = &framing.ProtocolError{Reason: "continuation frame without a message to continue"}
	errExpectedContinuation   = &framing.ProtocolError{Reason: "new data frame inside a fragmented message"}
	errCloseTooShort          = &framing.ProtocolError{Reason: "close frame payload of 1 byte"}
	errCloseCode              = &framing.ProtocolError{Reason: "invalid close code"}
)

// timeoutError is a net.Error timeout for deadlines the package enforces
// itself (pong and close handshake timeouts). It matches
// os.ErrDeadlineExceeded.
type timeoutError struct{ msg string }

// Error implements error.
func (e *timeoutError) Error() string { return e.msg }

// Timeout reports true: this is a timeout (net.Error).
func (e *timeoutError) Timeout() bool { return true }

// Temporary reports true, as for the net package's timeouts (net.Error).
func (e *timeoutError) Temporary() bool { return true }

// Is matches os.ErrDeadlineExceeded, like the net package's timeouts.
func (e *timeoutError) Is(target error) bool { return target == os.ErrDeadlineExceeded }

var (
	errPongTimeout  = &timeoutError{"websocket: no pong within the pong timeout"}
	errCloseTimeout = &timeoutError{"websocket: no close frame from the peer within the close timeout"}
	// errControlTimeout: a control frame the Conn owed the peer could not
	// be sent within ControlTimeout (or CloseTimeout for a close frame).
	errControlTimeout = &timeoutError{"websocket: control frame not sent within its timeout (is the peer reading?)"}
)

// wrapClosed is an error of a closing Conn: it matches ErrClosed.
type wrapClosed struct{ err error }

// Error implements error.
func (w *wrapClosed) Error() string { return w.err.Error() }

// Is matches ErrClosed.
func (w *wrapClosed) Is(target error) bool { return target == ErrClosed }

// failReason returns the short reason sent in the close frame when this
// endpoint fails the connection because of err.
func failReason(err error) string {
	var pe *framing.ProtocolError
	var r string
	switch {
	case errors.As(err, &pe):
		r = pe.Reason
	case errors.Is(err, ErrInvalidUTF8):
		r = "invalid UTF-8"
	case errors.Is(err, ErrMessageTooBig):
		r = "message too big"
	default:
		r = strings.TrimPrefix(err.Error(), "websocket: ")
	}
	for len(r) > maxCloseReason || !utf8.ValidString(r) {
		r = r[:len(r)-1] // keep the reason short and UTF-8
	}
	return r
}
