package httpapi

import (
	"net/http"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/measure"
)

// maxReportDays bounds one report's span.
const maxReportDays = 400

// getDailyReport answers GET /admin/api/reports/daily?from=…&to=…: the
// consent-free measurement aggregates, every measure suppressed below 5
// distinct contributors (DESIGN principle 5).
func (s *Server) getDailyReport(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.readCredential(r)
	if err != nil {
		return err
	}
	if p == nil || p.Kind != auth.KindAdmin {
		return tact.Errorf(tact.EFORBIDDEN, "reports need an admin token")
	}
	q := r.URL.Query()
	from, err1 := time.Parse(time.DateOnly, q.Get("from"))
	to, err2 := time.Parse(time.DateOnly, q.Get("to"))
	if err1 != nil || err2 != nil {
		return tact.Errorf(tact.EINVALID, "from and to must be dates (YYYY-MM-DD)")
	}
	if to.Before(from) || to.Sub(from) > maxReportDays*24*time.Hour {
		return tact.Errorf(tact.EINVALID, "to must be on or after from, at most %d days later", maxReportDays)
	}
	if s.Measure != nil {
		// Include what is still in memory.
		if err := s.Store.AddMeasurements(r.Context(), s.Measure.Flush()); err != nil {
			return err
		}
	}
	cells, err := s.Store.Measurements(r.Context(), from, to)
	if err != nil {
		return err
	}
	rows := measure.Suppress(cells, measure.DefaultThreshold)
	if rows == nil {
		rows = []measure.Row{}
	}
	mode := ""
	if s.Measure != nil {
		mode = s.Measure.Mode()
	}
	writeJSON(w, http.StatusOK, map[string]any{"mode": mode, "threshold": measure.DefaultThreshold, "rows": rows})
	return nil
}
