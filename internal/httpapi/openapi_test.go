package httpapi_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tact-cdp/tact/internal/httpapi"
	"github.com/tact-cdp/tact/internal/marketing"
	"github.com/tact-cdp/tact/internal/optin"
)

// The OpenAPI document lists exactly the /v1 routes tact serves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	s := &httpapi.Server{OptIn: &optin.Service{}, Marketing: &marketing.Service{}}
	s.Handler()
	var served []string
	for _, p := range s.Patterns() {
		method, path, ok := strings.Cut(p, " ")
		if ok && strings.HasPrefix(path, "/v1/") && method != "OPTIONS" {
			// {name...} (rest of the path) is {name} in OpenAPI.
			served = append(served, method+" "+strings.ReplaceAll(path, "...}", "}"))
		}
	}
	slices.Sort(documented)
	slices.Sort(served)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is served but not in openapi.json", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("openapi.json documents %s, which is not served", r)
		}
	}
	if doc.OpenAPI != "3.1.0" || len(served) < 8 {
		t.Errorf("openapi %q, %d /v1 routes", doc.OpenAPI, len(served))
	}
}

func TestOpenAPIServed(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var doc map[string]any
		e.getJSON("/v1/openapi.json", &doc)
		if doc["openapi"] != "3.1.0" {
			t.Errorf("GET /v1/openapi.json: %v", doc["openapi"])
		}
	})
}
