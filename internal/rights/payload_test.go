package rights

import (
	"encoding/json"
	"testing"
)

func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{
		`{"type":"access","email":"a@example.com"}`,
		`{"type":"withdraw","userId":"u1","purposes":["analytics"]}`,
		`{"type":"rectify","email":"a@example.com","traits":{"name":"A"}}`,
		`{"type":"access","type":"erasure"}`,
		`{"type":"access","extra":1}`,
		`[]`, `{"type":"\xff"}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := DecodePayload(raw)
		if err != nil {
			return
		}
		if p.Type == "" || len(raw) > MaxPayload {
			t.Fatalf("accepted %q", raw)
		}
		// What was accepted is plain JSON that decodes the same way.
		var again Payload
		if err := json.Unmarshal(raw, &again); err != nil {
			t.Fatalf("accepted input encoding/json rejects: %v", err)
		}
		if again.Type != p.Type || again.Email != p.Email || again.UserID != p.UserID {
			t.Fatalf("decoders disagree: %+v vs %+v", p, again)
		}
	})
}
