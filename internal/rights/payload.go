package rights

import (
	"fmt"
	"unicode/utf8"

	"github.com/tact-cdp/tact/internal/strictjson"
)

// Payload is the JSON body of POST /v1/requests (DESIGN 5.4).
type Payload struct {
	Type         string         `json:"type"`
	Email        string         `json:"email,omitempty"`
	UserID       string         `json:"userId,omitempty"`
	SubjectToken string         `json:"subjectToken,omitempty"`
	Jurisdiction string         `json:"jurisdiction,omitempty"`
	Locale       string         `json:"locale,omitempty"`
	Purposes     []string       `json:"purposes,omitempty"`
	Traits       map[string]any `json:"traits,omitempty"`
	WriteKey     string         `json:"writeKey,omitempty"`
}

// Limits of a filing.
const (
	MaxPayload   = 16 << 10
	maxField     = 512
	maxPurposes  = 32
	maxTraitKeys = 64
)

// DecodePayload decodes a filing strictly: one JSON object, valid UTF-8, no
// duplicate keys, no unknown fields, bounded fields.
func DecodePayload(raw []byte) (Payload, error) {
	var p Payload
	if len(raw) > MaxPayload {
		return p, fmt.Errorf("the request is over %d bytes", MaxPayload)
	}
	if err := strictjson.Decode(raw, &p); err != nil {
		return p, err
	}
	if p.Type == "" {
		return p, fmt.Errorf("type is required")
	}
	for name, v := range map[string]string{"type": p.Type, "email": p.Email, "userId": p.UserID, "jurisdiction": p.Jurisdiction, "locale": p.Locale, "writeKey": p.WriteKey} {
		if len(v) > maxField || !utf8.ValidString(v) {
			return p, fmt.Errorf("%s is too long", name)
		}
	}
	if len(p.SubjectToken) > 4096 {
		return p, fmt.Errorf("subjectToken is too long")
	}
	if len(p.Purposes) > maxPurposes {
		return p, fmt.Errorf("at most %d purposes", maxPurposes)
	}
	if len(p.Traits) > maxTraitKeys {
		return p, fmt.Errorf("at most %d traits", maxTraitKeys)
	}
	return p, nil
}

// Filing turns the payload into a filing; token is a subject token from
// elsewhere (cookie) used when the body has none.
func (p Payload) Filing(token string) Filing {
	if p.SubjectToken != "" {
		token = p.SubjectToken
	}
	return Filing{Type: Type(p.Type), Email: p.Email, UserID: p.UserID, SubjectToken: token,
		Jurisdiction: p.Jurisdiction, Locale: p.Locale, Purposes: p.Purposes, Traits: p.Traits}
}
