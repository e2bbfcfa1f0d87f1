package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/marketing"
	"github.com/tact-cdp/tact/internal/strictjson"
)

// Audience definitions are small; this bounds what is parsed.
const limitAudience = 64 << 10

// marketer checks an admin token whose role may run marketing (admin or
// marketer).
func (s *Server) marketer(r *http.Request) (string, error) {
	p, _, err := s.readCredential(r)
	if err != nil {
		return "", err
	}
	if p == nil || p.Kind != auth.KindAdmin || !slices.Contains([]string{"admin", "marketer"}, p.Role) {
		return "", tact.Errorf(tact.EFORBIDDEN, "audiences and destinations need an admin token with the admin or marketer role")
	}
	return p.ID, nil
}

func (s *Server) postAudience(w http.ResponseWriter, r *http.Request) error {
	by, err := s.marketer(r)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	info, created, err := s.Marketing.Create(r.Context(), raw, by)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, info)
	return nil
}

func (s *Server) listAudiences(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.marketer(r); err != nil {
		return err
	}
	all, err := s.Marketing.Audiences(r.Context())
	if err != nil {
		return err
	}
	if all == nil {
		all = []marketing.AudienceInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"audiences": all})
	return nil
}

func (s *Server) getAudience(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.marketer(r); err != nil {
		return err
	}
	info, err := s.Marketing.Audience(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

// postAudienceExport streams an audience to a file destination's format.
func (s *Server) postAudienceExport(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.marketer(r); err != nil {
		return err
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "jsonl"
	}
	// Build the export in memory first: a refusal must not leave a
	// half-written answer.
	var buf bytesBuffer
	res, err := s.Marketing.Export(r.Context(), r.PathValue("id"), q.Get("destination"), format, &buf, nil)
	if err != nil {
		return err
	}
	ct := "application/x-ndjson"
	if format == "csv" {
		ct = "text/csv; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Tact-Export-Members", itoa(res.Members))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.b)
	return nil
}

type destinationBody struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	URL         string   `json:"url"`
	Recipient   string   `json:"recipient"`
	Purpose     string   `json:"purpose"`
	Fields      []string `json:"fields"`
	MaxAttempts int      `json:"maxAttempts"`
}

func (s *Server) postDestination(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.marketer(r); err != nil {
		return err
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	var b destinationBody
	if err := strictjson.Decode(raw, &b); err != nil {
		return tact.Errorf(tact.EINVALID, "%v", err)
	}
	d, secret, err := s.Marketing.AddDestination(r.Context(), marketing.Destination{ID: b.ID, Name: b.Name, Kind: b.Kind, URL: b.URL,
		Recipient: b.Recipient, Purpose: b.Purpose, Fields: b.Fields, MaxAttempts: b.MaxAttempts})
	if err != nil {
		return err
	}
	out := map[string]any{"destination": d}
	if secret != "" {
		out["secret"] = secret
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) listDestinations(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.marketer(r); err != nil {
		return err
	}
	all, err := s.Marketing.Destinations(r.Context())
	if err != nil {
		return err
	}
	if all == nil {
		all = []marketing.DestinationInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"destinations": all})
	return nil
}

func (s *Server) postDestinationTest(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.marketer(r); err != nil {
		return err
	}
	status, err := s.Marketing.Test(r.Context(), r.PathValue("id"))
	out := map[string]any{"status": status, "ok": err == nil && status >= 200 && status < 300}
	if err != nil {
		if c := tact.ErrorCode(err); c == tact.EINVALID || c == tact.ENOTFOUND {
			return err
		}
		out["error"] = err.Error()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) postDestinationSync(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.marketer(r); err != nil {
		return err
	}
	var b struct {
		Audience string `json:"audience"`
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if err := strictjson.Decode(raw, &b); err != nil {
		return tact.Errorf(tact.EINVALID, "%v", err)
	}
	res, err := s.Marketing.Sync(r.Context(), b.Audience, r.PathValue("id"), nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) getPropagations(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.marketer(r); err != nil {
		return err
	}
	ps, err := s.Marketing.Store.Propagations(r.Context(), r.PathValue("id"), r.URL.Query().Get("open") == "true")
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []marketing.Propagation{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"propagations": ps})
	return nil
}

// postSoftOptIn records a soft opt-in offered at checkout (server key).
func (s *Server) postSoftOptIn(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.readCredential(r)
	if err != nil {
		return err
	}
	if p == nil || p.Kind != auth.KindServer {
		return tact.Errorf(tact.EFORBIDDEN, "the soft opt-in is recorded with a server key")
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	var b struct {
		UserID string `json:"userId"`
		Email  string `json:"email"`
		Locale string `json:"locale"`
	}
	if err := strictjson.Decode(raw, &b); err != nil {
		return tact.Errorf(tact.EINVALID, "%v", err)
	}
	res, err := s.OptIn.SoftOptIn(r.Context(), p.ID, b.UserID, b.Email, b.Locale)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"receiptId": res.ReceiptID, "leafIndex": res.LeafIndex, "state": res.State})
	return nil
}

type bytesBuffer struct{ b []byte }

func (b *bytesBuffer) Write(p []byte) (int, error) { b.b = append(b.b, p...); return len(p), nil }

func itoa(n int) string { j, _ := json.Marshal(n); return string(j) }
