package segment

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"strings"
)

// maxWireBytes bounds what ReadBody reads from the connection. Compression
// never makes a body that fits MaxRequestBytes much bigger (deflate's
// stored blocks add 5 bytes per 64 KB, gzip's header and trailer a few
// dozen), so anything larger is too large whatever it decompresses to, and
// a stream of empty gzip members cannot keep the reader busy forever.
const maxWireBytes = MaxRequestBytes + 16<<10

// ReadBody reads a request body and undoes its compression. Compression
// is taken from the Content-Encoding header ("gzip", "x-gzip", "deflate",
// "identity" or empty) and also recognised by its magic bytes whatever the
// header and the content type say, because SDKs mislabel it (gzip sent as
// text/plain, or with no Content-Encoding at all). A body labelled gzip
// that is plainly JSON is taken as it is.
//
// The result is at most MaxRequestBytes; a longer one, before or after
// decompression, is ErrTooLarge. Decompression stops reading at that
// limit, so a small bomb costs no more than a legitimate maximal body. A
// corrupt stream or an unsupported encoding is ErrEncoding.
func ReadBody(contentEncoding string, r io.Reader) ([]byte, error) {
	return ReadBodyLen(contentEncoding, r, -1)
}

// ReadBodyLen is ReadBody for a body whose length the sender announced
// (Content-Length; -1 when unknown): the buffer is allocated once at that
// size instead of growing, which matters at tens of thousands of events per
// second. A wrong announcement costs only the saving.
func ReadBodyLen(contentEncoding string, r io.Reader, contentLength int64) ([]byte, error) {
	enc, err := encoding(contentEncoding)
	if err != nil {
		return nil, err
	}
	var wire []byte
	if r != nil {
		wire, err = readAll(io.LimitReader(r, maxWireBytes+1), contentLength)
		if err != nil {
			return nil, fmt.Errorf("reading body: %w", err)
		}
	}
	switch {
	case isGzip(wire):
		enc = "gzip"
	case enc == "" && isZlib(wire):
		enc = "deflate"
	case enc == "gzip" && looksLikeJSON(wire):
		enc = ""
	}
	if enc == "" {
		if len(wire) > MaxRequestBytes {
			return nil, tooLarge()
		}
		return wire, nil
	}
	if len(wire) > maxWireBytes {
		return nil, tooLarge()
	}
	var zr io.Reader
	switch {
	case enc == "gzip":
		gr, err := gzip.NewReader(bytes.NewReader(wire))
		if err != nil {
			return nil, corrupt("gzip", err)
		}
		zr = gr
	case isZlib(wire):
		zlr, err := zlib.NewReader(bytes.NewReader(wire))
		if err != nil {
			return nil, corrupt("deflate", err)
		}
		zr = zlr
	default:
		// Raw deflate: what some clients send as "deflate" despite RFC 9110.
		zr = flate.NewReader(bytes.NewReader(wire))
	}
	body, err := io.ReadAll(io.LimitReader(zr, MaxRequestBytes+1))
	if len(body) > MaxRequestBytes {
		return nil, tooLarge()
	}
	if err != nil {
		return nil, corrupt(enc, err)
	}
	return body, nil
}

// readAll is io.ReadAll starting from a buffer of the announced size (plus
// one byte, so that the end of the stream is seen without growing).
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size < 0 || size > maxWireBytes {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, size+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow: the announcement was short
		}
	}
}

func encoding(header string) (string, error) {
	switch h := strings.ToLower(strings.TrimSpace(header)); h {
	case "", "identity":
		return "", nil
	case "gzip", "x-gzip":
		return "gzip", nil
	case "deflate":
		return "deflate", nil
	default:
		return "", &Error{Code: CodeEncoding, Message: fmt.Sprintf("unsupported Content-Encoding %s (use gzip or deflate)", quoteKey(h)), kind: ErrEncoding}
	}
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// isZlib recognises an RFC 1950 header: deflate with a window of at most
// 32 KB and a valid check value. A JSON text cannot start this way.
func isZlib(b []byte) bool {
	return len(b) >= 2 && b[0]&0x0f == 8 && b[0]>>4 <= 7 && (uint(b[0])<<8|uint(b[1]))%31 == 0
}

func looksLikeJSON(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

func tooLarge() error {
	return &Error{Code: CodeTooLarge, Message: fmt.Sprintf("request body is over %d bytes after decompression", MaxRequestBytes), kind: ErrTooLarge}
}

func corrupt(enc string, err error) error {
	return &Error{Code: CodeEncoding, Message: fmt.Sprintf("body is not valid %s data: %v", enc, err), kind: ErrEncoding}
}
