package framing

// AppendFrame appends a whole frame (header and payload) to dst. The length
// in h is replaced by len(payload). If h.Masked, the payload is copied and
// masked with h.Mask; payload itself is not modified, provided it does not
// share memory with dst's spare capacity.
func AppendFrame(dst []byte, h Header, payload []byte) []byte {
	h.Length = int64(len(payload))
	dst = h.Append(dst)
	start := len(dst)
	dst = append(dst, payload...)
	if h.Masked {
		Mask(h.Mask, 0, dst[start:])
	}
	return dst
}
