package consent

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/ledger"
	"github.com/tact-cdp/tact/internal/subjecttoken"
	"github.com/tact-cdp/tact/internal/vault"
)

// UserHashChecker verifies a userHash: hex HMAC-SHA256 of the userId under
// one of the shop's user-hash secrets, compared in constant time.
type UserHashChecker interface {
	ValidUserHash(ctx context.Context, userID, userHash string) (bool, error)
}

// Caller is who sends a decision.
type Caller struct {
	Server bool   // a server key: the shop's backend, trusted to act for its shoppers
	KeyID  string // the credential's id, for the audit trail
	// System: tact itself records the decision (a rights request, a double
	// opt-in, an unsubscribe) and may use its own methods. It carries no
	// authority to grant beyond what the other fields give.
	System bool
}

// Request is a decision as POST /v1/consent carries it.
type Request struct {
	AnonymousID   string
	UserID        string
	UserHash      string
	Email         string
	SubjectToken  string
	NoticeVersion string
	Choices       map[string]bool
	Method        Method
	GPC           bool
	Evidence      map[string]string
	Locale        string
}

// Result is what a recorded decision answers.
type Result struct {
	ReceiptID    string
	LeafIndex    int64
	ReceiptIDs   []string // every receipt written, GPC receipts first
	SubjectID    string
	AnonymousID  string // set when tact created the browser's anonymous id
	SubjectToken string
	TokenExpires time.Time
	State        map[string]PurposeView

	leafIndex *int64 // set when the write commits
}

// Service records and answers consent decisions.
type Service struct {
	store    Store
	vault    *vault.Vault
	tokens   *subjecttoken.Issuer
	userHash UserHashChecker
	policy   atomic.Pointer[Policy]
	notices  sync.Map // version -> NoticeRecord
	onChange atomic.Pointer[[]func(subjectIDs []string)]
	resolver atomic.Pointer[Resolver]
	after    atomic.Pointer[func(ctx context.Context, req Request, res *Result)]
	Now      func() time.Time
}

// EvidenceOptInConfirmed is the evidence key of an imported decision that
// dates the shopper's original confirmation of their address (RFC 3339):
// with it an imported marketing_email grant is active, without it pending.
const EvidenceOptInConfirmed = "double_opt_in_at"

// AfterDecision registers fn to be called after each decision is committed
// (and before it is answered) — the double opt-in hangs on it. fn must not
// fail the decision: it was recorded.
func (s *Service) AfterDecision(fn func(ctx context.Context, req Request, res *Result)) {
	s.after.Store(&fn)
}

// NewService returns a consent service enforcing policy.
func NewService(store Store, v *vault.Vault, tokens *subjecttoken.Issuer, uh UserHashChecker, policy *Policy) *Service {
	s := &Service{store: store, vault: v, tokens: tokens, userHash: uh, Now: time.Now}
	s.policy.Store(policy)
	return s
}

// OnChange registers fn to be told, after every decision and before it is
// answered, which subjects it may have changed (their state, identities or
// existence). Caches of consent state and what is derived from consent
// (recommendations) hang on it; listeners are called in the order they
// registered.
func (s *Service) OnChange(fn func(subjectIDs []string)) {
	for {
		old := s.onChange.Load()
		var fns []func([]string)
		if old != nil {
			fns = append(fns, *old...)
		}
		fns = append(fns, fn)
		if s.onChange.CompareAndSwap(old, &fns) {
			return
		}
	}
}

// changed tells every listener.
func (s *Service) changed(subjectIDs []string) {
	if fns := s.onChange.Load(); fns != nil {
		for _, fn := range *fns {
			fn(subjectIDs)
		}
	}
}

// Changed tells the OnChange listener that subjects changed outside a
// decision (links made by identify calls, erasure).
func (s *Service) Changed(subjectIDs ...string) { s.changed(subjectIDs) }

// Policy is the policy in force.
func (s *Service) Policy() *Policy { return s.policy.Load() }

// Publish registers the policy's notice version so that decisions may cite it,
// and makes the policy the one in force.
func (s *Service) Publish(ctx context.Context, p *Policy) error {
	rec := NoticeRecord{Version: p.NoticeVersion, CreatedAt: s.Now().UTC(), Purposes: map[string]PurposeRule{}}
	for _, r := range p.purposes {
		rec.Purposes[r.ID] = r
	}
	if err := s.store.PutNotice(ctx, rec); err != nil {
		return fmt.Errorf("publishing notice %s: %w", p.NoticeVersion, err)
	}
	s.notices.Store(rec.Version, rec)
	s.policy.Store(p)
	return nil
}

func (s *Service) notice(ctx context.Context, version string) (NoticeRecord, error) {
	if n, ok := s.notices.Load(version); ok {
		return n.(NoticeRecord), nil
	}
	n, err := s.store.Notice(ctx, version)
	if err != nil {
		return n, err
	}
	s.notices.Store(version, n)
	return n, nil
}

// identifier is one identifier of a request, with its pseudonyms.
type identifier struct {
	kind     vault.Kind
	p        vault.Pseudonym // identity pseudonym (joins)
	ledgerP  vault.Pseudonym // pseudonym printed in receipts
	existing *Identity
}

// Record validates a decision, checks the caller's authority for it
// (DESIGN principle 3), and records it as one or more receipts in one durable
// transaction.
func (s *Service) Record(ctx context.Context, caller Caller, req Request) (*Result, error) {
	pol := s.Policy()
	now := s.Now().UTC().Truncate(time.Microsecond)

	if req.NoticeVersion == "" {
		return nil, tact.Errorf(tact.EINVALID, "noticeVersion is required")
	}
	notice, err := s.notice(ctx, req.NoticeVersion)
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		return nil, tact.Errorf(tact.EINVALID, "noticeVersion does not name a published notice")
	} else if err != nil {
		return nil, err
	}
	if !ClientMethod(req.Method) && !(caller.System && knownMethod(req.Method)) {
		return nil, tact.Errorf(tact.EINVALID, "method must be one of banner, privacy_center, api, import, gpc")
	}
	grants, err := checkRequest(&req, notice)
	if err != nil {
		return nil, err
	}
	if req.Method == MethodImport && !caller.Server {
		return nil, tact.Errorf(tact.EFORBIDDEN, "only a server key may import decisions")
	}

	// Identifiers, normalised and pseudonymised.
	var anon, user, email *identifier
	mk := func(kind vault.Kind, raw string, field string) (*identifier, error) {
		if raw == "" {
			return nil, nil
		}
		v, err := vault.Normalize(kind, raw)
		if err != nil {
			return nil, tact.Errorf(tact.EINVALID, "%s is not a valid identifier", field)
		}
		return &identifier{kind: kind, p: s.vault.Pseudonym(vault.UseIdentity, kind, v), ledgerP: s.vault.Pseudonym(vault.UseLedger, kind, v)}, nil
	}
	if anon, err = mk(vault.KindAnonymousID, req.AnonymousID, "anonymousId"); err != nil {
		return nil, err
	}
	if user, err = mk(vault.KindUserID, req.UserID, "userId"); err != nil {
		return nil, err
	}
	if email, err = mk(vault.KindEmail, req.Email, "email"); err != nil {
		return nil, err
	}

	var claims *subjecttoken.Claims
	if req.SubjectToken != "" {
		c, err := s.tokens.Verify(req.SubjectToken)
		if err != nil {
			return nil, tact.Errorf(tact.EUNAUTHORIZED, "the subject token is invalid or expired")
		}
		claims = &c
		if anon != nil && c.Subject != anon.p {
			return nil, tact.Errorf(tact.EFORBIDDEN, "the subject token belongs to another browser")
		}
	}

	userHashOK := false
	if req.UserHash != "" {
		if user == nil {
			return nil, tact.Errorf(tact.EINVALID, "userHash needs a userId")
		}
		userHashOK, err = s.userHash.ValidUserHash(ctx, req.UserID, req.UserHash)
		if err != nil {
			return nil, err
		}
		if !userHashOK {
			return nil, tact.Errorf(tact.EFORBIDDEN, "userHash does not match userId")
		}
	}
	if grants > 0 && (user != nil || email != nil) && !caller.Server && !userHashOK {
		return nil, tact.Errorf(tact.EFORBIDDEN, "grants for a userId or an email need a server key or a valid userHash")
	}
	if email != nil && grants > 0 && !caller.Server && user == nil {
		return nil, tact.Errorf(tact.EFORBIDDEN, "grants for an email need a server key or the userId it belongs to with a valid userHash")
	}

	res := &Result{}
	if anon == nil && claims == nil && user == nil && email == nil {
		if caller.Server {
			return nil, tact.Errorf(tact.EINVALID, "name the shopper: anonymousId, userId or email")
		}
		// A first decision in a new browser: tact makes its anonymous id.
		res.AnonymousID = newAnonymousID()
		anon, _ = mk(vault.KindAnonymousID, res.AnonymousID, "anonymousId")
	}
	anonFromToken := false
	if anon == nil && claims != nil {
		anon = &identifier{kind: vault.KindAnonymousID, p: claims.Subject}
		anonFromToken = true
	}

	// Crypto work stays outside the shared write transaction: a data key
	// for the subject this decision may create is made beforehand.
	keyID, dk, wrapped, err := s.vault.NewDataKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("creating a data key: %w", err)
	}
	fresh := &freshKey{StoredKey{ID: keyID, Wrapped: wrapped}, dk}
	err = s.store.Write(ctx, func(tx Tx) error {
		*res = Result{AnonymousID: res.AnonymousID}
		d := &decision{s: s, pol: pol, notice: notice, caller: caller, req: req, now: now, claims: claims,
			anon: anon, anonFromToken: anonFromToken, user: user, email: email, userHashOK: userHashOK, grants: grants, fresh: fresh}
		return d.record(ctx, tx, res)
	})
	// Whatever the outcome, caches of these subjects' state must be
	// dropped before the decision is answered (a withdrawal takes effect at
	// once).
	if s.onChange.Load() != nil {
		changed := []string{res.SubjectID}
		for _, id := range []*identifier{anon, user, email} {
			if id != nil && id.existing != nil {
				changed = append(changed, id.existing.SubjectID)
			}
		}
		s.changed(changed)
	}
	if err != nil {
		return nil, err
	}
	if res.leafIndex != nil {
		res.LeafIndex = *res.leafIndex
	}
	if fn := s.after.Load(); fn != nil {
		(*fn)(ctx, req, res)
	}
	return res, nil
}

// decision is one validated decision request on its way into the store:
// everything Record worked out before the write transaction.
type decision struct {
	s             *Service
	pol           *Policy
	notice        NoticeRecord
	caller        Caller
	req           Request
	now           time.Time
	claims        *subjecttoken.Claims // a verified subject token, if any
	anon          *identifier
	anonFromToken bool // the browser is named only by its token
	user, email   *identifier
	userHashOK    bool
	grants        int
	fresh         *freshKey
}

// record runs inside the write transaction: it resolves the identities,
// checks what needs the store (is the browser known, is its token current),
// links them where trusted, and writes the receipts and the new state.
func (d *decision) record(ctx context.Context, tx Tx, res *Result) error {
	s, pol, notice, caller, req, now := d.s, d.pol, d.notice, d.caller, d.req, d.now
	claims, anon, anonFromToken, user, email := d.claims, d.anon, d.anonFromToken, d.user, d.email
	userHashOK, grants, fresh := d.userHashOK, d.grants, d.fresh

	ids := []*identifier{}
	for _, id := range []*identifier{user, email, anon} {
		if id == nil {
			continue
		}
		id.existing = nil
		if id == anon && res.AnonymousID != "" {
			// tact just made this id from 122 random bits: nobody has it.
			ids = append(ids, id)
			continue
		}
		got, ok, err := tx.Identity(ctx, id.p)
		if err != nil {
			return err
		}
		if ok {
			id.existing = &got
		}
		ids = append(ids, id)
	}

	// The browser: new, proven by its subject token, or neither.
	anonNew, anonProven := false, false
	if anon != nil {
		switch {
		case anon.existing == nil && anonFromToken:
			return tact.Errorf(tact.EUNAUTHORIZED, "the subject token names a browser tact does not know")
		case anon.existing == nil:
			anonNew = true
		case claims != nil && claims.Gen+1 >= anon.existing.TokenGen && claims.Gen <= anon.existing.TokenGen:
			anonProven = true
		case claims != nil:
			return tact.Errorf(tact.EUNAUTHORIZED, "the subject token was replaced by a newer one")
		}
		if anon.ledgerP == (vault.Pseudonym{}) && anon.existing != nil {
			// Known only through its token: name it in receipts by a
			// ledger pseudonym derived from the identity pseudonym.
			anon.ledgerP = s.vault.Pseudonym(vault.UseLedger, vault.KindAnonymousID, anon.p.String())
		}
		if grants > 0 && !caller.Server && !anonNew && !anonProven {
			return tact.Errorf(tact.EFORBIDDEN, "grants for a browser tact already knows need its subject token")
		}
	}

	// Trusted links join all identifiers into one subject; otherwise each
	// keeps its own, and (grants having been refused above) only denials
	// are recorded, for each of them.
	linkOK := caller.Server || (userHashOK && (anon == nil || anonNew || anonProven))
	var targets []target
	if linkOK || len(ids) == 1 {
		t, err := s.joinSubjects(ctx, tx, ids, fresh, now)
		if err != nil {
			return err
		}
		targets = append(targets, t)
	} else {
		for _, id := range ids {
			t, err := s.joinSubjects(ctx, tx, []*identifier{id}, nil, now)
			if err != nil {
				return err
			}
			targets = append(targets, t)
		}
	}

	authority := AuthorityAnyone
	switch {
	case caller.System && !ClientMethod(d.req.Method):
		authority = AuthoritySystem
	case caller.Server:
		authority = AuthorityServer
	case userHashOK:
		authority = AuthorityUserHash
	case grants > 0:
		authority = AuthorityBrowser
	}

	for i, t := range targets {
		subj := t.subject
		if req.GPC {
			gpcChoices := map[string]bool{}
			for _, id := range pol.GPCDenies() {
				if _, ok := notice.Purposes[id]; ok {
					if rec, has := subj.State[id]; !has || rec.Granted {
						gpcChoices[id] = false
					}
				}
			}
			if subj.GPCAt.IsZero() || len(gpcChoices) > 0 {
				subj.GPCAt = now
				if len(gpcChoices) > 0 {
					id, idx, err := s.appendReceipt(ctx, tx, pol, notice, &subj, &t, t.refs, gpcChoices, MethodGPC, AuthorityAnyone, true, req, now)
					if err != nil {
						return err
					}
					res.ReceiptIDs = append(res.ReceiptIDs, id)
					if i == 0 {
						res.ReceiptID, res.leafIndex = id, idx
					}
				}
			}
		}
		choices := map[string]bool{}
		for id, g := range req.Choices {
			if !notice.Purposes[id].Required {
				choices[id] = g
			}
		}
		if len(choices) > 0 {
			method := req.Method
			if method == MethodGPC {
				method = MethodBanner
			}
			id, idx, err := s.appendReceipt(ctx, tx, pol, notice, &subj, &t, t.refs, choices, method, authority, req.GPC, req, now)
			if err != nil {
				return err
			}
			res.ReceiptIDs = append(res.ReceiptIDs, id)
			if i == 0 {
				res.ReceiptID, res.leafIndex = id, idx
			}
		}
		if t.isNew {
			create := tx.CreateSubject
			if anon != nil && res.AnonymousID != "" && len(t.newIdentities) == 1 && t.newIdentities[0].Pseudonym == anon.p {
				create = tx.CreateFreshSubject // only tact's new anonymous id names it
			}
			if err := create(ctx, subj, *t.key, t.newIdentities...); err != nil {
				return err
			}
		} else if err := tx.SaveSubject(ctx, subj); err != nil {
			return err
		}
		if i == 0 {
			res.SubjectID = subj.ID
			res.State = pol.View(subj.State, subj.Flags(), now)
		}
	}
	if res.ReceiptID == "" {
		// A GPC signal already on record: nothing new to prove.
		res.ReceiptIDs = nil
	}

	// A browser that was created or proven gets a fresh token; the previous
	// one keeps working for one more generation so parallel tabs do not fail.
	if anon != nil && (anonNew || anonProven) {
		gen := uint32(1)
		if anon.existing != nil {
			gen = anon.existing.TokenGen + 1
			if err := tx.SetTokenGen(ctx, anon.p, gen); err != nil {
				return err
			}
		}
		tok, c := s.tokens.Issue(anon.p, gen)
		res.SubjectToken, res.TokenExpires = tok, c.Expires
	}
	return nil
}

type target struct {
	subject Subject
	refs    []SubjectRef
	isNew   bool          // created by this decision: inserted when saved
	key     *StoredKey    // the new subject's data key
	dk      vault.DataKey // and its unwrapped form, so sealing needs no lookup

	newIdentities []Identity // identities of a new subject, stored with it
}

// freshKey is a data key made ahead of the transaction.
type freshKey struct {
	stored StoredKey
	dk     vault.DataKey
}

// joinSubjects finds or creates the one subject the identifiers belong to,
// linking them: an identifier not yet known is added; one that belongs to
// another subject brings that subject along (the stricter state winning),
// unless that subject is another registered user, in which case only the
// identifier moves so that two people are never merged.
func (s *Service) joinSubjects(ctx context.Context, tx Tx, ids []*identifier, fresh *freshKey, now time.Time) (target, error) {
	var t target
	var survivor *Subject
	for _, id := range ids { // user, email, anon order: the user's subject survives
		if id.existing != nil {
			subj, err := tx.Subject(ctx, id.existing.SubjectID)
			if err != nil {
				return t, err
			}
			survivor = &subj
			break
		}
	}
	if survivor == nil {
		subj := Subject{ID: NewSubjectID(), CreatedAt: now, State: State{}}
		fk := fresh
		if fk == nil {
			keyID, dk, wrapped, err := s.vault.NewDataKey(ctx)
			if err != nil {
				return t, fmt.Errorf("creating a data key: %w", err)
			}
			fk = &freshKey{StoredKey{ID: keyID, Wrapped: wrapped}, dk}
		}
		t.isNew, t.key, t.dk = true, &fk.stored, fk.dk
		survivor = &subj
	}
	for _, id := range ids {
		t.refs = append(t.refs, SubjectRef{Kind: string(id.kind), Pseudonym: id.ledgerP.String()})
		switch {
		case id.existing == nil:
			// A new browser's first token is generation 1.
			gen := uint32(0)
			if id.kind == vault.KindAnonymousID {
				gen = 1
			}
			ident := Identity{Pseudonym: id.p, Kind: id.kind, SubjectID: survivor.ID, TokenGen: gen, CreatedAt: now}
			if t.isNew {
				t.newIdentities = append(t.newIdentities, ident) // stored with the subject
				break
			}
			if err := tx.AddIdentity(ctx, ident); err != nil {
				return t, err
			}
		case id.existing.SubjectID == survivor.ID:
		default:
			other, err := tx.Subject(ctx, id.existing.SubjectID)
			if err != nil {
				return t, err
			}
			otherUser, err := tx.SubjectHasKind(ctx, other.ID, vault.KindUserID)
			if err != nil {
				return t, err
			}
			if otherUser && id.kind != vault.KindUserID {
				if err := tx.SetIdentitySubject(ctx, id.p, survivor.ID); err != nil {
					return t, err
				}
				break
			}
			if err := tx.MergeSubjects(ctx, other.ID, survivor.ID); err != nil {
				return t, err
			}
			survivor.State = Stricter(survivor.State, other.State)
			survivor.Minor = survivor.Minor || other.Minor
			if !other.GPCAt.IsZero() && (survivor.GPCAt.IsZero() || other.GPCAt.Before(survivor.GPCAt)) {
				survivor.GPCAt = other.GPCAt
			}
		}
	}
	t.subject = *survivor
	return t, nil
}

// appendReceipt writes one receipt: canonical body, a fresh salt sealed under
// the subject's data key, the commitment, and the ledger leaf.
func (s *Service) appendReceipt(ctx context.Context, tx Tx, pol *Policy, notice NoticeRecord, subj *Subject, t *target, refs []SubjectRef,
	choices map[string]bool, method Method, authority Authority, gpc bool, req Request, now time.Time) (string, *int64, error) {
	r, next := buildReceipt(pol, notice, *subj, refs, choices, method, authority, gpc, req, NewReceiptID(), now)
	subj.State = next
	id := r.ID
	body := r.Canonical()
	dk := t.dk
	if t.key == nil {
		key, err := tx.SubjectKey(ctx, subj.ID)
		if err != nil {
			return "", nil, err
		}
		if dk, err = s.vault.UnwrapDataKey(ctx, key.ID, key.Wrapped); err != nil {
			return "", nil, fmt.Errorf("opening the data key: %w", err)
		}
	}
	salt := make([]byte, ledger.SaltSize)
	rand.Read(salt)
	sealed, err := dk.Seal(SaltField, salt)
	if err != nil {
		return "", nil, err
	}
	idx := new(int64)
	if err := tx.AppendReceipt(ctx, StoredReceipt{
		ID: id, SubjectID: subj.ID, Body: body, SealedSalt: sealed,
		Commitment: ledger.Commitment(salt, body), CreatedAt: now,
	}, idx); err != nil {
		return "", nil, err
	}
	return id, idx, nil
}

// SaltField is the sealed field name of a receipt's salt.
const SaltField = "ledger.salt"

// Lookup names whose consent state to read.
type Lookup struct {
	AnonymousID  string
	UserID       string
	SubjectToken string // a shopper reading their own browser's state
}

// ErrNoShopper is returned (as ENOTFOUND) when nothing is known of a shopper.
var ErrNoShopper = tact.Errorf(tact.ENOTFOUND, "no consent is recorded for this shopper")

// State answers GET /v1/consent. A server key may read any shopper; a subject
// token only its own browser.
func (s *Service) State(ctx context.Context, server bool, q Lookup) (Subject, map[string]PurposeView, error) {
	pol := s.Policy()
	var p vault.Pseudonym
	switch {
	case q.SubjectToken != "":
		c, err := s.tokens.Verify(q.SubjectToken)
		if err != nil {
			return Subject{}, nil, tact.Errorf(tact.EUNAUTHORIZED, "the subject token is invalid or expired")
		}
		if q.UserID != "" && !server {
			return Subject{}, nil, tact.Errorf(tact.EFORBIDDEN, "a subject token reads only its own browser's consent")
		}
		p = c.Subject
		if q.AnonymousID != "" {
			v, err := vault.Normalize(vault.KindAnonymousID, q.AnonymousID)
			if err != nil || s.vault.Pseudonym(vault.UseIdentity, vault.KindAnonymousID, v) != c.Subject {
				return Subject{}, nil, tact.Errorf(tact.EFORBIDDEN, "a subject token reads only its own browser's consent")
			}
		}
	case !server:
		return Subject{}, nil, tact.Errorf(tact.EUNAUTHORIZED, "reading consent needs a server key or the shopper's subject token")
	case q.UserID != "":
		v, err := vault.Normalize(vault.KindUserID, q.UserID)
		if err != nil {
			return Subject{}, nil, tact.Errorf(tact.EINVALID, "userId is not a valid identifier")
		}
		p = s.vault.Pseudonym(vault.UseIdentity, vault.KindUserID, v)
	case q.AnonymousID != "":
		v, err := vault.Normalize(vault.KindAnonymousID, q.AnonymousID)
		if err != nil {
			return Subject{}, nil, tact.Errorf(tact.EINVALID, "anonymousId is not a valid identifier")
		}
		p = s.vault.Pseudonym(vault.UseIdentity, vault.KindAnonymousID, v)
	default:
		return Subject{}, nil, tact.Errorf(tact.EINVALID, "name the shopper with anonymousId or userId")
	}
	subj, known, err := s.resolve(ctx, p)
	if err != nil {
		return Subject{}, nil, err
	}
	if !known {
		// Nothing on record: the regime's defaults, for nobody in particular.
		return Subject{}, pol.View(nil, Flags{}, s.Now()), ErrNoShopper
	}
	return subj, pol.View(subj.State, subj.Flags(), s.Now()), nil
}

// Resolver finds the subject an identity pseudonym belongs to.
type Resolver func(ctx context.Context, p vault.Pseudonym) (subj Subject, known bool, err error)

// SetResolver replaces the store lookup State makes with one that may
// answer from a cache. The cache must be invalidated through OnChange
// before each decision is answered (collection's shopper cache is).
func (s *Service) SetResolver(r Resolver) { s.resolver.Store(&r) }

// resolve looks a pseudonym up through the resolver, or in the store.
func (s *Service) resolve(ctx context.Context, p vault.Pseudonym) (Subject, bool, error) {
	if r := s.resolver.Load(); r != nil {
		return (*r)(ctx, p)
	}
	id, err := s.store.Identity(ctx, p)
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		return Subject{}, false, nil
	} else if err != nil {
		return Subject{}, false, err
	}
	subj, err := s.store.Subject(ctx, id.SubjectID)
	if err != nil {
		return Subject{}, false, err
	}
	return subj, true, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// checkRequest validates a decision against the notice it cites and returns
// the number of purposes it grants. It needs no storage.
func checkRequest(req *Request, notice NoticeRecord) (int, error) {
	if !knownMethod(req.Method) {
		return 0, tact.Errorf(tact.EINVALID, "method must be one of banner, privacy_center, api, import, gpc")
	}
	if req.Method == MethodGPC {
		req.GPC = true
	}
	if len(req.Choices) == 0 && !req.GPC {
		return 0, tact.Errorf(tact.EINVALID, "choices must decide at least one purpose")
	}
	grants, separate := 0, ""
	for id, granted := range req.Choices {
		rule, ok := notice.Purposes[id]
		if !ok {
			return 0, tact.Errorf(tact.EINVALID, "choices names an unknown purpose %q", truncate(id, 40))
		}
		if rule.Required && !granted {
			return 0, tact.Errorf(tact.EINVALID, "%s processing cannot be refused", id)
		}
		if granted && !rule.Required {
			grants++
			if rule.SeparateConsent {
				separate = id
			}
		}
	}
	if separate != "" && grants > 1 {
		return 0, tact.Errorf(tact.EINVALID, "%s needs separate consent: grant it in a decision of its own, not together with other purposes", separate)
	}
	if len(req.Evidence) > MaxEvidenceEntries {
		return 0, tact.Errorf(tact.EINVALID, "evidence has more than %d entries", MaxEvidenceEntries)
	}
	for k, v := range req.Evidence {
		if k == "" || len(k) > MaxEvidenceLen || len(v) > MaxEvidenceLen {
			return 0, tact.Errorf(tact.EINVALID, "evidence keys and values must be 1 to %d bytes", MaxEvidenceLen)
		}
	}

	if len(req.Locale) > MaxLocaleLen {
		return 0, tact.Errorf(tact.EINVALID, "locale is not a language tag")
	}
	return grants, nil
}

// buildReceipt is the receipt a decision makes, and the subject's next state.
func buildReceipt(pol *Policy, notice NoticeRecord, subj Subject, refs []SubjectRef, choices map[string]bool,
	method Method, authority Authority, gpc bool, req Request, id string, now time.Time) (Receipt, State) {
	confirmed := method == MethodImport && req.Evidence[EvidenceOptInConfirmed] != ""
	decisions, next := pol.Apply(subj.State, Flags{Minor: subj.Minor, GPC: gpc, OptInConfirmed: confirmed}, choices, notice.Purposes, id, method, now)
	r := Receipt{
		Schema: ReceiptSchema, ID: id, Timestamp: now, Controller: pol.Controller,
		NoticeVersion: notice.Version, Language: req.Locale, Jurisdiction: pol.Regime,
		Method: method, Authority: authority, GPC: gpc, Subjects: refs, Purposes: decisions,
		Expires: pol.ValidUntil(now), Evidence: req.Evidence,
	}
	if method == MethodGPC {
		r.Evidence = nil
	}
	return r, next
}

// Store is the service's store (for tools and tests).
func (s *Service) Store() Store { return s.store }
