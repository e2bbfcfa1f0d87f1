package collect

import (
	"context"
	"sync"
	"time"

	"github.com/tact-cdp/tact/internal/vault"
)

// shopperCache keeps what the gate reads of known (and unknown) identifiers
// so that an event for a shopper seen recently costs no store lookup.
//
// Correctness rests on invalidation before acknowledgement: every consent
// decision, identity link and erasure in this process bumps the version of
// the subjects it touched (and the generation of "unknown" answers, since
// it may have created identities) before it is answered, and an entry is
// used only while its version is current. An entry read from the store is
// stamped with the versions taken before the read, so a change that commits
// during the read makes it stale at once. Other nodes sharing a PostgreSQL
// database send notices (RemoteChanged); entries also expire after the TTL,
// which bounds what no notice reaches (a command run against a serving
// SQLite store, a lost notice).
type shopperCache struct {
	ttl time.Duration
	max int

	mu       sync.Mutex
	entries  map[vault.Pseudonym]cacheEntry
	versions map[string]uint64 // subject id → version
	unknown  uint64            // generation of "not known" answers
	floor    uint64            // entries older than this are stale (versions was cleared)
	clock    uint64            // source of versions
}

type cacheEntry struct {
	known   bool
	shopper Shopper
	version uint64 // subject version (known) or unknown generation
	at      time.Time
}

func newShopperCache(ttl time.Duration, max int) *shopperCache {
	return &shopperCache{ttl: ttl, max: max, entries: map[vault.Pseudonym]cacheEntry{}, versions: map[string]uint64{}}
}

// invalidate makes every entry of the subjects, and every "unknown" entry,
// stale.
func (c *shopperCache) invalidate(subjectIDs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clock++
	c.unknown = c.clock
	if len(c.versions)+len(subjectIDs) > c.max {
		// Forget per-subject versions: everything cached so far is stale.
		clear(c.versions)
		c.floor = c.clock
	}
	for _, id := range subjectIDs {
		if id != "" {
			c.versions[id] = c.clock
		}
	}
}

// invalidateAll makes every entry stale.
func (c *shopperCache) invalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clock++
	c.unknown = c.clock
	clear(c.versions)
	c.floor = c.clock
}

// snapshot is the version a store read is stamped with.
type snapshot struct{ clock uint64 }

// lookup returns the cached answers for ps and the pseudonyms to read from
// the store, with the snapshot to stamp that read with.
func (c *shopperCache) lookup(ps []vault.Pseudonym, now time.Time) (found map[vault.Pseudonym]Shopper, missing []vault.Pseudonym, snap snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	found = make(map[vault.Pseudonym]Shopper, len(ps))
	snap = snapshot{clock: c.clock}
	for _, p := range ps {
		e, ok := c.entries[p]
		switch {
		case !ok || now.Sub(e.at) > c.ttl || e.version < c.floor:
			missing = append(missing, p)
		case e.known && e.version >= c.versions[e.shopper.Subject.ID]:
			found[p] = e.shopper
		case !e.known && e.version >= c.unknown:
		default:
			missing = append(missing, p)
		}
	}
	return found, missing, snap
}

// store records a store read of ps taken at snap.
func (c *shopperCache) store(ps []vault.Pseudonym, read map[vault.Pseudonym]Shopper, snap snapshot, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries)+len(ps) > c.max {
		for p := range c.entries { // evict an arbitrary quarter
			delete(c.entries, p)
			if len(c.entries) < c.max*3/4 {
				break
			}
		}
	}
	for _, p := range ps {
		sh, known := read[p]
		if known {
			// Stamped with the clock before the read: a change since then
			// has a higher version and wins.
			c.entries[p] = cacheEntry{known: true, shopper: sh, version: snap.clock, at: now}
		} else {
			c.entries[p] = cacheEntry{version: snap.clock, at: now}
		}
	}
}

// shoppers answers from the cache and reads the rest from the store.
func (s *Service) shoppers(ctx context.Context, ps []vault.Pseudonym) (map[vault.Pseudonym]Shopper, error) {
	now := time.Now()
	found, missing, snap := s.cache.lookup(ps, now)
	if len(missing) == 0 {
		return found, nil
	}
	read, err := s.store.Shoppers(ctx, missing)
	if err != nil {
		return nil, err
	}
	s.cache.store(missing, read, snap, now)
	for p, sh := range read {
		found[p] = sh
	}
	return found, nil
}
