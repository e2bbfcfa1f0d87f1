package rights

import (
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/datamap"
)

// DueAt is when a request received at received must be answered under the
// regime: GDPR and UK GDPR one calendar month (a month without the same day
// ends on its last day), CCPA 45 days — verification time included — and
// PIPL the shop's configured policy.
func DueAt(reg datamap.Regime, received time.Time) time.Time {
	return reg.ResponseDeadline.AddTo(received)
}

// Resume moves a request's due dates on by the time its clock stood still
// while the shopper's identity was awaited (UK: paused), and starts it
// again.
func Resume(r *Request, now time.Time) {
	if r.PausedAt.IsZero() {
		return
	}
	stopped := now.Sub(r.PausedAt)
	if stopped > 0 {
		r.DueAt = r.DueAt.Add(stopped)
		r.FirstDueAt = r.FirstDueAt.Add(stopped)
	}
	r.PausedAt = time.Time{}
}

// Extend moves the due date by days, with a reason the shopper is told. The
// regime must allow an extension (GDPR Art. 12(3): up to two further
// months; CCPA: 45 more days), it may be given only while the first period
// runs, and the extensions together may not go beyond the regime's limit.
func Extend(reg datamap.Regime, r *Request, days int, reason string, now time.Time) error {
	switch {
	case !r.Status.Open():
		return tact.Errorf(tact.ECONFLICT, "request %s is %s: only an open request can be extended", r.ID, r.Status)
	case reason == "":
		return tact.Errorf(tact.EINVALID, "an extension needs a reason for the shopper")
	case days < 1:
		return tact.Errorf(tact.EINVALID, "--days must be at least 1")
	case reg.Extension.IsZero():
		return tact.Errorf(tact.EINVALID, "the %s regime allows no extension", reg.ID)
	case !now.Before(r.FirstDueAt):
		return tact.Errorf(tact.ECONFLICT, "the first period ended on %s: an extension had to be given before then", r.FirstDueAt.Format(time.DateOnly))
	}
	limit := reg.Extension.AddTo(r.FirstDueAt)
	due := r.DueAt.AddDate(0, 0, days)
	if due.After(limit) {
		return tact.Errorf(tact.EINVALID, "the %s regime allows extending to %s at most (%s after the first due date)", reg.ID, limit.Format(time.DateOnly), reg.Extension)
	}
	r.DueAt, r.ExtensionReason = due, reason
	return nil
}

// Overdue reports whether an open request is past its due date.
func Overdue(r Request, now time.Time) bool {
	return r.Status.Open() && r.PausedAt.IsZero() && now.After(r.DueAt)
}
