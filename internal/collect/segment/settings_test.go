package segment

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSettings(t *testing.T) {
	tests := []struct {
		apiHost            string
		wantHost, protocol string
	}{
		{"https://privacy.shop.example", "privacy.shop.example/v1", "https"},
		{"privacy.shop.example", "privacy.shop.example/v1", "https"},
		{"http://127.0.0.1:8080/", "127.0.0.1:8080/v1", "http"},
		{"https://shop.example/tact", "shop.example/tact/v1", "https"},
		{"shop.example/tact/v1/", "shop.example/tact/v1", "https"},
		{"HTTP://localhost:8080", "localhost:8080/v1", "http"},
	}
	for _, tt := range tests {
		// What analytics-next receives: the JSON of the map.
		b, err := json.Marshal(Settings("wk_123", tt.apiHost))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Integrations map[string]struct {
				APIKey             string `json:"apiKey"`
				APIHost            string `json:"apiHost"`
				Protocol           string `json:"protocol"`
				AddBundledMetadata bool   `json:"addBundledMetadata"`
			} `json:"integrations"`
			Metrics struct {
				SampleRate *float64 `json:"sampleRate"`
				Host       string   `json:"host"`
			} `json:"metrics"`
			Plan                 map[string]map[string]map[string]any `json:"plan"`
			EdgeFunction         map[string]any                       `json:"edgeFunction"`
			AnalyticsNextEnabled bool                                 `json:"analyticsNextEnabled"`
			RemotePlugins        []any                                `json:"remotePlugins"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		seg, ok := got.Integrations["Segment.io"]
		if !ok || len(got.Integrations) != 1 {
			t.Fatalf("%s: integrations = %s", tt.apiHost, b)
		}
		want := struct{ key, host, proto string }{"wk_123", tt.wantHost, tt.protocol}
		if diff := cmp.Diff(want, struct{ key, host, proto string }{seg.APIKey, seg.APIHost, seg.Protocol}, cmp.AllowUnexported(want)); diff != "" {
			t.Errorf("%s: Segment.io (-want +got):\n%s", tt.apiHost, diff)
		}
		if got.Metrics.SampleRate == nil || *got.Metrics.SampleRate != 0 || got.Metrics.Host != tt.wantHost {
			t.Errorf("%s: metrics = %+v, want sampleRate 0 and tact's host", tt.apiHost, got.Metrics)
		}
		if !got.AnalyticsNextEnabled || got.EdgeFunction == nil || got.RemotePlugins == nil ||
			got.Plan["track"]["__default"]["enabled"] != true {
			t.Errorf("%s: settings = %s", tt.apiHost, b)
		}
	}
}
