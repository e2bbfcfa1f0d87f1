package strictjson

import (
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	type body struct {
		A string         `json:"a"`
		B map[string]any `json:"b"`
	}
	tests := []struct {
		in, wantErr string
	}{
		{`{"a":"x","b":{"c":1,"d":[{"e":1},{"e":2}]}}`, ""},
		{`{"a":"x","a":"y"}`, `duplicate key "a"`},
		{`{"b":{"c":1,"c":2}}`, `duplicate key "c"`},
		{`{"b":{"d":[{"e":1,"e":2}]}}`, `duplicate key "e"`},
		{`{"a":"x"} {}`, "data after"},
		{`{"z":1}`, "unknown field"},
		{"{\"a\":\"\xff\"}", "UTF-8"},
		{`{"a":1}`, `field "a" must be string`},
		{`{"a":`, "truncated"},
		{``, "empty"},
	}
	for _, tt := range tests {
		var b body
		err := Decode([]byte(tt.in), &b)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("Decode(%q) = %v, want nil", tt.in, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("Decode(%q) = %v, want error containing %q", tt.in, err, tt.wantErr)
		}
	}
}

func FuzzCheckDuplicates(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"a":2}}`))
	f.Add([]byte(`[{"a":1},{"a":1}]`))
	f.Add([]byte(`{"a":1,"a":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Never panics; a document with a duplicate never decodes.
		if CheckDuplicates(data) != nil {
			var v any
			if Decode(data, &v) == nil {
				t.Fatalf("Decode accepted %q that CheckDuplicates rejects", data)
			}
		}
	})
}
