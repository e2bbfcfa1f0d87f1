package httpapi

import (
	"strings"

	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/consent"
)

type consentAnswer struct {
	ReceiptID    *string                        `json:"receiptId"`
	LeafIndex    *int64                         `json:"leafIndex"`
	ReceiptIDs   []string                       `json:"receiptIds,omitempty"`
	AnonymousID  string                         `json:"anonymousId,omitempty"`
	SubjectToken string                         `json:"subjectToken,omitempty"`
	State        map[string]consent.PurposeView `json:"state"`
}

func (s *Server) postConsent(w http.ResponseWriter, r *http.Request) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	body, err := consent.DecodePayload(raw)
	if err != nil {
		return tact.Errorf(tact.EINVALID, "%v", err)
	}
	p, headerToken, err := s.writeCredential(r, body.WriteKey)
	if err != nil {
		return err
	}
	s.allowOrigin(w, r, &p)
	token := headerToken
	if token == "" {
		if c, err := r.Cookie(subjectCookie); err == nil {
			token = c.Value
		}
	}
	res, err := s.Consent.Record(r.Context(), consent.Caller{Server: p.Kind == auth.KindServer, KeyID: p.ID},
		body.Request(r.Header.Get("Sec-GPC") == "1", token))
	if err != nil {
		return err
	}
	ans := consentAnswer{ReceiptIDs: res.ReceiptIDs, AnonymousID: res.AnonymousID, SubjectToken: res.SubjectToken, State: res.State}
	status := http.StatusOK
	if res.ReceiptID != "" {
		ans.ReceiptID, ans.LeafIndex = &res.ReceiptID, &res.LeafIndex
		status = http.StatusCreated
	}
	for range res.ReceiptIDs {
		s.metrics.receipts.WithLabelValues(body.Method).Inc()
	}
	if res.SubjectToken != "" && p.Kind == auth.KindWrite {
		s.setSubjectCookie(w, res.SubjectToken)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, ans)
	return nil
}

func (s *Server) getConsent(w http.ResponseWriter, r *http.Request) error {
	p, token, err := s.readCredential(r)
	if err != nil {
		return err
	}
	s.allowOrigin(w, r, nil)
	server := p != nil && p.Kind == auth.KindServer
	if p != nil && !server {
		return tact.Errorf(tact.EFORBIDDEN, "reading a shopper's consent needs a server key or their subject token")
	}
	q := r.URL.Query()
	subj, state, err := s.Consent.State(r.Context(), server, consent.Lookup{
		AnonymousID: q.Get("anonymousId"), UserID: q.Get("userId"), SubjectToken: token,
	})
	var subject *string
	switch {
	case err == consent.ErrNoShopper:
	case err != nil:
		return err
	default:
		subject = &subj.ID
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"subject": subject, "state": state})
	return nil
}

func (s *Server) getReceipt(w http.ResponseWriter, r *http.Request) error {
	s.allowOrigin(w, r, nil)
	v, err := s.Ledger.Receipt(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if v.Pending {
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) getCheckpoint(w http.ResponseWriter, r *http.Request) error {
	cp, err := s.Ledger.CutCheckpointIfNone(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"origin": s.Ledger.Signer().Origin(), "size": cp.Size, "rootHash": cp.Root,
		"time": cp.CreatedAt.Format(time.RFC3339), "checkpoint": cp.Signed,
	})
	return nil
}

func (s *Server) getConsistency(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, err1 := strconv.ParseInt(q.Get("from"), 10, 64)
	to, err2 := strconv.ParseInt(q.Get("to"), 10, 64)
	if err1 != nil || err2 != nil {
		return tact.Errorf(tact.EINVALID, "from and to must be checkpoint sizes")
	}
	v, err := s.Ledger.Consistency(r.Context(), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) getLedgerKey(w http.ResponseWriter, r *http.Request) error {
	sg := s.Ledger.Signer()
	writeJSON(w, http.StatusOK, map[string]any{
		"origin": sg.Origin(), "algorithm": "ed25519", "publicKey": sg.PublicKey(), "verifierKey": sg.VerifierKey(),
		"format": "C2SP tlog-checkpoint signed note; RFC 6962 hashing",
	})
	return nil
}

func (s *Server) getGPC(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"gpc": true, "lastUpdate": s.GPCUpdated.Format("2006-01-02")})
	return nil
}

func (s *Server) getNotice(w http.ResponseWriter, r *http.Request) error {
	s.allowOrigin(w, r, nil)
	locale := r.URL.Query().Get("locale")
	if len(locale) > 35 {
		return tact.Errorf(tact.EINVALID, "locale is not a language tag")
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, s.DataMap().Notice(locale))
	return nil
}

func (s *Server) getStats(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.readCredential(r)
	if err != nil {
		return err
	}
	if p == nil || p.Kind != auth.KindAdmin {
		return tact.Errorf(tact.EFORBIDDEN, "stats need an admin token")
	}
	st, err := s.Store.Stats(r.Context())
	if err != nil {
		return err
	}
	counts, err := s.Store.EventCounts(r.Context())
	if err != nil {
		return err
	}
	byStatus, _, err := s.Store.Requests().CountRequests(r.Context(), time.Now())
	if err != nil {
		return err
	}
	requests := map[string]int64{}
	for st, n := range byStatus {
		requests[string(st)] = n
	}
	dropped := map[string]int64{}
	for k, n := range counts {
		if reason, ok := strings.CutPrefix(k, "dropped."); ok {
			dropped[reason] = n
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"events":   map[string]any{"received": counts["received"], "stored": counts["stored"], "dropped": dropped},
		"receipts": st.Receipts,
		"subjects": st.Subjects,
		"requests": requests,
	})
	return nil
}
