package collect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tact-cdp/tact/internal/collect/minimize"
	"github.com/tact-cdp/tact/internal/collect/segment"
)

// FuzzPayloadProperties checks that the sealed payload's properties, copied
// as sent with only the addresses replaced, decode to what re-encoding the
// decoded properties through minimalProperties gives.
func FuzzPayloadProperties(f *testing.F) {
	files, _ := filepath.Glob("segment/testdata/*.json")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"type":"page","properties":{"url":"https://shop.example/p/123?email=a@b.c","path":"/p/123","referrer":"https://www.google.com/x","search":"?q=me","title":"T \"q\" \u00e9","n":1.50,"nested":{"url":"kept"}}}`))
	f.Add([]byte(`{"type":"track","event":"X","properties":{"referrer":"http://192.168.0.1/","path":"mailto:a@b.c"}}`))
	f.Add([]byte(`{"type":"track","event":"X","properties":{"search":"?q=1"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := segment.DecodeSingle(segment.Track, body)
		if err != nil || len(b.Events) != 1 {
			return
		}
		e := &b.Events[0]
		if e.Properties == nil || !hasAny(e.Properties, urlProperties) {
			return
		}
		out, err := payload(nil, e, Minimal{})
		if err != nil {
			t.Fatalf("payload: %v", err)
		}
		var got struct {
			Properties map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("payload is not JSON: %v\n%s", err, out)
		}
		ref, err := json.Marshal(minimalProperties(e.Properties))
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got.Properties); diff != "" {
			t.Errorf("properties (-reference +payload):\n%s\nbody: %s", diff, body)
		}
	})
}

// minimalProperties, the reference for FuzzPayloadProperties, keeps the properties but turns addresses into
// templated paths and hosts.
func minimalProperties(in map[string]any) map[string]any {
	props := make(map[string]any, len(in))
	for k, v := range in {
		if !urlProperties[k] {
			props[k] = v
		}
	}
	for _, k := range []string{"path", "url"} { // url wins
		if s, ok := in[k].(string); ok {
			if p := minimize.PathFromURL(s); p != "" {
				props["path"] = p
			}
		}
	}
	if s, ok := in["referrer"].(string); ok {
		if h := minimize.ReferrerHost(s); h != "" {
			props["referrer"] = h
		}
	}
	return props
}
