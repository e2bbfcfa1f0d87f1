package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
)

// Deduplication by messageId (DESIGN 5.1, docs/storage.md).
//
// The window of claimed keys lives in memory, one set of 8-byte fingerprints
// per received day; the store keeps it as an append-only log, one row per
// committed transaction holding the 16-byte keys it claimed. Claiming a key is
// then a map lookup and the commit appends one short row, instead of a random
// insert into a unique index per event (which cost ~40 % of the writer's
// time, see docs/storage.md).
//
// Other processes writing the same store (a `tact import` beside `tact serve`
// on SQLite, other nodes on PostgreSQL) append to the same log. Each
// transaction that claims keys first reads the rows appended since it last
// looked, while it holds the dedup lock: SQLite's write lock (BEGIN
// IMMEDIATE), or on PostgreSQL Dialect.LockDedup. Appends are thereby
// serialised, so ids grow in commit order and "id > last seen" misses none.

// dedupKeySize is the length of one key in the log.
const dedupKeySize = 16

// dedupWindow is the in-memory window. Only write transactions touch it.
type dedupWindow struct {
	mu     sync.Mutex
	lastID int64 // newest log row folded in
	loaded bool  // the legacy table was read
	set    fingerprintSet
}

func newDedupWindow() *dedupWindow { return &dedupWindow{} }

// fingerprint is the in-memory form of a key: its first 8 bytes. Keys are
// keyed hashes, so the chance that two of the ~10⁷ keys of a busy week share
// one is about 3 in a million (n²/2⁶⁵).
func fingerprint(key []byte) uint64 { return binary.LittleEndian.Uint64(key) }

func (w *dedupWindow) hasLocked(fp uint64) bool { return w.set.has(fp) }

func (w *dedupWindow) addLocked(day int64, fp uint64) { w.set.add(fp, day) }

// foldKeys adds a log row's keys.
func (w *dedupWindow) foldKeys(day int64, keys []byte) error {
	if len(keys)%dedupKeySize != 0 {
		return fmt.Errorf("store: dedup log row of %d bytes is not a whole number of keys", len(keys))
	}
	for i := 0; i < len(keys); i += dedupKeySize {
		w.addLocked(day, fingerprint(keys[i:]))
	}
	return nil
}

// close releases the window's memory; the store is closed.
func (w *dedupWindow) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.set.free != nil {
		w.set.free()
	}
	w.set = fingerprintSet{}
}

// expire forgets the days before beforeDay.
func (w *dedupWindow) expire(beforeDay int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.set.expire(beforeDay)
}

// dedupClaim is a key claimed by a transaction not yet committed.
type dedupClaim struct {
	key [dedupKeySize]byte
	day int64
}

// syncDedup brings the window up to date with the log, once per
// transaction, under the dedup lock.
func (t *Tx) syncDedup(ctx context.Context) error {
	if t.dedupSynced {
		return nil
	}
	if q := t.db.dialect.LockDedup; q != "" {
		if err := t.exec(ctx, q); err != nil {
			return err
		}
	}
	w := t.db.dedup
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.loaded {
		// Keys claimed before the log existed (migration 00009).
		rows, err := t.query(ctx, "SELECT key, day FROM event_dedup")
		if err != nil {
			return err
		}
		for rows.Next() {
			var k []byte
			var day int64
			if err := rows.Scan(&k, &day); err != nil {
				rows.Close()
				return err
			}
			if len(k) == dedupKeySize {
				w.addLocked(day, fingerprint(k))
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		w.loaded = true
	}
	rows, err := t.query(ctx, "SELECT id, day, keys FROM event_dedup_log WHERE id > ? ORDER BY id", w.lastID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, day int64
		var keys []byte
		if err := rows.Scan(&id, &day, &keys); err != nil {
			return err
		}
		if err := w.foldKeys(day, keys); err != nil {
			return err
		}
		w.lastID = id
	}
	if err := rows.Err(); err != nil {
		return err
	}
	t.dedupSynced = true
	return nil
}

// claimDedup claims key for day: false if it was claimed before, by a
// committed transaction or earlier in this one.
func (t *Tx) claimDedup(key [dedupKeySize]byte, day int64) bool {
	fp := fingerprint(key[:])
	if _, ok := t.dedupSeen[fp]; ok {
		return false
	}
	w := t.db.dedup
	w.mu.Lock()
	seen := w.hasLocked(fp)
	w.mu.Unlock()
	if seen {
		return false
	}
	if t.dedupSeen == nil {
		t.dedupSeen = map[uint64]struct{}{}
	}
	t.dedupSeen[fp] = struct{}{}
	t.dedupPending = append(t.dedupPending, dedupClaim{key: key, day: day})
	return true
}

// dropClaimsAfter forgets the claims of writes rolled back to a savepoint.
func (t *Tx) dropClaimsAfter(n int) {
	for _, c := range t.dedupPending[n:] {
		delete(t.dedupSeen, fingerprint(c.key[:]))
	}
	t.dedupPending = t.dedupPending[:n]
}

// flushDedup appends the transaction's claims to the log, one row per day.
func (t *Tx) flushDedup(ctx context.Context) error {
	if len(t.dedupPending) == 0 {
		return nil
	}
	byDay := map[int64][]byte{}
	var order []int64
	for _, c := range t.dedupPending {
		if _, ok := byDay[c.day]; !ok {
			order = append(order, c.day)
		}
		byDay[c.day] = append(byDay[c.day], c.key[:]...)
	}
	for _, day := range order {
		var id int64
		if err := t.queryRow(ctx, "INSERT INTO event_dedup_log (day, keys) VALUES (?, ?) RETURNING id", day, byDay[day]).Scan(&id); err != nil {
			return err
		}
		t.dedupLastID = max(t.dedupLastID, id)
	}
	return nil
}

// commitDedup moves a committed transaction's claims into the window.
func (t *Tx) commitDedup() {
	if len(t.dedupPending) == 0 {
		return
	}
	w := t.db.dedup
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range t.dedupPending {
		w.addLocked(c.day, fingerprint(c.key[:]))
	}
	w.lastID = max(w.lastID, t.dedupLastID)
}

// fingerprintSet is an open-addressing hash set of fingerprints with the
// day each was received: ~10 bytes a slot, about 16 per key, where a Go map
// of per-day sets took about 35 (measured), and the window holds a week of
// keys. Fingerprints are uniform already, so their low bits pick the slot.
type fingerprintSet struct {
	fps  []uint64 // 0: an empty slot
	days []uint16 // Unix day of each slot (fits until 2149)
	n    int
	free func() // unmaps fps and days (offHeap)
}

const minFingerprintSlots = 1 << 16

// nonZero keeps 0 free to mark an empty slot.
func nonZero(fp uint64) uint64 {
	if fp == 0 {
		return 1
	}
	return fp
}

func (s *fingerprintSet) has(fp uint64) bool {
	if s.n == 0 {
		return false
	}
	fp = nonZero(fp)
	mask := uint64(len(s.fps) - 1)
	for i := fp & mask; ; i = (i + 1) & mask {
		switch s.fps[i] {
		case 0:
			return false
		case fp:
			return true
		}
	}
}

func (s *fingerprintSet) add(fp uint64, day int64) {
	if (s.n+1)*4 > len(s.fps)*3 {
		s.resize(max(minFingerprintSlots, 2*len(s.fps)), 0)
	}
	s.insert(nonZero(fp), uint16(day))
}

func (s *fingerprintSet) insert(fp uint64, day uint16) {
	mask := uint64(len(s.fps) - 1)
	for i := fp & mask; ; i = (i + 1) & mask {
		switch s.fps[i] {
		case 0:
			s.fps[i], s.days[i] = fp, day
			s.n++
			return
		case fp:
			s.days[i] = max(s.days[i], day)
			return
		}
	}
}

// resize rehashes into slots slots, keeping the entries from day keep on.
func (s *fingerprintSet) resize(slots int, keep int64) {
	old, oldDays, freeOld := s.fps, s.days, s.free
	fps, freeFps := offHeap[uint64](slots)
	days, freeDays := offHeap[uint16](slots)
	s.fps, s.days, s.n, s.free = fps, days, 0, func() { freeFps(); freeDays() }
	for i, fp := range old {
		if fp != 0 && int64(oldDays[i]) >= keep {
			s.insert(fp, oldDays[i])
		}
	}
	if freeOld != nil {
		freeOld()
	}
}

// expire drops the entries of days before beforeDay, and shrinks the table
// when most of it went.
func (s *fingerprintSet) expire(beforeDay int64) {
	kept := 0
	for i, fp := range s.fps {
		if fp != 0 && int64(s.days[i]) >= beforeDay {
			kept++
		}
	}
	if kept == s.n {
		return
	}
	slots := minFingerprintSlots
	for (kept+1)*2 > slots { // at most half full after expiry
		slots *= 2
	}
	s.resize(slots, beforeDay)
}
