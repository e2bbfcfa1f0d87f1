package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"

	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/destination"
	"github.com/tact-cdp/tact/internal/marketing"
)

// MarketingStore adapts DB to marketing.Store.
type MarketingStore struct{ db *DB }

// Marketing returns the audiences and destinations view of the store.
func (db *DB) Marketing() *MarketingStore { return &MarketingStore{db: db} }

var _ marketing.Store = (*MarketingStore)(nil)

func (s *MarketingStore) SaveAudience(ctx context.Context, id string, def []byte, by string, at time.Time) (int, bool, error) {
	version, created := 0, false
	err := s.db.WriteTx(ctx, func(tx *Tx) error {
		var latest sql.NullInt64
		var cur sql.NullString
		if err := tx.tx.QueryRowContext(ctx, s.db.q("SELECT version, definition FROM audiences WHERE id = ? ORDER BY version DESC LIMIT 1"), id).Scan(&latest, &cur); err != nil && err != sql.ErrNoRows {
			return err
		}
		if latest.Valid && cur.String == string(def) {
			version, created = int(latest.Int64), false
			return nil
		}
		version, created = int(latest.Int64)+1, true
		return tx.exec(ctx, "INSERT INTO audiences (id, version, definition, created_at, created_by) VALUES (?, ?, ?, ?, ?)", id, version, string(def), micros(at), by)
	})
	return version, created, err
}

func (s *MarketingStore) Audiences(ctx context.Context) ([]marketing.StoredAudience, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(`SELECT a.id, a.version, a.definition, a.created_at, a.created_by FROM audiences a
		WHERE a.version = (SELECT MAX(b.version) FROM audiences b WHERE b.id = a.id) ORDER BY a.id`))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []marketing.StoredAudience
	for rows.Next() {
		var a marketing.StoredAudience
		var def string
		var at int64
		if err := rows.Scan(&a.ID, &a.Version, &def, &at, &a.CreatedBy); err != nil {
			return nil, err
		}
		a.Definition, a.CreatedAt = []byte(def), fromMicros(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *MarketingStore) Exports(ctx context.Context, recipient string, since time.Time) ([]marketing.Export, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q("SELECT id, audience_id, version, recipient, at, size, members FROM audience_exports WHERE recipient = ? AND at >= ? ORDER BY at"), recipient, micros(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []marketing.Export
	for rows.Next() {
		var e marketing.Export
		var at int64
		var blob []byte
		if err := rows.Scan(&e.ID, &e.AudienceID, &e.Version, &e.Recipient, &at, &e.Size, &blob); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		e.Members = make([]uint64, len(blob)/8)
		for i := range e.Members {
			e.Members[i] = binary.BigEndian.Uint64(blob[8*i:])
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

const destCols = "id, name, kind, url, recipient, purpose, fields, secret_gen, max_attempts, created_at"

func scanDestination(scan func(...any) error) (marketing.Destination, error) {
	var d marketing.Destination
	var fields string
	var at int64
	if err := scan(&d.ID, &d.Name, &d.Kind, &d.URL, &d.Recipient, &d.Purpose, &fields, &d.SecretGen, &d.MaxAttempts, &at); err != nil {
		return d, err
	}
	d.CreatedAt = fromMicros(at)
	err := json.Unmarshal([]byte(fields), &d.Fields)
	return d, err
}

func (s *MarketingStore) PutDestination(ctx context.Context, d marketing.Destination) error {
	fields, _ := json.Marshal(d.Fields)
	_, err := s.db.execN(ctx, "INSERT INTO destinations ("+destCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, url = excluded.url, recipient = excluded.recipient,
		purpose = excluded.purpose, fields = excluded.fields, secret_gen = excluded.secret_gen, max_attempts = excluded.max_attempts`,
		d.ID, d.Name, d.Kind, d.URL, d.Recipient, d.Purpose, string(fields), d.SecretGen, d.MaxAttempts, micros(d.CreatedAt))
	return err
}

func (s *MarketingStore) Destination(ctx context.Context, id string) (marketing.Destination, error) {
	d, err := scanDestination(s.db.read.QueryRowContext(ctx, s.db.q("SELECT "+destCols+" FROM destinations WHERE id = ?"), id).Scan)
	return d, notFound(err, "destination "+id)
}

func (s *MarketingStore) Destinations(ctx context.Context) ([]marketing.Destination, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT "+destCols+" FROM destinations ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []marketing.Destination
	for rows.Next() {
		d, err := scanDestination(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *MarketingStore) holdings(ctx context.Context, q string, args ...any) ([]marketing.Holding, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []marketing.Holding
	for rows.Next() {
		var h marketing.Holding
		if err := rows.Scan(&h.DestinationID, &h.AudienceID, &h.SubjectID, &h.Pseudonym); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *MarketingStore) Holdings(ctx context.Context, destinationID, audienceID string) ([]marketing.Holding, error) {
	return s.holdings(ctx, "SELECT destination_id, audience_id, subject_id, pseudonym FROM destination_members WHERE destination_id = ? AND audience_id = ?", destinationID, audienceID)
}

func (s *MarketingStore) SubjectHoldings(ctx context.Context, subjectID string) ([]marketing.Holding, error) {
	return s.holdings(ctx, "SELECT destination_id, audience_id, subject_id, pseudonym FROM destination_members WHERE subject_id = ?", subjectID)
}

func (s *MarketingStore) HeldSubjects(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.column(ctx, "SELECT DISTINCT subject_id FROM destination_members", nil, func(id string) { out = append(out, id) })
	return out, err
}

// CommitSync writes a sync's deliveries, disclosure log entries, holdings,
// export record and propagations in one transaction.
func (s *MarketingStore) CommitSync(ctx context.Context, w marketing.SyncWrite) error {
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		for _, d := range w.Deliveries {
			if err := tx.exec(ctx, `INSERT INTO deliveries (id, destination_id, kind, body, status, attempts, next_at, lease_until, last_status, last_error, created_at, done_at)
				VALUES (?, ?, ?, ?, 'pending', 0, ?, 0, 0, '', ?, 0)`, d.ID, d.DestinationID, d.Kind, d.Body, micros(d.CreatedAt), micros(d.CreatedAt)); err != nil {
				return err
			}
		}
		// The log of a large export goes in rows of 100 per statement.
		for start := 0; start < len(w.Disclosures); start += 100 {
			chunk := w.Disclosures[start:min(start+100, len(w.Disclosures))]
			var q strings.Builder
			q.WriteString("INSERT INTO disclosures (at, recipient, destination_id, purpose, categories, subject, delivery_id) VALUES ")
			args := make([]any, 0, 7*len(chunk))
			for i, d := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
				args = append(args, micros(d.At), d.Recipient, d.DestinationID, d.Purpose, strings.Join(d.Categories, ","), d.Subject, d.DeliveryID)
			}
			if err := tx.exec(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		for _, h := range w.Remove {
			if err := tx.exec(ctx, "DELETE FROM destination_members WHERE destination_id = ? AND audience_id = ? AND subject_id = ?", h.DestinationID, h.AudienceID, h.SubjectID); err != nil {
				return err
			}
		}
		now := time.Now()
		for _, h := range w.Add {
			if err := tx.exec(ctx, "INSERT INTO destination_members (destination_id, audience_id, subject_id, pseudonym, added_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
				h.DestinationID, h.AudienceID, h.SubjectID, h.Pseudonym, micros(now)); err != nil {
				return err
			}
		}
		if e := w.Export; e != nil {
			blob := make([]byte, 8*len(e.Members))
			for i, m := range e.Members {
				binary.BigEndian.PutUint64(blob[8*i:], m)
			}
			if err := tx.exec(ctx, "INSERT INTO audience_exports (id, audience_id, version, recipient, at, size, members) VALUES (?, ?, ?, ?, ?, ?, ?)",
				e.ID, e.AudienceID, e.Version, e.Recipient, micros(e.At), e.Size, blob); err != nil {
				return err
			}
		}
		for _, p := range w.Propagations {
			if err := tx.exec(ctx, `INSERT INTO propagations (id, subject, destination_id, recipient, kind, ref, delivery_id, created_at, due_at, status, done_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`, p.ID, p.Subject, p.DestinationID, p.Recipient, p.Kind, p.Ref, p.DeliveryID, micros(p.CreatedAt), micros(p.DueAt), p.Status); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *MarketingStore) Disclosures(ctx context.Context, subject string) ([]marketing.Disclosure, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q("SELECT at, recipient, destination_id, purpose, categories, delivery_id FROM disclosures WHERE subject = ? ORDER BY id"), subject)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []marketing.Disclosure
	for rows.Next() {
		d := marketing.Disclosure{Subject: subject}
		var at int64
		var cats string
		if err := rows.Scan(&at, &d.Recipient, &d.DestinationID, &d.Purpose, &cats, &d.DeliveryID); err != nil {
			return nil, err
		}
		d.At = fromMicros(at)
		if cats != "" {
			d.Categories = strings.Split(cats, ",")
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *MarketingStore) Propagations(ctx context.Context, destinationID string, onlyOpen bool) ([]marketing.Propagation, error) {
	q := "SELECT id, subject, destination_id, recipient, kind, ref, delivery_id, created_at, due_at, status, done_at FROM propagations WHERE destination_id = ?"
	if onlyOpen {
		q += " AND status <> 'delivered'"
	}
	rows, err := s.db.read.QueryContext(ctx, s.db.q(q+" ORDER BY created_at"), destinationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []marketing.Propagation
	for rows.Next() {
		var p marketing.Propagation
		var created, due, done int64
		if err := rows.Scan(&p.ID, &p.Subject, &p.DestinationID, &p.Recipient, &p.Kind, &p.Ref, &p.DeliveryID, &created, &due, &p.Status, &done); err != nil {
			return nil, err
		}
		p.CreatedAt, p.DueAt, p.DoneAt = fromMicros(created), fromMicros(due), fromMicros(done)
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *MarketingStore) PropagationRefs(ctx context.Context, subject, kind, ref string) (map[string]bool, error) {
	out := map[string]bool{}
	if ref == "" {
		return out, nil
	}
	err := s.db.column(ctx, "SELECT destination_id FROM propagations WHERE subject = ? AND kind = ? AND ref = ?", []any{subject, kind, ref}, func(id string) { out[id] = true })
	return out, err
}

func (s *MarketingStore) Counts(ctx context.Context, destinationID string, now time.Time) (marketing.DeliveryCounts, error) {
	var c marketing.DeliveryCounts
	rows, err := s.db.read.QueryContext(ctx, s.db.q("SELECT status, COUNT(*) FROM deliveries WHERE destination_id = ? GROUP BY status"), destinationID)
	if err != nil {
		return c, err
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return c, err
		}
		switch st {
		case "pending":
			c.Pending = n
		case "delivered":
			c.Delivered = n
		case "dead":
			c.Dead = n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, err
	}
	err = s.db.read.QueryRowContext(ctx, s.db.q(`SELECT COALESCE(SUM(CASE WHEN status <> 'delivered' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status <> 'delivered' AND due_at < ? THEN 1 ELSE 0 END), 0) FROM propagations WHERE destination_id = ?`), micros(now), destinationID).
		Scan(&c.PropagationsPending, &c.PropagationsOverdue)
	return c, err
}

func (s *MarketingStore) OverduePropagations(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.db.read.QueryRowContext(ctx, s.db.q("SELECT COUNT(*) FROM propagations WHERE status <> 'delivered' AND due_at < ?"), micros(now)).Scan(&n)
	return n, err
}

// SeparateReceipt implements marketing.Store: a receipt of the subject
// granting purpose whose evidence names the recipient.
func (s *MarketingStore) SeparateReceipt(ctx context.Context, subjectID, recipientID, purpose string) (bool, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q("SELECT body FROM receipts WHERE subject_id = ? ORDER BY created_at DESC"), subjectID)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return false, err
		}
		var r struct {
			Evidence map[string]string `json:"evidence"`
			Purposes []struct {
				ID      string `json:"id"`
				Granted bool   `json:"granted"`
			} `json:"purposes"`
		}
		if json.Unmarshal(body, &r) != nil || r.Evidence["recipient"] != recipientID {
			continue
		}
		for _, p := range r.Purposes {
			if p.ID == purpose {
				return p.Granted, nil
			}
		}
	}
	return false, rows.Err()
}

func (s *MarketingStore) DueDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]marketing.QueuedDelivery, error) {
	var out []marketing.QueuedDelivery
	err := s.db.WriteTx(ctx, func(tx *Tx) error {
		out = out[:0]
		rows, err := tx.tx.QueryContext(ctx, s.db.q(`SELECT id, destination_id, kind, body, attempts, created_at FROM deliveries
			WHERE status = 'pending' AND next_at <= ? AND lease_until <= ? ORDER BY created_at, id LIMIT ?`+s.db.dialect.ForUpdate), micros(now), micros(now), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d marketing.QueuedDelivery
			var at int64
			if err := rows.Scan(&d.ID, &d.DestinationID, &d.Kind, &d.Body, &d.Attempts, &at); err != nil {
				rows.Close()
				return err
			}
			d.CreatedAt = fromMicros(at)
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range out {
			if err := tx.exec(ctx, "UPDATE deliveries SET lease_until = ? WHERE id = ?", micros(now.Add(lease)), d.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func (s *MarketingStore) FinishDelivery(ctx context.Context, id string, at time.Time, o destination.Outcome) error {
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		switch {
		case o.Delivered:
			if err := tx.exec(ctx, "UPDATE deliveries SET status = 'delivered', body = NULL, attempts = ?, last_status = ?, last_error = '', lease_until = 0, done_at = ? WHERE id = ?",
				o.Attempts, o.Status, micros(at), id); err != nil {
				return err
			}
			return tx.exec(ctx, "UPDATE propagations SET status = 'delivered', done_at = ? WHERE delivery_id = ?", micros(at), id)
		case o.Dead:
			if err := tx.exec(ctx, "UPDATE deliveries SET status = 'dead', attempts = ?, last_status = ?, last_error = ?, lease_until = 0, done_at = ? WHERE id = ?",
				o.Attempts, o.Status, o.Err, micros(at), id); err != nil {
				return err
			}
			return tx.exec(ctx, "UPDATE propagations SET status = 'dead' WHERE delivery_id = ?", id)
		default:
			return tx.exec(ctx, "UPDATE deliveries SET attempts = ?, last_status = ?, last_error = ?, next_at = ?, lease_until = 0 WHERE id = ?",
				o.Attempts, o.Status, o.Err, micros(o.NextAt), id)
		}
	})
}

// EachInterest lists every stored interest score (audiences with interest
// conditions).
func (s *InterestStore) EachInterest(ctx context.Context, fn func(subjectID, category string, score float64, updated time.Time) error) error {
	rows, err := s.db.read.QueryContext(ctx, "SELECT subject_id, category, score, updated_at FROM interests")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, cat string
		var score float64
		var at int64
		if err := rows.Scan(&id, &cat, &score, &at); err != nil {
			return err
		}
		if err := fn(id, cat, score, fromMicros(at)); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ExportData implements marketing.Store: for a chunk of subjects (at most
// maxInList), their consent state, data keys, sealed address and locale
// for channel, and sealed unsubscribe token for channel — four queries
// instead of several per member.
func (s *MarketingStore) ExportData(ctx context.Context, ids []string, channel string) (map[string]*marketing.MemberData, error) {
	out := make(map[string]*marketing.MemberData, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	get := func(id string) *marketing.MemberData {
		d := out[id]
		if d == nil {
			d = &marketing.MemberData{}
			out[id] = d
		}
		return d
	}
	in := inList(len(ids))
	rows, err := s.db.read.QueryContext(ctx, s.db.q("SELECT id, created_at, minor, gpc_at, restricted_at, state FROM subjects WHERE id IN "+in), args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var sj consent.Subject
		var created, gpc, restricted int64
		var state []byte
		if err := rows.Scan(&sj.ID, &created, &sj.Minor, &gpc, &restricted, &state); err != nil {
			rows.Close()
			return nil, err
		}
		sj.CreatedAt, sj.GPCAt, sj.RestrictedAt = fromMicros(created), fromMicros(gpc), fromMicros(restricted)
		if err := json.Unmarshal(state, &sj.State); err != nil {
			rows.Close()
			return nil, err
		}
		if sj.State == nil {
			sj.State = consent.State{}
		}
		d := get(sj.ID)
		d.Subject, d.Exists = sj, true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if rows, err = s.db.read.QueryContext(ctx, s.db.q("SELECT subject_id, key_id, kek, wrapped FROM subject_keys WHERE subject_id IN "+in), args...); err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var kid []byte
		var k consent.StoredKey
		if err := rows.Scan(&id, &kid, &k.Wrapped.KEK, &k.Wrapped.Blob); err != nil {
			rows.Close()
			return nil, err
		}
		copy(k.ID[:], kid)
		get(id).Keys = append(get(id).Keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	cargs := append([]any{channel}, args...)
	if rows, err = s.db.read.QueryContext(ctx, s.db.q("SELECT subject_id, sealed, locale FROM marketing_contacts WHERE channel = ? AND subject_id IN "+in), cargs...); err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, locale string
		var sealed []byte
		if err := rows.Scan(&id, &sealed, &locale); err != nil {
			rows.Close()
			return nil, err
		}
		d := get(id)
		d.SealedContact, d.Locale = sealed, locale
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if rows, err = s.db.read.QueryContext(ctx, s.db.q("SELECT subject_id, sealed FROM unsubscribe_tokens WHERE list = ? AND subject_id IN "+in), cargs...); err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var sealed []byte
		if err := rows.Scan(&id, &sealed); err != nil {
			rows.Close()
			return nil, err
		}
		get(id).SealedUnsubscribe = sealed
	}
	rows.Close()
	return out, rows.Err()
}
