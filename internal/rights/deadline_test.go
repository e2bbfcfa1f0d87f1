package rights

import (
	"testing"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/datamap"
)

func regime(t *testing.T, id string) datamap.Regime {
	t.Helper()
	r, ok := datamap.Default().Regime(id)
	if !ok {
		t.Fatalf("no regime %s", id)
	}
	return r
}

func day(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// GDPR Art. 12(3): one month from receipt, counted as calendar months
// (Regulation 1182/71 Art. 3(2)(c): a month without the same day ends on its
// last day).
func TestGDPRDueDateIsOneCalendarMonth(t *testing.T) {
	gdpr := regime(t, "opt_in")
	for _, c := range []struct{ received, due string }{
		{"2026-01-15T10:00:00Z", "2026-02-15T10:00:00Z"},
		{"2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z"},
		{"2028-01-31T10:00:00Z", "2028-02-29T10:00:00Z"}, // leap year
		{"2026-03-31T23:59:00Z", "2026-04-30T23:59:00Z"},
		{"2026-12-31T08:00:00Z", "2027-01-31T08:00:00Z"},
	} {
		if got := DueAt(gdpr, day(c.received)); !got.Equal(day(c.due)) {
			t.Errorf("received %s: due %s, want %s", c.received, got.Format(time.RFC3339), c.due)
		}
	}
}

func TestCCPADueDateIs45DaysAndVerificationDoesNotStopIt(t *testing.T) {
	ccpa := regime(t, "opt_out")
	received := day("2026-11-30T12:00:00Z")
	r := Request{ID: "r", Status: StatusPendingVerification, ReceivedAt: received, DueAt: DueAt(ccpa, received)}
	r.FirstDueAt = r.DueAt
	if want := day("2027-01-14T12:00:00Z"); !r.DueAt.Equal(want) {
		t.Fatalf("due %s, want %s (45 days)", r.DueAt, want)
	}
	// CCPA does not pause for identity: a request filed under it is never
	// paused, so verifying ten days later leaves the due date where it was.
	if ccpa.PauseForIdentity {
		t.Fatal("the CCPA regime must not pause the clock")
	}
	Resume(&r, received.AddDate(0, 0, 10))
	if !r.DueAt.Equal(day("2027-01-14T12:00:00Z")) {
		t.Errorf("verification moved the CCPA due date to %s", r.DueAt)
	}
	// +45 days with notice, once: 46 is too many.
	if err := Extend(ccpa, &r, 46, "complex request", received.AddDate(0, 0, 20)); tact.ErrorCode(err) != tact.EINVALID {
		t.Errorf("extending by 46 days: %v", err)
	}
	if err := Extend(ccpa, &r, 45, "complex request", received.AddDate(0, 0, 20)); err != nil {
		t.Fatal(err)
	}
	if want := day("2027-02-28T12:00:00Z"); !r.DueAt.Equal(want) {
		t.Errorf("extended due %s, want %s", r.DueAt, want)
	}
}

func TestUKClockPausesWhileIdentityIsAwaited(t *testing.T) {
	uk := regime(t, "uk")
	received := day("2026-11-30T12:00:00Z")
	r := Request{ID: "r", Status: StatusPaused, ReceivedAt: received, PausedAt: received, DueAt: DueAt(uk, received)}
	r.FirstDueAt = r.DueAt
	if Overdue(r, received.AddDate(1, 0, 0)) {
		t.Error("a paused request counts as overdue")
	}
	Resume(&r, received.Add(72*time.Hour))
	if want := day("2027-01-02T12:00:00Z"); !r.DueAt.Equal(want) || !r.FirstDueAt.Equal(want) {
		t.Errorf("after 3 paused days due %s (first %s), want %s", r.DueAt, r.FirstDueAt, want)
	}
}

// GDPR Art. 12(3): an extension of up to two further months, only while the
// first month runs, and only with reasons.
func TestGDPRExtensionRules(t *testing.T) {
	gdpr := regime(t, "opt_in")
	received := day("2026-01-31T09:00:00Z")
	fresh := func() Request {
		r := Request{ID: "r", Status: StatusInProgress, ReceivedAt: received, DueAt: DueAt(gdpr, received)}
		r.FirstDueAt = r.DueAt
		return r
	}
	r := fresh()
	if err := Extend(gdpr, &r, 30, "", received.AddDate(0, 0, 5)); tact.ErrorCode(err) != tact.EINVALID {
		t.Errorf("an extension without a reason: %v", err)
	}
	if err := Extend(gdpr, &r, 30, "many systems", r.FirstDueAt); tact.ErrorCode(err) != tact.ECONFLICT {
		t.Errorf("an extension on the first due date itself: %v, want refused", err)
	}
	if err := Extend(gdpr, &r, 30, "many systems", r.FirstDueAt.Add(24*time.Hour)); tact.ErrorCode(err) != tact.ECONFLICT {
		t.Errorf("an extension after the first month: %v, want refused", err)
	}
	// Two months after 28 Feb is 28 Apr: 60 days is fine, 62 is not.
	if err := Extend(gdpr, &r, 62, "many systems", received.AddDate(0, 0, 5)); tact.ErrorCode(err) != tact.EINVALID {
		t.Errorf("an extension beyond two months: %v", err)
	}
	if err := Extend(gdpr, &r, 59, "many systems", received.AddDate(0, 0, 5)); err != nil {
		t.Fatal(err)
	}
	if want := day("2026-04-28T09:00:00Z"); !r.DueAt.Equal(want) || r.ExtensionReason != "many systems" {
		t.Errorf("due %s reason %q, want %s", r.DueAt, r.ExtensionReason, want)
	}
	closed := fresh()
	closed.Status = StatusCompleted
	if err := Extend(gdpr, &closed, 5, "x", received); tact.ErrorCode(err) != tact.ECONFLICT {
		t.Errorf("extending a completed request: %v", err)
	}
	pipl := regime(t, "pipl")
	p := fresh()
	if err := Extend(pipl, &p, 5, "x", received); tact.ErrorCode(err) != tact.EINVALID {
		t.Errorf("PIPL default allows no extension: %v", err)
	}
}
