package httpapi_test

import (
	"encoding/json"
	"fmt"

	"github.com/tact-cdp/tact/internal/datamap"
)

// reparse renders a modified map back to a config file and parses it, so
// that versions are computed as in production.
func reparse(m *datamap.Map) (*datamap.Map, error) {
	purposes := map[string]any{}
	for _, p := range m.Purposes {
		purposes[p.ID] = map[string]any{"description": p.Description}
	}
	b, err := json.Marshal(map[string]any{"purposes": purposes})
	if err != nil {
		return nil, err
	}
	out, err := datamap.Parse("test.json", b)
	if err != nil {
		return nil, fmt.Errorf("reparse: %w", err)
	}
	return out, nil
}
