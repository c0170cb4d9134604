package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrInvalidJSON is matched (errors.Is) by the errors of ReadJSON that come
// from the message's content: it is not exactly one JSON value, or the
// value does not fit v. The message was read whole and the connection is
// unaffected. The error also unwraps to encoding/json's own error
// (*json.SyntaxError, *json.UnmarshalTypeError) when there is one.
var ErrInvalidJSON = errors.New("websocket: message is not a valid JSON value")

// ReadJSON reads the next data message, text or binary, and decodes it as
// one JSON value into v, as json.Unmarshal does. A message that does not hold
// exactly one JSON value (surrounding whitespace aside), or whose value does
// not fit v, gives an error matching ErrInvalidJSON; the connection stays
// usable and the next call reads the next message. Errors of the connection
// are returned as Read returns them. The message is decoded as it is read,
// so it is subject to Options.ReadLimit but never buffered whole.
func ReadJSON(ctx context.Context, c *Conn, v any) error {
	_, r, err := c.Reader(ctx)
	if err != nil {
		return err
	}
	src := &jsonSource{r: r}
	dec := json.NewDecoder(src)
	err = dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errTrailingJSON
		}
	}
	// Consume the message to its end, so that a failure of the connection
	// within it is reported now, as the connection error it is.
	_, _ = io.Copy(io.Discard, src)
	if src.err != nil {
		return src.err
	}
	switch {
	case err == nil:
		return nil
	case err == io.EOF:
		return fmt.Errorf("%w: empty message", ErrInvalidJSON)
	case errors.Is(err, ErrInvalidJSON):
		return err
	}
	var invalid *json.InvalidUnmarshalError
	if errors.As(err, &invalid) {
		return err // v is not a non-nil pointer: the caller's mistake
	}
	return fmt.Errorf("%w: %w", ErrInvalidJSON, err)
}

// errTrailingJSON reports data after the first JSON value of a message.
var errTrailingJSON = fmt.Errorf("%w: data after the first value", ErrInvalidJSON)

// jsonSource keeps the first error of r other than io.EOF: an error of the
// connection, which ReadJSON must not mistake for bad content.
type jsonSource struct {
	r   io.Reader
	err error
}

func (rr *jsonSource) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if err != nil && err != io.EOF && rr.err == nil {
		rr.err = err
	}
	return n, err
}

// WriteJSON encodes v as JSON, as json.Marshal does followed by a newline,
// and sends it as one text message, encoding straight into a message Writer
// (Conn.Writer). If v cannot be encoded, WriteJSON returns encoding/json's
// error and sends nothing.
func WriteJSON(ctx context.Context, c *Conn, v any) error {
	w := &jsonMessage{ctx: ctx, c: c}
	err := json.NewEncoder(w).Encode(v)
	if w.w == nil { // nothing written: v could not be encoded
		return err
	}
	if cerr := w.w.Close(); err == nil {
		err = cerr
	}
	return err
}

// jsonMessage opens a text message Writer on the first Write, so that an
// encoding that fails before writing sends no message at all.
type jsonMessage struct {
	ctx context.Context
	c   *Conn
	w   io.WriteCloser
}

func (m *jsonMessage) Write(p []byte) (int, error) {
	if m.w == nil {
		w, err := m.c.Writer(m.ctx, MessageText)
		if err != nil {
			return 0, err
		}
		m.w = w
	}
	return m.w.Write(p)
}
