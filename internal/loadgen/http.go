package loadgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

func newClient(clients int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:       nil, // loopback: an HTTP_PROXY in the environment must not intervene
			DialContext: (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			// One kept-alive connection per client; never more, so a burst
			// of 429s does not turn into connection churn.
			MaxIdleConns:        clients,
			MaxIdleConnsPerHost: clients,
			MaxConnsPerHost:     clients,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

func basicAuth(key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
}

type answer struct {
	status     int
	body       []byte
	retryAfter time.Duration
}

// post sends body and reads the answer. It returns only once the transport
// has let go of body, so the caller may rewrite it for the next request.
func post(ctx context.Context, c *http.Client, url, auth string, body []byte) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return answer{}, err
	}
	tb := &trackedBody{data: body}
	defer tb.wg.Wait()
	req.Body = tb.open()
	req.GetBody = func() (io.ReadCloser, error) { return tb.open(), nil }
	req.ContentLength = int64(len(body))
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", "application/json")
	return do(c, req)
}

func get(ctx context.Context, c *http.Client, url string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return answer{}, err
	}
	return do(c, req)
}

func do(c *http.Client, req *http.Request) (answer, error) {
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	// Read to the end so the connection is kept alive.
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, body: b, retryAfter: retryAfter(resp.Header.Get("Retry-After"))}, nil
}

// trackedBody counts the readers handed to the transport, which closes
// each, possibly after Do has returned (http.RoundTripper's contract).
type trackedBody struct {
	data []byte
	wg   sync.WaitGroup
}

func (t *trackedBody) open() io.ReadCloser {
	t.wg.Add(1)
	return &trackedReader{Reader: bytes.NewReader(t.data), done: sync.OnceFunc(t.wg.Done)}
}

type trackedReader struct {
	*bytes.Reader
	done func()
}

func (r *trackedReader) Close() error { r.done(); return nil }

// retryAfter reads a Retry-After header: seconds or an HTTP date. Absent
// or unreadable, it is a second; it is never below 10ms, so that a server
// answering "0" does not make the generator spin.
func retryAfter(h string) time.Duration {
	d := time.Second
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = time.Until(t)
	}
	return max(d, 10*time.Millisecond)
}

// sleep waits for d or until ctx is done, and says whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// serverMessage is the server's error text for messages of our own.
func serverMessage(a answer) string {
	var e struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(a.body, &e) == nil && e.Error.Code != "" {
		return e.Error.Code + ": " + e.Error.Message
	}
	b := bytes.TrimSpace(a.body)
	if len(b) > 200 {
		b = b[:200]
	}
	if len(b) == 0 {
		return http.StatusText(a.status)
	}
	return string(b)
}

func statusError(what string, a answer) error {
	return fmt.Errorf("%s: %d (%s)", what, a.status, serverMessage(a))
}
