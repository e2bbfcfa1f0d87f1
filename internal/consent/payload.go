package consent

import (
	"encoding/json"

	"github.com/tact-cdp/tact/internal/strictjson"
)

// Payload is the JSON body of POST /v1/consent (DESIGN 5.2).
type Payload struct {
	WriteKey      string            `json:"writeKey,omitempty"`
	AnonymousID   string            `json:"anonymousId,omitempty"`
	UserID        string            `json:"userId,omitempty"`
	UserHash      string            `json:"userHash,omitempty"`
	Email         string            `json:"email,omitempty"`
	SubjectToken  string            `json:"subjectToken,omitempty"`
	NoticeVersion string            `json:"noticeVersion"`
	Choices       map[string]bool   `json:"choices"`
	Method        string            `json:"method"`
	GPC           bool              `json:"gpc,omitempty"`
	Evidence      map[string]string `json:"evidence,omitempty"`
	Locale        string            `json:"locale,omitempty"`
}

// MaxLocaleLen bounds a BCP 47 language tag.
const MaxLocaleLen = 35

// DecodePayload decodes a consent payload strictly: valid UTF-8, no
// duplicate keys, no unknown fields, one JSON object.
func DecodePayload(raw []byte) (Payload, error) {
	var p Payload
	if err := strictjson.Decode(raw, &p); err != nil {
		return p, err
	}
	return p, nil
}

// Encode is the payload's JSON form.
func (p Payload) Encode() []byte {
	b, _ := json.Marshal(p)
	return b
}

// Request turns the payload into a decision request; gpcHeader is the
// Sec-GPC request header's signal and token a subject token from elsewhere
// (Bearer header or cookie) used when the body has none.
func (p Payload) Request(gpcHeader bool, token string) Request {
	if p.SubjectToken != "" {
		token = p.SubjectToken
	}
	return Request{
		AnonymousID: p.AnonymousID, UserID: p.UserID, UserHash: p.UserHash, Email: p.Email,
		SubjectToken: token, NoticeVersion: p.NoticeVersion, Choices: p.Choices,
		Method: Method(p.Method), GPC: p.GPC || gpcHeader, Evidence: p.Evidence, Locale: p.Locale,
	}
}
