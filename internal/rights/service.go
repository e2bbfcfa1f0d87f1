package rights

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/audit"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/interests"
	"github.com/tact-cdp/tact/internal/rights/report"
	"github.com/tact-cdp/tact/internal/subjecttoken"
	"github.com/tact-cdp/tact/internal/vault"
)

// Verification limits (DESIGN 5.4).
const (
	CodeTTL     = 15 * time.Minute
	MaxAttempts = 5
	ReportTTL   = 72 * time.Hour
	MailTTL     = 30 * 24 * time.Hour // how long the outbox keeps a mail
)

// Data is what requests do to a shopper's stored data.
type Data interface {
	ShredSubject(ctx context.Context, subjectID string) error
	PurgeSubject(ctx context.Context, subjectID string, limit int) (int64, bool, error)
	Compact(ctx context.Context) error
	Rebuild(ctx context.Context) error
	SubjectExists(ctx context.Context, subjectID string) (bool, error)
	SubjectIdentities(ctx context.Context, subjectID string) ([]consent.Identity, error)
	SubjectReceiptIDs(ctx context.Context, subjectID string) ([]string, error)
	SubjectKeys(ctx context.Context, subjectID string) ([]consent.StoredKey, error)
	RewriteEvents(ctx context.Context, subjectID, typ string, fn func(vault.KeyID, []byte) ([]byte, error)) (int, error)
	SetRestricted(ctx context.Context, subjectID string, at time.Time) error
	DetachIdentity(ctx context.Context, p vault.Pseudonym) error
	AppendAudit(ctx context.Context, e audit.Entry) error
}

// Deps are the services requests work with.
type Deps struct {
	Store     Store
	Data      Data
	Consent   *consent.Service
	Collect   *collect.Service
	Ledger    *consent.Ledger
	Vault     *vault.Vault
	Tokens    *subjecttoken.Issuer
	DataMap   func() *datamap.Map
	Journal   *Journal
	PublicURL string
	// Interests, when set, is where the shopper's interest profile comes
	// from (derived data in reports).
	Interests *interests.Service
	// Retargeting, when set, lists how often each item was shown back to
	// the shopper by recommendations, and until when that count lasts.
	Retargeting func(subjectID string) []report.Counter
	// Marketing, when set, names the audiences the shopper is in and the
	// recipients that actually received their data (the disclosure log),
	// and is told of erasures, rectifications and restrictions so that it
	// tells those recipients (GDPR Art. 19).
	Marketing Marketing
}

// Marketing is what requests need of audiences and destinations.
type Marketing interface {
	Memberships(subjectID string) []string
	Disclosures(ctx context.Context, subjectID string) ([]report.Disclosure, error)
	Propagate(ctx context.Context, subjectID, kind, ref string) error
}

// Kinds of change Marketing.Propagate tells recipients of.
const (
	PropagateErasure       = "erasure"
	PropagateRectification = "rectification"
	PropagateRestriction   = "restriction"
)

// Service files, verifies and answers data subject requests.
type Service struct {
	Deps
	codeKey []byte
	// SuppressFor is how long an erased shopper's identifiers stay
	// suppressed (time-bounded, DESIGN principle 6).
	SuppressFor time.Duration
	Now         func() time.Time
}

// New returns the service.
func New(d Deps) *Service {
	return &Service{Deps: d, codeKey: d.Vault.DeriveKey("requests/code-mac", 32), SuppressFor: 365 * 24 * time.Hour, Now: time.Now}
}

// Caller is who files a request.
type Caller struct {
	Server bool   // a server key: the shop vouches for a customer it authenticated
	KeyID  string // the credential's id
}

// Filing is a request as POST /v1/requests carries it.
type Filing struct {
	Type         Type
	Email        string
	UserID       string
	SubjectToken string
	Jurisdiction string // a regime id; the data map's default when empty
	Locale       string
	Purposes     []string       // withdraw / object: which purposes (default: all / direct marketing)
	Traits       map[string]any // rectify: the corrected traits
}

// Filed is the answer to a filing.
type Filed struct {
	ID     string
	Status Status
	DueAt  time.Time
	// RequestToken is returned at once when the caller proved who the
	// shopper is without a mailed code (a server key, a subject token).
	RequestToken string
	ReceiptIDs   []string
}

func newID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func newSecret() (string, []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	s := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(s))
	return s, h[:]
}

// ValidID reports whether s has the shape of a request id (so that other
// strings are refused before any lookup).
func ValidID(s string) bool {
	if len(s) != 4+26 || !strings.HasPrefix(s, "req_") {
		return false
	}
	for _, c := range s[4:] {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

func (s *Service) regime(id string) (datamap.Regime, error) {
	dm := s.DataMap()
	if id == "" {
		return dm.ActiveRegime(), nil
	}
	reg, ok := dm.Regime(id)
	if !ok {
		var ids []string
		for _, r := range dm.Regimes {
			ids = append(ids, r.ID)
		}
		return reg, tact.Errorf(tact.EINVALID, "jurisdiction must be one of %s", strings.Join(ids, ", "))
	}
	return reg, nil
}

// File records a request. Nothing about the shopper is looked up here, so
// the answer — and the time it takes — is the same whether or not tact knows
// them; requests that only stop processing take effect at once.
func (s *Service) File(ctx context.Context, caller Caller, f Filing) (*Filed, error) {
	now := s.Now().UTC().Truncate(time.Microsecond)
	if !f.Type.valid() {
		names := make([]string, len(Types))
		for i, t := range Types {
			names[i] = string(t)
		}
		return nil, tact.Errorf(tact.EINVALID, "type must be one of %s", strings.Join(names, ", "))
	}
	reg, err := s.regime(f.Jurisdiction)
	if err != nil {
		return nil, err
	}
	detail := Detail{Filed: "public"}
	if caller.Server {
		detail.Filed = "server_key:" + caller.KeyID
	}
	if f.Email != "" {
		if detail.Email, err = vault.Normalize(vault.KindEmail, f.Email); err != nil {
			return nil, tact.Errorf(tact.EINVALID, "email is not a valid address")
		}
	}
	if f.UserID != "" {
		if detail.UserID, err = vault.Normalize(vault.KindUserID, f.UserID); err != nil {
			return nil, tact.Errorf(tact.EINVALID, "userId is not a valid identifier")
		}
	}
	var claims *subjecttoken.Claims
	if f.SubjectToken != "" {
		c, err := s.Tokens.Verify(f.SubjectToken)
		if err != nil {
			return nil, tact.Errorf(tact.EUNAUTHORIZED, "the subject token is invalid or expired")
		}
		claims = &c
	}
	if err := s.checkPurposes(f); err != nil {
		return nil, err
	}
	if f.Type == TypeRectify {
		if len(f.Traits) == 0 {
			return nil, tact.Errorf(tact.EINVALID, "a rectification names the corrected traits")
		}
		detail.Traits = f.Traits
	}
	detail.Purposes = f.Purposes

	r := Request{
		ID: newID("req_", 16), Type: f.Type, Regime: reg.ID, Locale: datamap.NormalizeLocale(f.Locale),
		ReceivedAt: now, AcknowledgedAt: now,
	}
	r.DueAt = DueAt(reg, now)
	r.FirstDueAt = r.DueAt

	// Who the request is about, and how that is known.
	needCode := false
	switch {
	case caller.Server && (detail.UserID != "" || detail.Email != ""):
		r.Scope, r.VerifiedBy = ScopeLinked, "server_key:"+caller.KeyID
		if detail.UserID != "" {
			r.TargetKind, r.Target = vault.KindUserID, s.Vault.Pseudonym(vault.UseIdentity, vault.KindUserID, detail.UserID)
		} else {
			r.TargetKind, r.Target = vault.KindEmail, s.Vault.Pseudonym(vault.UseIdentity, vault.KindEmail, detail.Email)
		}
	case detail.Email != "":
		r.Scope, r.TargetKind, r.Target = ScopeLinked, vault.KindEmail, s.Vault.Pseudonym(vault.UseIdentity, vault.KindEmail, detail.Email)
		needCode = !f.Type.Immediate()
	case claims != nil:
		r.Scope, r.VerifiedBy, r.TargetKind, r.Target = ScopeBrowser, "subject_token", vault.KindAnonymousID, claims.Subject
	case detail.UserID != "" && f.Type.Immediate():
		// Stopping processing needs no proof (anyone may deny consent).
		r.Scope, r.TargetKind, r.Target = ScopeLinked, vault.KindUserID, s.Vault.Pseudonym(vault.UseIdentity, vault.KindUserID, detail.UserID)
	case detail.UserID != "":
		return nil, tact.Errorf(tact.EINVALID, "name the email address the verification code is sent to (a userId alone can be used by the shop with a server key)")
	default:
		return nil, tact.Errorf(tact.EINVALID, "name the shopper: email, userId or subjectToken")
	}

	keyID, dk, wrapped, err := s.Vault.NewDataKey(ctx)
	if err != nil {
		return nil, err
	}
	r.Key = consent.StoredKey{ID: keyID, Wrapped: wrapped}
	plain, _ := json.Marshal(detail)
	if r.SealedDetail, err = dk.Seal(detailField, plain); err != nil {
		return nil, err
	}

	out := &Filed{ID: r.ID, DueAt: r.DueAt}
	var code *Code
	var letters []Letter
	switch {
	case f.Type.Immediate():
		receipts, err := s.applyImmediate(ctx, f, detail, claims, reg)
		if err != nil {
			return nil, err
		}
		r.Status, r.CompletedAt = StatusCompleted, now
		r.Outcome, _ = json.Marshal(map[string]any{"receiptIds": receipts})
		out.ReceiptIDs = receipts
		if detail.Email != "" {
			letters = append(letters, compose("confirmed", r.Locale, r, detail.Email, strings.Join(receipts, ", ")))
		}
	case needCode:
		r.Status = StatusPendingVerification
		if reg.PauseForIdentity {
			r.Status, r.PausedAt = StatusPaused, now
		}
		digits, link, c := s.newCode(r.ID, now)
		code = &c
		letters = append(letters, compose("code", r.Locale, r, detail.Email, digits, s.url("/v1/requests/"+r.ID+"/verify?link="+link)))
	default:
		r.Status, r.VerifiedAt = StatusVerified, now
		token, hash := newSecret()
		r.TokenHash, out.RequestToken = hash, token
	}
	out.Status = r.Status

	mails := make([]Mail, 0, len(letters))
	for _, l := range letters {
		m, err := sealLetter(dk, r.ID, l, now)
		if err != nil {
			return nil, err
		}
		mails = append(mails, m)
	}
	err = s.Store.WriteRequests(ctx, func(tx Tx) error {
		if err := tx.PutRequest(ctx, r, "filed ("+detail.Filed+")"); err != nil {
			return err
		}
		if code != nil {
			if err := tx.PutCode(ctx, *code); err != nil {
				return err
			}
		}
		for _, m := range mails {
			if err := tx.QueueMail(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const detailField = "request.detail"

func (s *Service) checkPurposes(f Filing) error {
	if len(f.Purposes) == 0 {
		return nil
	}
	if f.Type != TypeWithdraw && f.Type != TypeObject && f.Type != TypeRestrict {
		return tact.Errorf(tact.EINVALID, "purposes apply to withdraw and object requests only")
	}
	pol := s.Consent.Policy()
	for _, p := range f.Purposes {
		rule, ok := pol.Purpose(p)
		if !ok || rule.Required {
			return tact.Errorf(tact.EINVALID, "purposes: %q is not a purpose the shopper can refuse", p)
		}
	}
	return nil
}

// deniedPurposes is what an immediate request denies.
func (s *Service) deniedPurposes(f Filing) []string {
	pol := s.Consent.Policy()
	var out []string
	add := func(keep func(consent.PurposeRule) bool) {
		for _, r := range pol.Purposes() {
			if !r.Required && keep(r) {
				out = append(out, r.ID)
			}
		}
	}
	switch {
	case len(f.Purposes) > 0:
		add(func(r consent.PurposeRule) bool { return slices.Contains(f.Purposes, r.ID) })
	case f.Type == TypeWithdraw:
		add(func(consent.PurposeRule) bool { return true })
	case f.Type == TypeObject:
		// Art. 21(2)–(3): objection to direct marketing is absolute.
		add(func(r consent.PurposeRule) bool {
			return slices.Contains([]string{datamap.PurposeMarketingEmail, datamap.PurposeMarketingSMS, datamap.PurposeAdvertising, datamap.PurposeSaleShare}, r.ID)
		})
	case f.Type == TypeOptOutSale:
		add(func(r consent.PurposeRule) bool {
			return r.ID == datamap.PurposeSaleShare || r.ID == datamap.PurposeAdvertising
		})
	case f.Type == TypeLimitSensitive:
		add(func(r consent.PurposeRule) bool { return r.Sensitive })
	}
	return out
}

// applyImmediate records the denials an opt-out, objection, withdrawal or
// limit asks for, as receipts with method "request".
func (s *Service) applyImmediate(ctx context.Context, f Filing, d Detail, claims *subjecttoken.Claims, reg datamap.Regime) ([]string, error) {
	denied := s.deniedPurposes(f)
	if len(denied) == 0 {
		return nil, nil
	}
	choices := map[string]bool{}
	for _, p := range denied {
		choices[p] = false
	}
	req := consent.Request{
		UserID: d.UserID, Email: d.Email, NoticeVersion: s.Consent.Policy().NoticeVersion,
		Choices: choices, Method: consent.MethodRequest, Locale: f.Locale,
		Evidence: map[string]string{"request": string(f.Type), "regime": reg.ID},
	}
	if claims != nil && d.UserID == "" && d.Email == "" {
		req.SubjectToken = f.SubjectToken
	}
	res, err := s.Consent.Record(ctx, consent.Caller{KeyID: "rights", System: true}, req)
	if err != nil {
		return nil, fmt.Errorf("recording the request's decision: %w", err)
	}
	return res.ReceiptIDs, nil
}

func (s *Service) newCode(requestID string, now time.Time) (digits, link string, c Code) {
	var b [8]byte
	rand.Read(b[:])
	digits = fmt.Sprintf("%06d", binary.BigEndian.Uint64(b[:])%1_000_000)
	link, linkHash := newSecret()
	return digits, link, Code{RequestID: requestID, MAC: s.codeMAC(requestID, digits), LinkHash: linkHash, ExpiresAt: now.Add(CodeTTL)}
}

func (s *Service) codeMAC(requestID, digits string) []byte {
	m := hmac.New(sha256.New, s.codeKey)
	m.Write([]byte(requestID))
	m.Write([]byte{0})
	m.Write([]byte(digits))
	return m.Sum(nil)
}

func (s *Service) url(path string) string { return strings.TrimSuffix(s.PublicURL, "/") + path }

// Verify checks a mailed code (or the link's secret) for a request: valid
// 15 minutes, single use, at most 5 attempts, compared in constant time.
// It returns the request token that opens the request from then on.
func (s *Service) Verify(ctx context.Context, id, code, link string) (Request, string, error) {
	now := s.Now().UTC().Truncate(time.Microsecond)
	if !ValidID(id) {
		return Request{}, "", tact.Errorf(tact.ENOTFOUND, "request not found")
	}
	if code == "" && link == "" {
		return Request{}, "", tact.Errorf(tact.EINVALID, "send the 6-digit code from the mail")
	}
	var r Request
	var token string
	var refusal error
	err := s.Store.WriteRequests(ctx, func(tx Tx) error {
		var err error
		refusal, token = nil, ""
		if r, err = tx.Request(ctx, id); err != nil {
			return err
		}
		c, ok, err := tx.Code(ctx, id)
		if err != nil {
			return err
		}
		if !ok || (r.Status != StatusPendingVerification && r.Status != StatusPaused) {
			refusal = tact.Errorf(tact.EINVALID, "this request is not awaiting a code")
			return nil
		}
		switch {
		case c.Used || c.Attempts >= MaxAttempts:
			refusal = tact.Errorf(tact.EINVALID, "no attempts left: file the request again")
			return nil
		case !now.Before(c.ExpiresAt):
			refusal = tact.Errorf(tact.EINVALID, "the code has expired: file the request again")
			return nil
		}
		var match bool
		if code != "" {
			match = subtle.ConstantTimeCompare(s.codeMAC(id, code), c.MAC) == 1
		} else {
			h := sha256.Sum256([]byte(link))
			match = subtle.ConstantTimeCompare(h[:], c.LinkHash) == 1
		}
		if !match {
			c.Attempts++
			if err := tx.PutCode(ctx, c); err != nil {
				return err
			}
			left := MaxAttempts - c.Attempts
			if left == 0 {
				r.Status = StatusExpired
				if err := tx.PutRequest(ctx, r, "locked after 5 wrong codes"); err != nil {
					return err
				}
				refusal = tact.Errorf(tact.EINVALID, "wrong code; no attempts left: file the request again")
				return nil
			}
			refusal = tact.Errorf(tact.EINVALID, "wrong code; %d attempts left", left)
			return nil
		}
		c.Used = true
		if err := tx.PutCode(ctx, c); err != nil {
			return err
		}
		Resume(&r, now)
		r.Status, r.VerifiedAt, r.VerifiedBy = StatusVerified, now, "email_code"
		var hash []byte
		token, hash = newSecret()
		r.TokenHash = hash
		return tx.PutRequest(ctx, r, "verified by the mailed code")
	})
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		return r, "", tact.Errorf(tact.ENOTFOUND, "request not found")
	}
	if err != nil {
		return r, "", err
	}
	if refusal != nil {
		return r, "", refusal
	}
	return r, token, nil
}

// Authorize returns the request a request token opens. A wrong token, a
// token of another request and an unknown id all look the same (404).
func (s *Service) Authorize(ctx context.Context, id, token string) (Request, error) {
	return s.opened(ctx, id, token, "request not found", func(r Request) ([]byte, bool) { return r.TokenHash, true })
}

// AuthorizeLink returns the request a report link opens, while the report
// is available.
func (s *Service) AuthorizeLink(ctx context.Context, id, link string) (Request, error) {
	return s.opened(ctx, id, link, "this link is not valid (it may have expired)", func(r Request) ([]byte, bool) {
		return r.LinkHash, s.Now().Before(r.ReportUntil)
	})
}

// opened returns the request whose stored hash (from hashOf) matches
// secret, compared in constant time; every failure is the same 404.
func (s *Service) opened(ctx context.Context, id, secret, notFound string, hashOf func(Request) ([]byte, bool)) (Request, error) {
	nf := tact.Errorf(tact.ENOTFOUND, "%s", notFound)
	if !ValidID(id) || secret == "" {
		return Request{}, nf
	}
	r, err := s.Store.Request(ctx, id)
	if err != nil {
		if tact.ErrorCode(err) == tact.ENOTFOUND {
			return Request{}, nf
		}
		return Request{}, err
	}
	want, valid := hashOf(r)
	h := sha256.Sum256([]byte(secret))
	if len(want) != len(h) || subtle.ConstantTimeCompare(h[:], want) != 1 || !valid {
		return Request{}, nf
	}
	return r, nil
}

// ReportAvailable reports whether a request's report can be downloaded now.
func (s *Service) ReportAvailable(r Request) error {
	switch {
	case !r.Type.Reports():
		return tact.Errorf(tact.ENOTFOUND, "this request has no report")
	case r.Status != StatusCompleted:
		return tact.Errorf(tact.ECONFLICT, "the report is not ready yet (status %s)", r.Status)
	case !s.Now().Before(r.ReportUntil):
		return tact.Errorf(tact.ENOTFOUND, "the report link has expired (reports are kept 72 hours)")
	}
	return nil
}

// Extend extends an open request's due date and tells the shopper why.
func (s *Service) Extend(ctx context.Context, id string, days int, reason string) (Request, error) {
	now := s.Now().UTC()
	return s.closeOrChange(ctx, id, func(r *Request, reg datamap.Regime) (string, string, []any, error) {
		if err := Extend(reg, r, days, reason, now); err != nil {
			return "", "", nil, err
		}
		return "extended by " + fmt.Sprint(days) + " days: " + reason, "extended", []any{reason}, nil
	})
}

// Deny refuses an open request, with reasons and the right to complain.
func (s *Service) Deny(ctx context.Context, id, reason string) (Request, error) {
	now := s.Now().UTC()
	return s.closeOrChange(ctx, id, func(r *Request, reg datamap.Regime) (string, string, []any, error) {
		if !r.Status.Open() {
			return "", "", nil, tact.Errorf(tact.ECONFLICT, "request %s is already %s", r.ID, r.Status)
		}
		if strings.TrimSpace(reason) == "" {
			return "", "", nil, tact.Errorf(tact.EINVALID, "a denial needs the reasons the shopper is told")
		}
		r.Status, r.DenialReason, r.CompletedAt = StatusDenied, reason, now
		authority := reg.Authority
		if authority == "" {
			authority = "your data protection authority"
		}
		return "denied: " + reason, "denied", []any{reason, authority}, nil
	})
}

// closeOrChange applies an operator's change to a request and mails the
// shopper about it, in one transaction.
func (s *Service) closeOrChange(ctx context.Context, id string, change func(*Request, datamap.Regime) (note, letter string, args []any, err error)) (Request, error) {
	var r Request
	now := s.Now().UTC()
	err := s.Store.WriteRequests(ctx, func(tx Tx) error {
		var err error
		if r, err = tx.Request(ctx, id); err != nil {
			return err
		}
		reg, err := s.regime(r.Regime)
		if err != nil {
			return err
		}
		note, kind, args, err := change(&r, reg)
		if err != nil {
			return err
		}
		if err := tx.PutRequest(ctx, r, note); err != nil {
			return err
		}
		return s.queueLetter(ctx, tx, r, kind, now, args...)
	})
	return r, err
}

// queueLetter mails the shopper who filed r, when they gave an address.
func (s *Service) queueLetter(ctx context.Context, tx Tx, r Request, kind string, now time.Time, args ...any) error {
	d, dk, err := s.detail(ctx, r)
	if err != nil || d.Email == "" {
		return err
	}
	m, err := sealLetter(dk, r.ID, compose(kind, r.Locale, r, d.Email, args...), now)
	if err != nil {
		return err
	}
	return tx.QueueMail(ctx, m)
}

// detail opens a request's sealed detail (empty once the request's key is
// shredded).
func (s *Service) detail(ctx context.Context, r Request) (Detail, vault.DataKey, error) {
	var d Detail
	if r.Shredded || r.SealedDetail == nil {
		return d, vault.DataKey{}, nil
	}
	dk, err := s.Vault.UnwrapDataKey(ctx, r.Key.ID, r.Key.Wrapped)
	if err != nil {
		return d, dk, err
	}
	plain, err := dk.Open(detailField, r.SealedDetail)
	if err != nil {
		return d, dk, err
	}
	return d, dk, json.Unmarshal(plain, &d)
}

const letterField = "outbox.letter"

func sealLetter(dk vault.DataKey, requestID string, l Letter, now time.Time) (Mail, error) {
	plain, _ := json.Marshal(l)
	sealed, err := dk.Seal(letterField, plain)
	if err != nil {
		return Mail{}, err
	}
	return Mail{ID: newID("mail_", 10), CreatedAt: now, RequestID: requestID, KeyOwner: "request", Sealed: sealed,
		NextTry: now, ExpiresAt: now.Add(MailTTL)}, nil
}

// QueueSubjectMail puts a letter to a shopper (not about a request: a
// double opt-in confirmation) in the outbox, sealed under the shopper's
// newest data key, so that erasure makes it unreadable with the rest.
func (s *Service) QueueSubjectMail(ctx context.Context, subjectID string, l Letter) error {
	keys, err := s.Data.SubjectKeys(ctx, subjectID)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return tact.Errorf(tact.ENOTFOUND, "subject not found")
	}
	k := keys[len(keys)-1]
	dk, err := s.Vault.UnwrapDataKey(ctx, k.ID, k.Wrapped)
	if err != nil {
		return err
	}
	now := s.Now().UTC()
	m, err := sealLetter(dk, "", l, now)
	if err != nil {
		return err
	}
	m.SubjectID, m.KeyOwner = subjectID, "subject"
	return s.Store.WriteRequests(ctx, func(tx Tx) error { return tx.QueueMail(ctx, m) })
}

// OpenMail decodes a mail of the outbox (for delivery and `tact outbox`).
func (s *Service) OpenMail(ctx context.Context, m Mail) (Letter, error) {
	var l Letter
	if m.KeyOwner == "subject" {
		return s.openSubjectMail(ctx, m)
	}
	r, err := s.Store.Request(ctx, m.RequestID)
	if err != nil {
		return l, err
	}
	if r.Shredded {
		return l, tact.Errorf(tact.ENOTFOUND, "mail %s can no longer be read (its request's key was shredded)", m.ID)
	}
	dk, err := s.Vault.UnwrapDataKey(ctx, r.Key.ID, r.Key.Wrapped)
	if err != nil {
		return l, err
	}
	plain, err := dk.Open(letterField, m.Sealed)
	if err != nil {
		return l, err
	}
	return l, json.Unmarshal(plain, &l)
}

// MaskedContact is the request's email as the operator sees it
// (j***@example.com), or "".
func (s *Service) MaskedContact(ctx context.Context, r Request) (string, error) {
	d, _, err := s.detail(ctx, r)
	if err != nil || d.Email == "" {
		return "", err
	}
	return maskEmail(d.Email), nil
}

func (s *Service) openSubjectMail(ctx context.Context, m Mail) (Letter, error) {
	var l Letter
	kid, err := vault.SealedKeyID(m.Sealed)
	if err != nil {
		return l, err
	}
	keys, err := s.Data.SubjectKeys(ctx, m.SubjectID)
	if err != nil {
		return l, err
	}
	for _, k := range keys {
		if k.ID != kid {
			continue
		}
		dk, err := s.Vault.UnwrapDataKey(ctx, k.ID, k.Wrapped)
		if err != nil {
			return l, err
		}
		plain, err := dk.Open(letterField, m.Sealed)
		if err != nil {
			return l, err
		}
		return l, json.Unmarshal(plain, &l)
	}
	return l, tact.Errorf(tact.ENOTFOUND, "mail %s can no longer be read (its shopper's key was shredded)", m.ID)
}
