package consent

import (
	"bytes"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/datamap"
)

func fuzzNotice(pol *Policy) NoticeRecord {
	n := NoticeRecord{Version: pol.NoticeVersion, Purposes: map[string]PurposeRule{}}
	for _, r := range pol.Purposes() {
		n.Purposes[r.ID] = r
	}
	return n
}

// FuzzConsentPayload: the payload decoder never panics, and an accepted
// payload re-encodes to a payload that decodes to the same canonical receipt.
func FuzzConsentPayload(f *testing.F) {
	pol := NewPolicy(datamap.Default())
	notice := fuzzNotice(pol)
	v := pol.NoticeVersion
	for _, s := range []string{
		`{"noticeVersion":"` + v + `","method":"banner","choices":{"analytics":true,"advertising":false}}`,
		`{"anonymousId":"a-1","subjectToken":"st1.x.y","noticeVersion":"` + v + `","method":"privacy_center","choices":{"personalization":true},"locale":"zh-CN"}`,
		`{"userId":"u","userHash":"00","email":"A@B.example","noticeVersion":"` + v + `","method":"api","choices":{"marketing_email":true},"evidence":{"banner":"v3"}}`,
		`{"noticeVersion":"` + v + `","method":"gpc","gpc":true,"choices":{}}`,
		`{"noticeVersion":"` + v + `","method":"banner","choices":{"analytics":true,"analytics":false}}`,
		`{"noticeVersion":"` + v + `","method":"banner","choices":{"sensitive_personalization":true,"analytics":true}}`,
		"{\"noticeVersion\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	refs := []SubjectRef{{Kind: "anonymous_id", Pseudonym: "00ff"}}
	build := func(p Payload) (Receipt, bool) {
		req := p.Request(false, "")
		if _, err := checkRequest(&req, notice); err != nil || req.NoticeVersion != notice.Version {
			return Receipt{}, false
		}
		choices := map[string]bool{}
		for id, g := range req.Choices {
			if !notice.Purposes[id].Required {
				choices[id] = g
			}
		}
		if len(choices) == 0 {
			return Receipt{}, false
		}
		r, _ := buildReceipt(pol, notice, Subject{State: State{}}, refs, choices, req.Method, AuthorityBrowser, req.GPC, req, "rc_"+"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", now)
		return r, true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodePayload(data)
		if err != nil {
			return
		}
		r1, ok := build(p)
		if !ok {
			return
		}
		p2, err := DecodePayload(p.Encode())
		if err != nil {
			t.Fatalf("re-encoded payload does not decode: %v\n%s", err, p.Encode())
		}
		r2, ok := build(p2)
		if !ok {
			t.Fatalf("re-encoded payload is no longer accepted: %s", p.Encode())
		}
		c1, c2 := r1.Canonical(), r2.Canonical()
		if !bytes.Equal(c1, c2) {
			t.Fatalf("receipts differ after re-encoding:\n%s\n%s", c1, c2)
		}
		parsed, err := ParseReceipt(c1)
		if err != nil {
			t.Fatalf("a receipt tact built does not parse: %v\n%s", err, c1)
		}
		if !bytes.Equal(parsed.Canonical(), c1) {
			t.Fatalf("canonical form is not stable:\n%s\n%s", c1, parsed.Canonical())
		}
	})
}

// FuzzReceiptCanonical: parse → canonicalise → parse is stable, and the
// canonical form is a fixed point.
func FuzzReceiptCanonical(f *testing.F) {
	pol := NewPolicy(datamap.Default())
	notice := fuzzNotice(pol)
	r, _ := buildReceipt(pol, notice, Subject{State: State{}}, []SubjectRef{{Kind: "user_id", Pseudonym: "ab"}, {Kind: "anonymous_id", Pseudonym: "cd"}},
		map[string]bool{"analytics": true, "marketing_email": true}, MethodBanner, AuthorityServer, false,
		Request{Locale: "en", Evidence: map[string]string{"z": "1", "a": "2"}}, "rc_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", time.Date(2026, 1, 31, 23, 59, 59, 123456789, time.UTC))
	f.Add(r.Canonical())
	f.Add([]byte(`{"schema":"tact-receipt/1","receiptId":"rc_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","timestamp":"2026-01-01T01:00:00+01:00","controller":"x","noticeVersion":"v","language":"","jurisdiction":"opt_in","method":"api","authority":"server_key","gpc":false,"subjects":[{"kind":"b","pseudonym":"2"},{"kind":"a","pseudonym":"1"}],"purposes":[{"id":"b","version":"1","legalBasis":"consent","granted":false},{"id":"a","version":"1","legalBasis":"consent","granted":true}],"expires":"2027-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r1, err := ParseReceipt(data)
		if err != nil {
			return
		}
		c1 := r1.Canonical()
		r2, err := ParseReceipt(c1)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, c1)
		}
		if c2 := r2.Canonical(); !bytes.Equal(c1, c2) {
			t.Fatalf("canonical form is not stable:\n%s\n%s", c1, c2)
		}
	})
}
