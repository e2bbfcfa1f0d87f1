package segment

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadBodyCompression(t *testing.T) {
	plain := readTestdata(t, "analytics-node-batch.json")
	var z, raw bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(plain)
	zw.Close()
	fw, _ := flate.NewWriter(&raw, flate.BestSpeed)
	fw.Write(plain)
	fw.Close()
	gz := gzipped(t, plain)
	twice := append(gzipped(t, plain[:100]), gzipped(t, plain[100:])...) // two gzip members

	tests := []struct {
		name, contentType, contentEncoding string
		body                               []byte
	}{
		// analytics-node and the rudder SDKs gzip; the labels vary.
		{"gzip as application/json", "application/json", "gzip", gz},
		{"gzip as text/plain", "text/plain", "gzip", gz},
		{"gzip with no content type", "", "gzip", gz},
		{"gzip without Content-Encoding", "application/json", "", gz},
		{"gzip as text/plain without Content-Encoding", "text/plain", "", gz},
		{"x-gzip", "application/json", "x-gzip", gz},
		{"GZIP in capitals", "application/json", " GZIP ", gz},
		{"gzip labelled deflate", "application/json", "deflate", gz},
		{"multi-member gzip", "application/json", "gzip", twice},
		{"zlib deflate", "application/json", "deflate", z.Bytes()},
		{"zlib without Content-Encoding", "", "", z.Bytes()},
		{"raw deflate", "application/json", "deflate", raw.Bytes()},
		{"plain", "application/json", "", plain},
		{"plain text/plain (analytics-next)", "text/plain", "", plain},
		{"identity", "text/plain", "identity", plain},
		{"plain JSON mislabelled gzip", "application/json", "gzip", plain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/v1/batch", bytes.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.contentEncoding != "" {
				req.Header.Set("Content-Encoding", tt.contentEncoding)
			}
			got, err := ReadBody(req.Header.Get("Content-Encoding"), req.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("body differs: %.80q", got)
			}
			if _, err := DecodeBatch(got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// infinite yields zeros forever; it counts what was read.
type infinite struct{ n int64 }

func (r *infinite) Read(p []byte) (int, error) {
	clear(p)
	r.n += int64(len(p))
	return len(p), nil
}

func TestReadBodyLimits(t *testing.T) {
	var bomb bytes.Buffer // 10 MB of zeros, about 10 KB compressed
	w, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	w.Write(make([]byte, 10<<20))
	w.Close()

	var members bytes.Buffer // endless empty gzip members: nothing decompressed, ever
	empty := gzipped(t, nil)
	for members.Len() < 2*maxWireBytes {
		members.Write(empty)
	}

	atLimit := bytes.Repeat([]byte(" "), MaxRequestBytes)
	copy(atLimit, `{"batch":[]}`)

	tests := []struct {
		name     string
		encoding string
		body     io.Reader
		wantErr  error
		wantLen  int
	}{
		{"gzip bomb", "gzip", bytes.NewReader(bomb.Bytes()), ErrTooLarge, 0},
		{"gzip bomb, unlabelled", "", bytes.NewReader(bomb.Bytes()), ErrTooLarge, 0},
		{"500 KB + 1", "", bytes.NewReader(append(atLimit, ' ')), ErrTooLarge, 0},
		{"500 KB + 1 gzipped", "gzip", bytes.NewReader(gzipped(t, append(atLimit, ' '))), ErrTooLarge, 0},
		{"500 KB exactly", "", bytes.NewReader(atLimit), nil, MaxRequestBytes},
		{"500 KB exactly gzipped", "gzip", bytes.NewReader(gzipped(t, atLimit)), nil, MaxRequestBytes},
		{"endless empty gzip members", "gzip", bytes.NewReader(members.Bytes()), ErrTooLarge, 0},
		{"endless stream", "", &infinite{}, ErrTooLarge, 0},
		{"empty", "", strings.NewReader(""), nil, 0},
		{"nil reader", "", nil, nil, 0},
		{"corrupt gzip", "gzip", bytes.NewReader([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3}), ErrEncoding, 0},
		{"truncated gzip", "gzip", bytes.NewReader(gzipped(t, []byte(`{"batch":[]}`))[:15]), ErrEncoding, 0},
		{"gzip with trailing garbage", "gzip", bytes.NewReader(append(gzipped(t, []byte(`{"batch":[]}`)), "garbage"...)), ErrEncoding, 0},
		{"bad deflate", "deflate", strings.NewReader("\xff\xff\xff\xff"), ErrEncoding, 0},
		{"brotli", "br", strings.NewReader("x"), ErrEncoding, 0},
		{"two encodings", "gzip, br", strings.NewReader("x"), ErrEncoding, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadBody(tt.encoding, tt.body)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadBody = %d bytes, %v; want %v", len(got), err, tt.wantErr)
			}
			if err != nil {
				var de *Error
				if !errors.As(err, &de) || de.Code == "" {
					t.Errorf("error %v has no code", err)
				}
				return
			}
			if len(got) != tt.wantLen {
				t.Errorf("len = %d, want %d", len(got), tt.wantLen)
			}
		})
	}

	r := &infinite{}
	ReadBody("", r)
	if r.n > 2*maxWireBytes {
		t.Errorf("read %d bytes from an endless body", r.n)
	}
}

// TestReadBodyLen checks that an announced length only sizes the buffer: a
// short, long, absent or absurd announcement reads the same bytes, and the
// limits hold whatever was announced.
func TestReadBodyLen(t *testing.T) {
	body := bytes.Repeat([]byte(`{"batch":[]} `), 1000)
	for _, announced := range []int64{-1, 0, 1, int64(len(body)) - 1, int64(len(body)), int64(len(body)) + 1, 10 * int64(len(body)), maxWireBytes + 1, 1 << 40} {
		got, err := ReadBodyLen("", bytes.NewReader(body), announced)
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("announced %d: %d bytes, %v; want the %d bytes sent", announced, len(got), err, len(body))
		}
	}
	big := bytes.Repeat([]byte("x"), MaxRequestBytes+1)
	if _, err := ReadBodyLen("", bytes.NewReader(big), 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over-size body announced as 10 bytes: %v, want ErrTooLarge", err)
	}
	r := &infinite{}
	ReadBodyLen("", r, 100)
	if r.n > 2*maxWireBytes {
		t.Errorf("read %d bytes from an endless body announced as 100 bytes", r.n)
	}
}
