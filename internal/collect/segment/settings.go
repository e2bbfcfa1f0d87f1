package segment

import "strings"

// Settings returns the object GET /v1/projects/{writeKey}/settings answers,
// in the shape analytics-next loads from Segment's CDN, so that the SDK
// sends its events to tact (the shop sets cdnURL to tact's public URL).
//
// apiHost is where tact is reached from browsers, with or without a
// scheme and a path prefix ("https://privacy.shop.example",
// "shop.example/tact"); the SDK wants it as host + "/v1" without the
// scheme, which goes to "protocol" (https unless apiHost says http://).
//
// Only the Segment.io destination is listed: no device-mode destination
// is loaded into the page, no remote plugins or middleware, and the SDK's
// own telemetry is off (metrics.sampleRate 0) and, were it on, would go to
// tact rather than to Segment. Bundling metadata is off, so events carry
// no _metadata they do not need.
func Settings(writeKey, apiHost string) map[string]any {
	protocol := "https"
	host := strings.TrimSpace(apiHost)
	if scheme, rest, ok := strings.Cut(host, "://"); ok {
		if strings.EqualFold(scheme, "http") {
			protocol = "http"
		}
		host = rest
	}
	host = strings.TrimRight(host, "/")
	host = strings.TrimSuffix(host, "/v1")
	host += "/v1"
	return map[string]any{
		"integrations": map[string]any{
			"Segment.io": map[string]any{
				"apiKey":                writeKey,
				"apiHost":               host,
				"protocol":              protocol,
				"addBundledMetadata":    false,
				"unbundledIntegrations": []string{},
				"maybeBundledConfigIds": map[string]any{},
				"retryQueue":            true,
			},
		},
		"plan": map[string]any{
			"track":    map[string]any{"__default": map[string]any{"enabled": true, "integrations": map[string]any{}}},
			"identify": map[string]any{"__default": map[string]any{"enabled": true}},
			"group":    map[string]any{"__default": map[string]any{"enabled": true}},
		},
		"edgeFunction":              map[string]any{},
		"analyticsNextEnabled":      true,
		"middlewareSettings":        map[string]any{},
		"enabledMiddleware":         map[string]any{},
		"metrics":                   map[string]any{"sampleRate": 0, "host": host},
		"legacyVideoPluginsEnabled": false,
		"remotePlugins":             []any{},
	}
}
