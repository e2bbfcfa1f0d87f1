package collect

import (
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/vault"
)

func TestShopperCacheInvalidation(t *testing.T) {
	now := time.Now()
	c := newShopperCache(time.Minute, 100)
	p, q := vault.Pseudonym{1}, vault.Pseudonym{2}
	sh := Shopper{Subject: consent.Subject{ID: "sb_1"}}

	_, missing, snap := c.lookup([]vault.Pseudonym{p, q}, now)
	if len(missing) != 2 {
		t.Fatalf("empty cache answered %v", missing)
	}
	c.store(missing, map[vault.Pseudonym]Shopper{p: sh}, snap, now)
	found, missing, _ := c.lookup([]vault.Pseudonym{p, q}, now)
	if len(found) != 1 || len(missing) != 0 {
		t.Fatalf("after a read: found %v, missing %v (q is known to be unknown)", found, missing)
	}

	// A decision about sb_1 and possibly new identities.
	c.invalidate([]string{"sb_1"})
	if _, missing, _ := c.lookup([]vault.Pseudonym{p, q}, now); len(missing) != 2 {
		t.Errorf("after invalidation %d of 2 were still answered from the cache", 2-len(missing))
	}

	// A read that started before a change commits must not be trusted.
	_, missing, snap = c.lookup([]vault.Pseudonym{p}, now)
	c.invalidate([]string{"sb_1"}) // the change lands while the store is read
	c.store(missing, map[vault.Pseudonym]Shopper{p: sh}, snap, now)
	if _, missing, _ := c.lookup([]vault.Pseudonym{p}, now); len(missing) != 1 {
		t.Error("a read racing a change was cached as current")
	}

	// Other subjects are not affected; the TTL bounds everything.
	other := vault.Pseudonym{3}
	_, missing, snap = c.lookup([]vault.Pseudonym{other}, now)
	c.store(missing, map[vault.Pseudonym]Shopper{other: {Subject: consent.Subject{ID: "sb_2"}}}, snap, now)
	c.invalidate([]string{"sb_1"})
	if found, _, _ := c.lookup([]vault.Pseudonym{other}, now); len(found) != 1 {
		t.Error("a change of sb_1 evicted sb_2")
	}
	if found, _, _ := c.lookup([]vault.Pseudonym{other}, now.Add(2*time.Minute)); len(found) != 0 {
		t.Error("an entry outlived its TTL")
	}
}
