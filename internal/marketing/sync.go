package marketing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/audience"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/destination"
	"github.com/tact-cdp/tact/internal/optin"
	"github.com/tact-cdp/tact/internal/vault"
)

// SyncResult is what a sync or export did.
type SyncResult struct {
	Audience    string   `json:"audience"`
	Version     int      `json:"version"`
	Destination string   `json:"destination"`
	Members     int      `json:"members"`
	Added       int      `json:"added"`
	Removed     int      `json:"removed"`
	Deliveries  []string `json:"deliveries,omitempty"`
}

// Progress is told how far a long sync or export got.
type Progress func(done, total int)

// member is one audience member on the way out.
type member struct {
	subjectID string
	out       destination.Member
	email     bool // an address (or its hash) leaves
}

// guard refuses exports that could single people out: audiences under the
// minimum size, and exports that differ from an earlier export to the same
// recipient of an overlapping audience (another audience, or another
// version of this one) by fewer than the minimum number of people.
func (s *Service) guard(ctx context.Context, d audience.Definition, dest Destination, members []string) ([]uint64, error) {
	min := s.MinSize
	if len(members) < min {
		return nil, tact.Errorf(tact.EINVALID, "audience %s has %d members, fewer than the minimum of %d: it cannot be exported", d.ID, len(members), min)
	}
	fps := make([]uint64, len(members))
	mac := hmac.New(sha256.New, s.fpKey)
	var sum [sha256.Size]byte
	for i, id := range members {
		mac.Reset()
		mac.Write([]byte(id))
		fps[i] = binary.BigEndian.Uint64(mac.Sum(sum[:0]))
	}
	slices.Sort(fps)
	earlier, err := s.Store.Exports(ctx, dest.ID, s.now().AddDate(-1, 0, 0))
	if err != nil {
		return nil, err
	}
	for _, e := range earlier {
		if e.AudienceID == d.ID && e.Version == d.Version {
			continue // the same audience, kept up to date
		}
		inter := intersect(fps, e.Members)
		if inter == 0 {
			continue
		}
		diff := len(fps) + len(e.Members) - 2*inter
		if diff > 0 && diff < min {
			return nil, tact.Errorf(tact.EINVALID, "audience %s v%d differs from the export of %s v%d to %s on %s by %d people, fewer than the minimum of %d: exporting both could single them out",
				d.ID, d.Version, e.AudienceID, e.Version, dest.ID, e.At.Format("2006-01-02"), diff, min)
		}
	}
	return fps, nil
}

func intersect(a, b []uint64) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return n
}

// prepare checks that a destination may receive an audience and returns
// both.
func (s *Service) prepare(ctx context.Context, audienceID, destinationID string) (audience.Definition, Destination, error) {
	dest, err := s.Store.Destination(ctx, destinationID)
	if err != nil {
		return audience.Definition{}, dest, err
	}
	var d audience.Definition
	found := false
	for _, x := range s.Engine.Definitions() {
		if x.ID == audienceID {
			d, found = x, true
		}
	}
	if !found {
		if _, err := s.Audience(ctx, audienceID); err != nil {
			return d, dest, err
		}
		return s.prepare(ctx, audienceID, destinationID)
	}
	if d.Purpose != dest.Purpose {
		return d, dest, tact.Errorf(tact.EINVALID, "audience %s is for %s, destination %s for %s", d.ID, d.Purpose, dest.ID, dest.Purpose)
	}
	if usesInterests(d.Where) {
		if err := s.refreshInterests(ctx); err != nil {
			return d, dest, err
		}
	}
	return d, dest, nil
}

// members builds what leaves for each current member: the destination's
// pseudonym, and only the fields it declared and each shopper allows. What
// it needs of the shoppers is read in chunks.
func (s *Service) members(ctx context.Context, d audience.Definition, dest Destination, ids []string) ([]member, error) {
	m := s.DataMap()
	pol := s.Consent.Policy()
	rec, _ := m.Recipient(dest.Recipient)
	reg, _ := m.Regime(pol.Regime)
	now := s.Now()
	want := func(f string) bool { return slices.Contains(dest.Fields, f) }
	channel := datamap.PurposeMarketingEmail
	if dest.Purpose == datamap.PurposeMarketingSMS {
		channel = datamap.PurposeMarketingSMS
	}
	out := make([]member, 0, len(ids))
	// Chunks are read ahead, two at a time, on the reader pool.
	type fetched struct {
		data map[string]*MemberData
		err  error
	}
	var chunks [][]string
	for start := 0; start < len(ids); start += 500 {
		chunks = append(chunks, ids[start:min(start+500, len(ids))])
	}
	results := make([]chan fetched, len(chunks))
	for i := range results {
		results[i] = make(chan fetched, 1)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, 2)
	go func() {
		for i, c := range chunks {
			select {
			case sem <- struct{}{}:
			case <-cctx.Done():
				return
			}
			go func() {
				data, err := s.Store.ExportData(cctx, c, channel)
				results[i] <- fetched{data, err}
				<-sem
			}()
		}
	}()
	for ci, chunk := range chunks {
		f := <-results[ci]
		data, err := f.data, f.err
		if err != nil {
			return nil, err
		}
		for _, id := range chunk {
			md := data[id]
			if md == nil || !md.Exists || md.Subject.Minor {
				continue
			}
			allowed := func(p string) bool { return pol.Allowed(md.Subject.State, md.Subject.Flags(), p, now) }
			if !allowed(d.Purpose) {
				continue
			}
			if reg.ID == "pipl" && (rec.Role != datamap.RoleProcessor || rec.Country != "CN") {
				ok, err := s.separateConsent(ctx, id, rec.ID, d.Purpose)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
			}
			mb := member{subjectID: id, out: destination.Member{Pseudonym: s.destinationPseudonym(dest.ID, id)}}
			var dk vault.DataKey
			opened := false
			key := func(sealed []byte) (vault.DataKey, bool) {
				if opened {
					return dk, true
				}
				kid, err := vault.SealedKeyID(sealed)
				if err != nil {
					return dk, false
				}
				for _, k := range md.Keys {
					if k.ID == kid {
						if dk, err = s.Vault.UnwrapDataKey(ctx, k.ID, k.Wrapped); err == nil {
							opened = true
							return dk, true
						}
					}
				}
				return dk, false
			}
			address := func() string {
				if md.SealedContact == nil {
					return ""
				}
				if k, ok := key(md.SealedContact); ok {
					a, _ := optin.OpenContact(k, md.SealedContact)
					return a
				}
				return ""
			}
			if want("email") && dest.Purpose == datamap.PurposeMarketingEmail {
				if a := address(); a != "" {
					mb.out.Email, mb.email = a, true
				}
			}
			// A hashed address only to advertising destinations, for
			// shoppers who granted advertising (and sale/sharing where the
			// regime is opt-out).
			if want("email_sha256") && dest.Purpose == datamap.PurposeAdvertising && allowed(datamap.PurposeAdvertising) &&
				(reg.Model != datamap.ModelOptOut || allowed(datamap.PurposeSaleShare)) {
				if a := address(); a != "" {
					mb.out.EmailSHA256, mb.email = destination.EmailSHA256(a), true
				}
			}
			if want("unsubscribe_url") && dest.Purpose != datamap.PurposeAdvertising {
				u := ""
				if md.SealedUnsubscribe != nil {
					if k, ok := key(md.SealedUnsubscribe); ok {
						u, _ = s.OptIn.OpenUnsubscribeURL(k, md.SealedUnsubscribe)
					}
				}
				if u == "" {
					if u, err = s.OptIn.UnsubscribeURL(ctx, id, dest.Purpose); err != nil {
						return nil, err
					}
				}
				mb.out.UnsubscribeURL = u
			}
			if want("locale") {
				mb.out.Locale = md.Locale
			}
			out = append(out, mb)
		}
	}
	return out, nil
}

// outgoing is who leaves for a destination now, past the guard, with
// their fingerprints for the export record.
func (s *Service) outgoing(ctx context.Context, d audience.Definition, dest Destination) ([]member, []uint64, error) {
	members, err := s.members(ctx, d, dest, s.Engine.Members(d.ID))
	if err != nil {
		return nil, nil, err
	}
	ids := make([]string, len(members))
	for i, mb := range members {
		ids[i] = mb.subjectID
	}
	fps, err := s.guard(ctx, d, dest, ids)
	return members, fps, err
}

// separateConsent reports whether the shopper holds a receipt granting the
// purpose whose evidence names the recipient ("recipient": id) — PIPL Art.
// 23 and 39: a separate consent for a third-party controller or an overseas
// recipient.
func (s *Service) separateConsent(ctx context.Context, subjectID, recipientID, purpose string) (bool, error) {
	return s.Store.SeparateReceipt(ctx, subjectID, recipientID, purpose)
}

// categorizer returns the data categories a member's delivery discloses:
// what membership reveals, and the address when it leaves.
func (s *Service) categorizer(d audience.Definition) func(mb member) []string {
	base := s.audienceCategories(d)
	withEmail := append(slices.Clone(base), "contact.email")
	return func(mb member) []string {
		if mb.email {
			return withEmail
		}
		return base
	}
}

// Sync brings a webhook destination up to date with an audience: members
// who joined are sent with the destination's fields, members who left by
// pseudonym only; each delivery is signed, queued and logged in the
// disclosure log in one transaction.
func (s *Service) Sync(ctx context.Context, audienceID, destinationID string, progress Progress) (SyncResult, error) {
	d, dest, err := s.prepare(ctx, audienceID, destinationID)
	if err != nil {
		return SyncResult{}, err
	}
	if dest.Kind != "webhook" {
		return SyncResult{}, tact.Errorf(tact.EINVALID, "destination %s is a file destination: use tact audiences export", dest.ID)
	}
	members, fps, err := s.outgoing(ctx, d, dest)
	if err != nil {
		return SyncResult{}, err
	}
	held, err := s.Store.Holdings(ctx, dest.ID, d.ID)
	if err != nil {
		return SyncResult{}, err
	}
	had := map[string]Holding{}
	for _, h := range held {
		had[h.SubjectID] = h
	}
	now := s.now()
	res := SyncResult{Audience: d.ID, Version: d.Version, Destination: dest.ID, Members: len(members)}
	var w SyncWrite
	var adds []member
	categories := s.categorizer(d)
	for _, mb := range members {
		if _, ok := had[mb.subjectID]; ok {
			delete(had, mb.subjectID)
			continue
		}
		adds = append(adds, mb)
	}
	var removes []Holding
	for _, h := range had {
		removes = append(removes, h)
	}
	slices.SortFunc(removes, func(a, b Holding) int { return compare(a.SubjectID, b.SubjectID) })
	total := len(adds) + len(removes)
	for start := 0; start < len(adds) || (start == 0 && len(removes) > 0); start += membersPerDelivery {
		chunk := adds[min(start, len(adds)):min(start+membersPerDelivery, len(adds))]
		var gone []Holding
		if start == 0 {
			gone = removes
		}
		id := newID("dlv_")
		body := syncBody{Type: "audience.sync", DeliveryID: id, Destination: dest.ID, Audience: audienceRef{d.ID, d.Version, d.Name},
			Purpose: d.Purpose, SentAt: now, Add: []destination.Member{}, Remove: []string{}}
		for _, mb := range chunk {
			body.Add = append(body.Add, mb.out)
			w.Add = append(w.Add, Holding{DestinationID: dest.ID, AudienceID: d.ID, SubjectID: mb.subjectID, Pseudonym: mb.out.Pseudonym})
			w.Disclosures = append(w.Disclosures, Disclosure{At: now, Recipient: dest.Recipient, DestinationID: dest.ID, Purpose: d.Purpose,
				Categories: categories(mb), Subject: s.DisclosureSubject(mb.subjectID), DeliveryID: id})
		}
		for _, h := range gone {
			body.Remove = append(body.Remove, h.Pseudonym)
			w.Remove = append(w.Remove, h)
		}
		dl, err := s.delivery(id, dest.ID, "audience.sync", body, now)
		if err != nil {
			return res, err
		}
		w.Deliveries = append(w.Deliveries, dl)
		res.Deliveries = append(res.Deliveries, id)
		if progress != nil {
			progress(min(start+membersPerDelivery, len(adds))+len(gone), total)
		}
		if start+membersPerDelivery >= len(adds) {
			break
		}
	}
	res.Added, res.Removed = len(adds), len(removes)
	w.Export = &Export{ID: newID("exp_"), AudienceID: d.ID, Version: d.Version, Recipient: dest.ID, At: now, Size: len(members), Members: fps}
	if err := s.Store.CommitSync(ctx, w); err != nil {
		return res, err
	}
	s.hold(w.Add)
	s.Sender.Kick()
	return res, nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Service) hold(hs []Holding) {
	s.mu.Lock()
	for _, h := range hs {
		s.held[h.SubjectID] = true
	}
	s.mu.Unlock()
}

type audienceRef struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Name    string `json:"name"`
}

type syncBody struct {
	Type        string               `json:"type"`
	DeliveryID  string               `json:"deliveryId"`
	Destination string               `json:"destination"`
	Audience    audienceRef          `json:"audience"`
	Purpose     string               `json:"purpose"`
	SentAt      time.Time            `json:"sentAt"`
	Add         []destination.Member `json:"add"`
	Remove      []string             `json:"remove"`
}

// Export writes an audience to w for a file destination (CSV or JSONL),
// with the same guard, fields and disclosure log as a sync.
func (s *Service) Export(ctx context.Context, audienceID, destinationID, format string, w io.Writer, progress Progress) (SyncResult, error) {
	d, dest, err := s.prepare(ctx, audienceID, destinationID)
	if err != nil {
		return SyncResult{}, err
	}
	if dest.Kind != "file" {
		return SyncResult{}, tact.Errorf(tact.EINVALID, "destination %s is a webhook: use tact destinations sync", dest.ID)
	}
	var enc destination.Encoder
	switch format {
	case "csv":
		enc, err = destination.NewCSV(w, dest.Fields)
	case "jsonl", "":
		enc, err = destination.NewJSONL(w, dest.Fields)
	default:
		return SyncResult{}, tact.Errorf(tact.EINVALID, "format must be csv or jsonl")
	}
	if err != nil {
		return SyncResult{}, err
	}
	members, fps, err := s.outgoing(ctx, d, dest)
	if err != nil {
		return SyncResult{}, err
	}
	now := s.now()
	id := newID("exp_")
	var wr SyncWrite
	categories := s.categorizer(d)
	wr.Disclosures = make([]Disclosure, 0, len(members))
	for i, mb := range members {
		if err := enc.Write(mb.out); err != nil {
			return SyncResult{}, err
		}
		wr.Disclosures = append(wr.Disclosures, Disclosure{At: now, Recipient: dest.Recipient, DestinationID: dest.ID, Purpose: d.Purpose,
			Categories: categories(mb), Subject: s.DisclosureSubject(mb.subjectID), DeliveryID: id})
		if progress != nil && (i%1000 == 999 || i == len(members)-1) {
			progress(i+1, len(members))
		}
	}
	if err := enc.Close(); err != nil {
		return SyncResult{}, err
	}
	wr.Export = &Export{ID: id, AudienceID: d.ID, Version: d.Version, Recipient: dest.ID, At: now, Size: len(members), Members: fps}
	if err := s.Store.CommitSync(ctx, wr); err != nil {
		return SyncResult{}, err
	}
	return SyncResult{Audience: d.ID, Version: d.Version, Destination: dest.ID, Members: len(members), Added: len(members)}, nil
}

// delivery seals a webhook body for the queue.
func (s *Service) delivery(id, destinationID, kind string, body any, now time.Time) (Delivery, error) {
	plain, err := json.Marshal(body)
	if err != nil {
		return Delivery{}, err
	}
	sealed, err := s.seal(id, plain)
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{ID: id, DestinationID: destinationID, Kind: kind, Body: sealed, CreatedAt: now}, nil
}

var _ = fmt.Sprintf
