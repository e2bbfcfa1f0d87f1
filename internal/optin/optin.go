// Package optin is marketing permission done right: the double opt-in that
// turns a pending marketing_email grant active only once the address's
// owner confirms it (with a POST: mail scanners that follow links confirm
// nothing), the soft opt-in for existing customers where the regime allows
// it, and one-click unsubscribe (RFC 8058) with a token per shopper and list
// that grants nothing else and keeps answering after erasure.
package optin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/rights"
	"github.com/tact-cdp/tact/internal/vault"
)

// Lists a shopper can subscribe to and leave: one per marketing channel.
var Lists = []string{datamap.PurposeMarketingEmail, datamap.PurposeMarketingSMS}

// IsList reports whether s names a list.
func IsList(s string) bool {
	return s == datamap.PurposeMarketingEmail || s == datamap.PurposeMarketingSMS
}

// Defaults.
const (
	ConfirmationTTL    = 7 * 24 * time.Hour
	MaxMailsPerAddress = 3 // confirmation mails to one address per day
)

// Contact is a shopper's address for a channel, sealed under their key.
type Contact struct {
	SubjectID string
	Channel   string
	Contact   vault.Pseudonym // of the address, for rate limits
	Sealed    []byte
	Locale    string
	UpdatedAt time.Time
}

// Confirmation is one double opt-in link, stored by its token's hash.
type Confirmation struct {
	TokenHash []byte
	SubjectID string
	Channel   string
	Contact   vault.Pseudonym
	ReceiptID string // the pending grant it confirms
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// UnsubscribeToken is a shopper's token for one list.
type UnsubscribeToken struct {
	Hash      []byte
	SubjectID string
	List      string
	Sealed    []byte // the token under the shopper's key, to issue it again
	CreatedAt time.Time
}

// Store is what opt-ins need from storage.
type Store interface {
	PutContact(ctx context.Context, c Contact) error
	Contact(ctx context.Context, subjectID, channel string) (Contact, error) // ENOTFOUND
	// RecentConfirmations counts the confirmations sent to an address since.
	RecentConfirmations(ctx context.Context, contact vault.Pseudonym, since time.Time) (int, error)
	PutConfirmation(ctx context.Context, c Confirmation) error
	Confirmation(ctx context.Context, tokenHash []byte) (Confirmation, error) // ENOTFOUND
	// ClaimConfirmation marks a confirmation used; false when it already was.
	ClaimConfirmation(ctx context.Context, tokenHash []byte, at time.Time) (bool, error)
	ReleaseConfirmation(ctx context.Context, tokenHash []byte) error
	UnsubscribeToken(ctx context.Context, subjectID, list string) (UnsubscribeToken, error) // ENOTFOUND
	// PutUnsubscribeToken stores t unless the shopper has a token for the
	// list already (false).
	PutUnsubscribeToken(ctx context.Context, t UnsubscribeToken) (bool, error)
	UnsubscribeByHash(ctx context.Context, hash []byte) (UnsubscribeToken, error) // ENOTFOUND
}

// Keys finds a shopper's data keys.
type Keys interface {
	SubjectKeys(ctx context.Context, subjectID string) ([]consent.StoredKey, error)
}

// Mailer queues a letter to a shopper.
type Mailer interface {
	QueueSubjectMail(ctx context.Context, subjectID string, l rights.Letter) error
}

// Service runs double opt-ins and unsubscribes.
type Service struct {
	Store     Store
	Consent   *consent.Service
	Vault     *vault.Vault
	Keys      Keys
	Mail      Mailer
	DataMap   func() *datamap.Map
	PublicURL string
	Logf      func(format string, args ...any)
	Now       func() time.Time
	// MaxMailsPerAddress bounds confirmation mails to one address per 24 h,
	// so that the flow cannot be used to mail a third party repeatedly.
	MaxMailsPerAddress int
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func (s *Service) url(path string) string {
	u := strings.TrimSuffix(s.PublicURL, "/")
	if u == "" {
		u = "http://127.0.0.1:8080"
	}
	return u + path
}

const contactField = "marketing.contact"
const unsubscribeField = "marketing.unsubscribe"

// key returns the shopper's newest data key, unwrapped.
func (s *Service) key(ctx context.Context, subjectID string) (vault.DataKey, error) {
	keys, err := s.Keys.SubjectKeys(ctx, subjectID)
	if err != nil {
		return vault.DataKey{}, err
	}
	if len(keys) == 0 {
		return vault.DataKey{}, tact.Errorf(tact.ENOTFOUND, "subject not found")
	}
	k := keys[len(keys)-1]
	return s.Vault.UnwrapDataKey(ctx, k.ID, k.Wrapped)
}

// open opens something sealed under one of the shopper's keys.
func (s *Service) open(ctx context.Context, subjectID, field string, sealed []byte) ([]byte, error) {
	kid, err := vault.SealedKeyID(sealed)
	if err != nil {
		return nil, err
	}
	keys, err := s.Keys.SubjectKeys(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.ID == kid {
			dk, err := s.Vault.UnwrapDataKey(ctx, k.ID, k.Wrapped)
			if err != nil {
				return nil, err
			}
			return dk.Open(field, sealed)
		}
	}
	return nil, tact.Errorf(tact.ENOTFOUND, "the shopper's key is gone")
}

// ContactAddress returns the shopper's address for a channel, in clear
// (for destinations allowed to receive it); ENOTFOUND when none is held.
func (s *Service) ContactAddress(ctx context.Context, subjectID, channel string) (string, error) {
	c, err := s.Store.Contact(ctx, subjectID, channel)
	if err != nil {
		return "", err
	}
	b, err := s.open(ctx, subjectID, contactField, c.Sealed)
	return string(b), err
}

// AfterDecision is called after every consent decision is committed: a
// marketing_email grant that came with an address keeps the address
// (sealed) and, while the grant is pending, mails the confirmation link.
// Failures are logged: the decision itself was recorded.
func (s *Service) AfterDecision(ctx context.Context, req consent.Request, res *consent.Result) {
	if req.Email == "" || res.SubjectID == "" || !req.Choices[datamap.PurposeMarketingEmail] {
		return
	}
	if err := s.afterGrant(ctx, req, res); err != nil {
		s.logf("double opt-in for receipt %s: %v", res.ReceiptID, err)
	}
}

func (s *Service) afterGrant(ctx context.Context, req consent.Request, res *consent.Result) error {
	email, err := vault.Normalize(vault.KindEmail, req.Email)
	if err != nil {
		return nil // Record refused it already
	}
	ch := datamap.PurposeMarketingEmail
	dk, err := s.key(ctx, res.SubjectID)
	if err != nil {
		return err
	}
	sealed, err := dk.Seal(contactField, []byte(req.Email))
	if err != nil {
		return err
	}
	now := s.now()
	contact := s.Vault.Pseudonym(vault.UseIdentity, vault.KindEmail, email)
	locale := req.Locale
	if locale == "" {
		locale = "en"
	}
	if err := s.Store.PutContact(ctx, Contact{SubjectID: res.SubjectID, Channel: ch, Contact: contact, Sealed: sealed, Locale: locale, UpdatedAt: now}); err != nil {
		return err
	}
	// The unsubscribe link exists from the subscription on: every mail and
	// every export to an email destination carries it.
	unsub, err := s.UnsubscribeURL(ctx, res.SubjectID, ch)
	if err != nil {
		return err
	}
	if v, ok := res.State[ch]; !ok || !v.Pending {
		return nil // active at once (an import with evidence, a soft opt-in)
	}
	limit := s.MaxMailsPerAddress
	if limit <= 0 {
		limit = MaxMailsPerAddress
	}
	n, err := s.Store.RecentConfirmations(ctx, contact, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	if n >= limit {
		return fmt.Errorf("not mailed: %d confirmations sent to this address in the last 24 hours", n)
	}
	token, hash := newToken()
	c := Confirmation{TokenHash: hash, SubjectID: res.SubjectID, Channel: ch, Contact: contact, ReceiptID: res.ReceiptID,
		CreatedAt: now, ExpiresAt: now.Add(ConfirmationTTL)}
	if err := s.Store.PutConfirmation(ctx, c); err != nil {
		return err
	}
	l := s.confirmationLetter(req.Email, locale, s.url("/v1/optin/"+token), unsub)
	return s.Mail.QueueSubjectMail(ctx, res.SubjectID, l)
}

// ListHeaders are the RFC 8058 header fields of a marketing mail.
func ListHeaders(unsubscribeURL string) []rights.Header {
	return []rights.Header{
		{Name: "List-Unsubscribe", Value: "<" + unsubscribeURL + ">"},
		{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
	}
}

func newToken() (string, []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	return t, hashToken(t)
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// validToken reports whether t has the shape of a token tact issued, so
// that other strings are refused before any lookup.
func validToken(t string) bool {
	if len(t) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil
}

// ErrInvalidLink answers a confirmation link that is forged, expired or
// already used: 400, with no effect on anyone.
var ErrInvalidLink = tact.Errorf(tact.EINVALID, "this confirmation link is not valid: it may have expired (links last 7 days) or been used already")

// Check reports whether a confirmation link is valid now, changing nothing
// (the page a GET shows).
func (s *Service) Check(ctx context.Context, token string) (Confirmation, error) {
	if !validToken(token) {
		return Confirmation{}, ErrInvalidLink
	}
	c, err := s.Store.Confirmation(ctx, hashToken(token))
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		return c, ErrInvalidLink
	}
	if err != nil {
		return c, err
	}
	if !c.UsedAt.IsZero() || !s.now().Before(c.ExpiresAt) {
		return c, ErrInvalidLink
	}
	return c, nil
}

// Confirm confirms the address behind a link: a receipt with method
// double_opt_in turns the pending grant active. A link is single use; a
// grant withdrawn meanwhile is not revived.
func (s *Service) Confirm(ctx context.Context, token string) (*consent.Result, error) {
	c, err := s.Check(ctx, token)
	if err != nil {
		return nil, err
	}
	claimed, err := s.Store.ClaimConfirmation(ctx, c.TokenHash, s.now())
	if err != nil {
		return nil, err
	}
	if !claimed {
		return nil, ErrInvalidLink
	}
	release := func() {
		if err := s.Store.ReleaseConfirmation(ctx, c.TokenHash); err != nil {
			s.logf("releasing a confirmation: %v", err)
		}
	}
	subj, err := s.Consent.Store().Subject(ctx, c.SubjectID)
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		return nil, ErrInvalidLink // erased meanwhile
	}
	if err != nil {
		release()
		return nil, err
	}
	rec, ok := subj.State[c.Channel]
	if !ok || !rec.Pending || rec.ReceiptID != c.ReceiptID {
		// Withdrawn, or a newer decision (with a newer link) replaced it.
		return nil, ErrInvalidLink
	}
	res, err := s.Consent.RecordForSubject(ctx, consent.Caller{System: true, KeyID: "double_opt_in"}, c.SubjectID, consent.Request{
		Choices: map[string]bool{c.Channel: true}, Method: consent.MethodDoubleOptIn,
		Evidence: map[string]string{"confirms": c.ReceiptID},
	})
	if err != nil {
		release()
		return nil, err
	}
	return res, nil
}

// UnsubscribeURL returns the shopper's unsubscribe URL for a list, making
// the token on first use.
func (s *Service) UnsubscribeURL(ctx context.Context, subjectID, list string) (string, error) {
	if !IsList(list) {
		return "", tact.Errorf(tact.EINVALID, "%q is not a list", list)
	}
	for range 2 {
		t, err := s.Store.UnsubscribeToken(ctx, subjectID, list)
		if err == nil && t.Sealed != nil {
			plain, err := s.open(ctx, subjectID, unsubscribeField, t.Sealed)
			if err != nil {
				return "", err
			}
			return s.url("/v1/unsubscribe/" + string(plain)), nil
		}
		if err != nil && tact.ErrorCode(err) != tact.ENOTFOUND {
			return "", err
		}
		dk, err := s.key(ctx, subjectID)
		if err != nil {
			return "", err
		}
		token, hash := newToken()
		sealed, err := dk.Seal(unsubscribeField, []byte(token))
		if err != nil {
			return "", err
		}
		ok, err := s.Store.PutUnsubscribeToken(ctx, UnsubscribeToken{Hash: hash, SubjectID: subjectID, List: list, Sealed: sealed, CreatedAt: s.now()})
		if err != nil {
			return "", err
		}
		if ok {
			return s.url("/v1/unsubscribe/" + token), nil
		}
		// Another caller made one first: issue theirs.
	}
	return "", fmt.Errorf("optin: unsubscribe token for %s kept changing", list)
}

// Unsubscribe withdraws the token's list at once, with a receipt (method
// unsubscribe). Unknown tokens, replays and erased shoppers change nothing
// and are not errors: the answer is the same for all (200). Only a failure
// to record returns an error.
func (s *Service) Unsubscribe(ctx context.Context, token string) error {
	if !validToken(token) {
		return nil
	}
	t, err := s.Store.UnsubscribeByHash(ctx, hashToken(token))
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	subj, err := s.Consent.Store().Subject(ctx, t.SubjectID)
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		return nil // erased: nothing left to withdraw
	}
	if err != nil {
		return err
	}
	if rec, ok := subj.State[t.List]; !ok || (!rec.Granted && !rec.Pending) {
		return nil // already off: a replay records nothing
	}
	_, err = s.Consent.RecordForSubject(ctx, consent.Caller{System: true, KeyID: "unsubscribe"}, t.SubjectID, consent.Request{
		Choices: map[string]bool{t.List: false}, Method: consent.MethodUnsubscribe,
	})
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		return nil
	}
	return err
}

// Known reports whether a token names a list (for the page a GET shows).
func (s *Service) Known(ctx context.Context, token string) (list string, ok bool) {
	if !validToken(token) {
		return "", false
	}
	t, err := s.Store.UnsubscribeByHash(ctx, hashToken(token))
	if err != nil {
		return "", false
	}
	return t.List, true
}

// SoftOptIn records the "soft opt-in" of an existing customer to marketing
// email about the shop's similar products, where the regime in force
// allows it: offered at checkout (the shop's backend vouches for it with a
// server key), recorded as a receipt with method soft_opt_in, and — like
// every marketing mail — with an unsubscribe link in each message. Under a
// regime without it, EFORBIDDEN: the shopper must opt in.
func (s *Service) SoftOptIn(ctx context.Context, keyID, userID, email, locale string) (*consent.Result, error) {
	pol := s.Consent.Policy()
	reg, ok := s.DataMap().Regime(pol.Regime)
	if !ok || !reg.SoftOptIn {
		return nil, tact.Errorf(tact.EFORBIDDEN, "the regime in force (%s) does not allow the soft opt-in: ask the shopper to opt in", pol.Regime)
	}
	if email == "" {
		return nil, tact.Errorf(tact.EINVALID, "email is required")
	}
	req := consent.Request{UserID: userID, Email: email, NoticeVersion: pol.NoticeVersion, Locale: locale,
		Choices: map[string]bool{datamap.PurposeMarketingEmail: true}, Method: consent.MethodSoftOptIn,
		Evidence: map[string]string{"offered_at": "checkout", "key": keyID}}
	return s.Consent.Record(ctx, consent.Caller{Server: true, System: true, KeyID: keyID}, req)
}

// OpenContact opens a sealed address with the shopper's key (bulk exports
// read the sealed values themselves).
func OpenContact(dk vault.DataKey, sealed []byte) (string, error) {
	b, err := dk.Open(contactField, sealed)
	return string(b), err
}

// OpenUnsubscribeURL turns a sealed unsubscribe token into its URL.
func (s *Service) OpenUnsubscribeURL(dk vault.DataKey, sealed []byte) (string, error) {
	b, err := dk.Open(unsubscribeField, sealed)
	if err != nil {
		return "", err
	}
	return s.url("/v1/unsubscribe/" + string(b)), nil
}
