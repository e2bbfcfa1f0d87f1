package rights

import (
	"context"
	"encoding/json"
	"io"
	"math"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/audit"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/rights/report"
	"github.com/tact-cdp/tact/internal/vault"
)

// ReportCSP is the Content-Security-Policy the HTML report needs.
const ReportCSP = report.HTMLStyleCSP

// readPage is how many events one read of the store opens: memory stays
// bounded by a page, however many events a shopper has.
const readPage = 500

var kindNames = map[vault.Kind]string{vault.KindEmail: "email", vault.KindUserID: "userId", vault.KindAnonymousID: "anonymousId"}

// WriteReport streams a completed access, portability or explanation
// request's report in format ("json" or "html"). The read is recorded in
// the audit log first (fail closed).
func (s *Service) WriteReport(ctx context.Context, w io.Writer, r Request, format string) error {
	rep, events, err := s.buildReport(ctx, r)
	if err != nil {
		return err
	}
	fields := "identities,traits,consent,state,requests"
	if events != nil {
		fields += ",events"
	}
	if err := s.Data.AppendAudit(ctx, audit.Entry{
		At: s.Now(), Actor: "shopper:" + r.ID, Role: "data_subject", Purpose: "dsr", Action: "report." + format,
		Subject: s.Vault.Pseudonym(vault.UseAudit, "subject", r.SubjectID), Fields: fields, Detail: "verified_by=" + r.VerifiedBy,
	}); err != nil {
		return err
	}
	if events == nil {
		events = func(func(report.Event) error) error { return nil }
	}
	// The renderers buffer and flush w (an http.ResponseWriter) as they go.
	if format == "html" {
		return report.WriteHTML(w, rep, events)
	}
	return report.WriteJSON(w, rep, events)
}

// buildReport gathers everything but the events, and returns the iterator
// that streams them (nil when the request may not reach them).
func (s *Service) buildReport(ctx context.Context, r Request) (*report.Report, report.Events, error) {
	reg, err := s.regime(r.Regime)
	if err != nil {
		return nil, nil, err
	}
	rep := &report.Report{
		RequestID: r.ID, GeneratedAt: s.Now().UTC(), Locale: r.Locale, Regime: reg, Map: s.DataMap(),
		Traits: map[string]any{}, State: map[string]report.PurposeState{},
	}
	d, _, err := s.detail(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	o := readOutcome(r)
	if r.SubjectID == "" {
		// tact holds nothing under the identifier: the report says so.
		rep.Subject = ""
		return rep, nil, nil
	}
	subj, err := s.Consent.Store().Subject(ctx, r.SubjectID)
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		return rep, nil, nil // erased since
	}
	if err != nil {
		return nil, nil, err
	}
	rep.Subject = s.Vault.Pseudonym(vault.UseAudit, "subject", r.SubjectID).String()
	pol := s.Consent.Policy()
	rep.Signals = signals(rep.Map, reg, pol, subj, s.Now(), r.Locale)
	for p, v := range pol.View(subj.State, subj.Flags(), s.Now()) {
		ps := report.PurposeState{Granted: v.Granted, Pending: v.Pending, ReceiptID: v.ReceiptID}
		if v.Since != nil {
			ps.Since = *v.Since
		}
		rep.State[p] = ps
	}
	ids, err := s.Data.SubjectIdentities(ctx, r.SubjectID)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		if o.BrowserOnly && id.Pseudonym != r.Target {
			continue // a subject token never reaches what is linked to it
		}
		ri := report.Identity{Kind: kindNames[id.Kind], Since: id.CreatedAt}
		if id.Pseudonym == r.Target {
			switch id.Kind {
			case vault.KindEmail:
				ri.Value = d.Email
			case vault.KindUserID:
				ri.Value = d.UserID
			}
		}
		rep.Identities = append(rep.Identities, ri)
	}
	past, err := s.Store.RequestsOfSubject(ctx, r.SubjectID)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range past {
		rep.Requests = append(rep.Requests, report.PastRequest{ID: p.ID, Type: string(p.Type), Status: string(p.Status), ReceivedAt: p.ReceivedAt, CompletedAt: p.CompletedAt})
	}
	if o.BrowserOnly {
		return rep, nil, nil
	}
	if s.Interests != nil {
		prof, err := s.Interests.Profile(ctx, r.SubjectID, s.Now())
		if err != nil {
			return nil, nil, err
		}
		for _, in := range prof.Interests {
			rep.Derived.Interests = append(rep.Derived.Interests, report.Interest{Category: in.Category, Score: math.Round(in.Score*1000) / 1000, Source: "events"})
		}
	}
	if s.Retargeting != nil {
		rep.Derived.Retargeting = s.Retargeting(r.SubjectID)
	}
	if s.Marketing != nil {
		rep.Derived.Audiences = s.Marketing.Memberships(r.SubjectID)
		if rep.Disclosures, err = s.Marketing.Disclosures(ctx, r.SubjectID); err != nil {
			return nil, nil, err
		}
	}
	receipts, err := s.Data.SubjectReceiptIDs(ctx, r.SubjectID)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range receipts {
		v, err := s.Ledger.Receipt(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		var body consent.Receipt
		if err := json.Unmarshal(v.Receipt, &body); err != nil {
			return nil, nil, err
		}
		rr := report.Receipt{ID: id, LeafIndex: v.LeafIndex, Method: string(body.Method), At: body.Timestamp,
			NoticeVersion: body.NoticeVersion, Choices: map[string]bool{}}
		for _, p := range body.Purposes {
			rr.Choices[p.ID] = p.Granted
		}
		if v.Proof != nil {
			rr.Proof, _ = json.Marshal(v)
		}
		rep.Consent = append(rep.Consent, rr)
	}
	// Traits: the latest value of each, from the identify calls.
	if err := s.readEvents(ctx, r.SubjectID, func(v []consentEvent, traits map[string]any) error {
		for k, t := range traits {
			rep.Traits[k] = t
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	events := func(yield func(report.Event) error) error {
		return s.readEvents(ctx, r.SubjectID, func(page []consentEvent, _ map[string]any) error {
			for _, e := range page {
				if err := yield(report.Event(e)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return rep, events, nil
}

type consentEvent = report.Event

// readEvents pages through a subject's stored events, opened, every
// purpose visible (a rights request sees all of a subject's records).
func (s *Service) readEvents(ctx context.Context, subjectID string, fn func([]consentEvent, map[string]any) error) error {
	after := int64(0)
	for {
		v, err := s.Collect.ReadSubject(ctx, subjectID, "", true, after, readPage)
		if err != nil {
			if tact.ErrorCode(err) == tact.ENOTFOUND {
				return nil
			}
			return err
		}
		page := make([]consentEvent, len(v.Events))
		for i, e := range v.Events {
			page[i] = consentEvent{MessageID: e.MessageID, Type: e.Type, Event: e.Event, OccurredAt: e.OccurredAt.UTC(),
				ReceivedAt: e.ReceivedAt.UTC(), Purposes: e.Purposes, ReceiptID: e.ReceiptID, Payload: e.Payload}
		}
		if err := fn(page, v.Traits); err != nil {
			return err
		}
		if v.Next == 0 {
			return nil
		}
		after = v.Next
	}
}
