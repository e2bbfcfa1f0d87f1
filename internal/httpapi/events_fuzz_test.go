package httpapi_test

import (
	"context"
	"testing"

	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/testenv"
)

// FuzzIngestRejectedRequestWritesNothing posts arbitrary bodies to the event
// routes: tact never fails with a 5xx, and a request it refuses (4xx) leaves
// the store exactly as it was — no event, no dedup key, no counter.
func FuzzIngestRejectedRequestWritesNothing(f *testing.F) {
	e := newEnvWith(f, testenv.Stores()[0], nil)
	if _, err := e.app.Consent.Record(context.Background(), consent.Caller{Server: true}, consent.Request{
		UserID: "fz-user", NoticeVersion: e.notice, Method: consent.MethodAPI, Choices: map[string]bool{"analytics": true, "personalization": true},
	}); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`{"batch":[{"type":"track","event":"Product Viewed","userId":"fz-user","messageId":"m1","properties":{"product_id":"1"}}]}`,
		`{"batch":[{"type":"hover"}]}`,
		`{"batch":{}}`,
		`{"type":"track","event":"x","userId":"fz-user"}`,
		`[1,2]`,
		"{\"batch\":[{\"type\":\"track\",\"event\":\"\xff\"}]}",
		`{"batch":[{"type":"identify","userId":"fz-user","traits":{"email":"a@b.example"},"context":{"consent":{"categoryPreferences":{"Analytics":false}}}}]}`,
	} {
		f.Add([]byte(seed), uint8(0))
	}
	paths := []string{"/v1/batch", "/v1/b", "/v1/track", "/v1/t", "/v1/identify", "/v1/page", "/v1/alias"}
	f.Fuzz(func(t *testing.T, body []byte, route uint8) {
		e := *e // the same server, reporting to this iteration's t
		e.t = t
		before := snapshotCounts(t, &e)
		code, out, _ := e.do("POST", paths[int(route)%len(paths)], body, basic(e.server))
		if code >= 500 {
			t.Fatalf("%d %v for %q", code, out, body)
		}
		if code == 200 {
			return
		}
		if after := snapshotCounts(t, &e); after != before {
			t.Fatalf("refused request (%d %v) changed the store: %+v → %+v", code, out, before, after)
		}
	})
}

type storeCounts struct{ received, stored, events int64 }

func snapshotCounts(t testing.TB, e *env) storeCounts {
	counts, err := e.app.Store.EventCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.app.Store.CountEventsStored(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return storeCounts{counts["received"], counts["stored"], n}
}
