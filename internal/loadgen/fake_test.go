package loadgen

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testWriteKey  = "wk_test"
	testServerKey = "sk_test"
	testNotice    = "2026-01-15.1"
)

// fakeServer stands in for tact: it checks what the generator sends and
// answers as decide says.
type fakeServer struct {
	t         *testing.T
	srv       *httptest.Server
	eventKey  string
	batchSize int
	badAuthOK bool // a wrong key is what the test sends

	// decide answers the n-th batch request (0 is the probe); nil is 200.
	decide func(n int, ids []string) (status int, header map[string]string, body string)

	mu           sync.Mutex
	batches      int
	acked        map[string]bool  // messageIds of batches answered 200
	seen         map[string]bool  // messageIds of every batch
	pushedBack   map[string]retry // batches answered 429/503, by first messageId
	retries      []retry          // batches seen again after a 429/503
	ackedEvents  int
	consents     map[string]int
	consentCalls int
	noticeCalls  int
	conns        int
	consent      func(n int) (status int, header map[string]string) // nil: 201
}

type retry struct {
	ids  []string
	at   time.Time     // of the 429/503
	wait time.Duration // from the 429/503 to the retry
	same bool          // the retry carried the same messageIds
}

func newFakeServer(t *testing.T, eventKey string, batchSize int) *fakeServer {
	f := &fakeServer{t: t, eventKey: eventKey, batchSize: batchSize,
		acked: map[string]bool{}, seen: map[string]bool{}, pushedBack: map[string]retry{},
		consents: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/notice", f.notice)
	mux.HandleFunc("POST /v1/consent", f.consentHandler)
	mux.HandleFunc("POST /v1/batch", f.batch)
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
		}
	}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) checkAuth(r *http.Request, want string) bool {
	h := r.Header.Get("Authorization")
	if h != "Basic "+base64.StdEncoding.EncodeToString([]byte(want+":")) {
		if f.badAuthOK {
			return false
		}
		f.t.Errorf("%s %s: Authorization %q, want Basic for %q", r.Method, r.URL.Path, h, want)
		return false
	}
	return true
}

func unauthorized(w http.ResponseWriter) {
	w.WriteHeader(http.StatusUnauthorized)
	io.WriteString(w, `{"error":{"code":"unauthorized","message":"unknown key"}}`)
}

func (f *fakeServer) notice(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.noticeCalls++
	f.mu.Unlock()
	fmt.Fprintf(w, `{"version":%q,"locale":"en","purposes":[
		{"id":"necessary","required":true,"separate_consent":false},
		{"id":"analytics","required":false,"separate_consent":false},
		{"id":"personalization","required":false,"separate_consent":false},
		{"id":"sensitive_personalization","required":false,"separate_consent":true},
		{"id":"marketing_email","required":false,"separate_consent":false}]}`, testNotice)
}

func (f *fakeServer) consentHandler(w http.ResponseWriter, r *http.Request) {
	if !f.checkAuth(r, testServerKey) {
		unauthorized(w)
		return
	}
	var p consentBody
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		f.t.Errorf("consent body: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	want := map[string]bool{"analytics": true, "personalization": true, "marketing_email": true}
	if p.NoticeVersion != testNotice || p.Method != "api" || p.UserID == "" || fmt.Sprint(p.Choices) != fmt.Sprint(want) {
		f.t.Errorf("consent body %+v: want notice %s, method api, a userId and choices %v", p, testNotice, want)
	}
	f.mu.Lock()
	n := f.consentCalls
	f.consentCalls++
	f.mu.Unlock()
	if f.consent != nil {
		if status, h := f.consent(n); status != http.StatusCreated {
			for k, v := range h {
				w.Header().Set(k, v)
			}
			w.WriteHeader(status)
			return
		}
	}
	f.mu.Lock()
	f.consents[p.UserID]++
	f.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, `{"receiptId":"r1","leafIndex":1,"state":{}}`)
}

func (f *fakeServer) batch(w http.ResponseWriter, r *http.Request) {
	if !f.checkAuth(r, f.eventKey) {
		unauthorized(w)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("Content-Type %q", ct)
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return // a request cut off at the end of the run
	}
	var body struct {
		Batch  []map[string]any `json:"batch"`
		SentAt string           `json:"sentAt"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("batch body is not JSON: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if _, err := time.Parse(time.RFC3339, body.SentAt); err != nil {
		f.t.Errorf("sentAt: %v", err)
	}
	if len(body.Batch) != f.batchSize {
		f.t.Errorf("batch of %d events, want %d", len(body.Batch), f.batchSize)
	}
	if len(body.Batch) == 0 {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ids := make([]string, len(body.Batch))
	for i, ev := range body.Batch {
		if err := checkEvent(ev); err != nil {
			f.t.Errorf("event %d: %v", i, err)
		}
		ids[i], _ = ev["messageId"].(string)
	}

	f.mu.Lock()
	n := f.batches
	f.batches++
	if first, ok := f.pushedBack[ids[0]]; ok {
		f.retries = append(f.retries, retry{ids: ids, wait: time.Since(first.at), same: slices.Equal(ids, first.ids)})
	} else {
		for _, id := range ids {
			if f.seen[id] {
				f.t.Errorf("messageId %s sent again in a batch that is not a retry", id)
			}
			f.seen[id] = true
		}
	}
	f.mu.Unlock()

	status, header, answer := http.StatusOK, map[string]string(nil), `{"success":true}`
	if f.decide != nil {
		if s, h, b := f.decide(n, ids); s != 0 {
			status, header, answer = s, h, b
		}
	}
	f.mu.Lock()
	switch status {
	case http.StatusOK:
		for _, id := range ids {
			if f.acked[id] {
				f.t.Errorf("messageId %s acknowledged twice", id)
			}
			f.acked[id] = true
		}
		f.ackedEvents += len(ids)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		f.pushedBack[ids[0]] = retry{ids: ids, at: time.Now()}
	}
	f.mu.Unlock()
	for k, v := range header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

// checkEvent checks the fields every Segment event needs, and those of
// the e-commerce spec for track events.
func checkEvent(ev map[string]any) error {
	str := func(k string) string { s, _ := ev[k].(string); return s }
	id := str("messageId")
	if len(id) != 36 || strings.Count(id, "-") != 4 || id == idPlaceholder {
		return fmt.Errorf("messageId %q", id)
	}
	if str("userId") == "" && str("anonymousId") == "" {
		return fmt.Errorf("no userId nor anonymousId")
	}
	if _, err := time.Parse(time.RFC3339, str("timestamp")); err != nil {
		return fmt.Errorf("timestamp: %v", err)
	}
	ctx, _ := ev["context"].(map[string]any)
	lib, _ := ctx["library"].(map[string]any)
	if ctx["ip"] == nil || ctx["userAgent"] == nil || lib["name"] != "analytics-node" {
		return fmt.Errorf("context %v", ctx)
	}
	switch str("type") {
	case "track":
		props, _ := ev["properties"].(map[string]any)
		if str("event") == "" || props == nil {
			return fmt.Errorf("track without event or properties")
		}
		if str("event") == "Order Completed" {
			ps, _ := props["products"].([]any)
			if props["order_id"] == nil || props["revenue"] == nil || len(ps) < 1 || len(ps) > 4 {
				return fmt.Errorf("Order Completed: %v", props)
			}
		}
	case "identify":
		if str("userId") == "" {
			return fmt.Errorf("identify without userId")
		}
	case "page":
	default:
		return fmt.Errorf("type %q", str("type"))
	}
	return nil
}
