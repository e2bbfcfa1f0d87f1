package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/store"
	"github.com/tact-cdp/tact/internal/vault"
)

// Access purposes that see all of a subject's records (DESIGN 5.5); any
// other declared purpose must be a consent purpose and sees only what is
// stored under it and still granted.
var accessPurposes = []string{"support", "dsr", "audit", "security"}

const (
	subjectPageDefault = 100
	subjectPageMax     = 500
)

// getSubject answers GET /admin/api/subjects: one shopper's consent, traits
// and events, as far as the declared purpose allows, after writing the
// access to the audit log.
func (s *Server) getSubject(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, _, err := s.readCredential(r)
	if err != nil {
		return err
	}
	if p == nil || p.Kind != auth.KindAdmin {
		return tact.Errorf(tact.EFORBIDDEN, "reading a shopper needs an admin token")
	}
	purpose := r.Header.Get("X-Tact-Purpose")
	pol := s.Consent.Policy()
	all := slices.Contains(accessPurposes, purpose)
	if !all {
		if _, ok := pol.Purpose(purpose); !ok {
			return tact.Errorf(tact.EINVALID, "X-Tact-Purpose must be support, dsr, audit, security or a processing purpose")
		}
	}
	q := r.URL.Query()
	var kind vault.Kind
	var raw string
	n := 0
	for _, c := range []struct {
		param string
		kind  vault.Kind
	}{{"userId", vault.KindUserID}, {"anonymousId", vault.KindAnonymousID}, {"email", vault.KindEmail}} {
		if v := q.Get(c.param); v != "" {
			kind, raw = c.kind, v
			n++
		}
	}
	if n != 1 {
		return tact.Errorf(tact.EINVALID, "name the shopper with exactly one of userId, anonymousId or email")
	}
	value, err := vault.Normalize(kind, raw)
	if err != nil {
		return tact.Errorf(tact.EINVALID, "%s is not a valid identifier", kind)
	}
	after := int64(0)
	if c := q.Get("cursor"); c != "" {
		if after, err = strconv.ParseInt(c, 10, 64); err != nil || after < 0 {
			return tact.Errorf(tact.EINVALID, "cursor is not one this API returned")
		}
	}
	limit := subjectPageDefault
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > subjectPageMax {
			return tact.Errorf(tact.EINVALID, "limit must be 1 to %d", subjectPageMax)
		}
	}

	// The access is on record before anything is answered.
	if err := s.Store.AppendAudit(ctx, store.AuditEntry{
		At: time.Now(), Actor: p.ID, Role: p.Role, Purpose: purpose, Action: "subjects.read",
		Subject: s.Collect.AuditPseudonym(kind, value), Fields: "consent,traits,events",
		Detail: "cursor=" + strconv.FormatInt(after, 10),
	}); err != nil {
		return err
	}

	view, err := s.Collect.Read(ctx, kind, value, purpose, all, after, limit)
	if err != nil {
		return err
	}
	events := make([]map[string]any, 0, len(view.Events))
	for _, e := range view.Events {
		ev := map[string]any{
			"messageId": e.MessageID, "type": e.Type, "occurredAt": e.OccurredAt.Format(time.RFC3339Nano),
			"receivedAt": e.ReceivedAt.Format(time.RFC3339Nano), "purposes": e.Purposes, "receiptId": nullable(e.ReceiptID),
			"payload": json.RawMessage(e.Payload),
		}
		if e.Event != "" {
			ev["event"] = e.Event
		}
		events = append(events, ev)
	}
	out := map[string]any{
		"subject": view.Subject.ID, "purpose": purpose,
		"consent": pol.View(view.Subject.State, view.Subject.Flags(), time.Now()),
		"traits":  view.Traits, "events": events, "next": nil,
	}
	if view.Next > 0 {
		out["next"] = strconv.FormatInt(view.Next, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
