package collect

import (
	"context"
	"sync"
	"time"

	"github.com/tact-cdp/tact/internal/vault"
)

// suppressionReload bounds how old the in-memory copy of the suppression
// store may be: erasures on this node update it at once, other nodes' as
// their notices arrive; the reload covers what no notice reached.
const suppressionReload = 30 * time.Second

// suppressionCache is the suppression store held in memory.
type suppressionCache struct {
	mu     sync.RWMutex
	m      map[vault.Pseudonym][2]time.Time // erased at, until
	loaded time.Time
	load   sync.Mutex // one reload at a time
}

func (c *suppressionCache) stale() {
	c.mu.Lock()
	c.loaded = time.Time{}
	c.mu.Unlock()
}

func (c *suppressionCache) add(ps []vault.Pseudonym, erasedAt, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		return // not loaded yet: the next lookup reads the store
	}
	for _, p := range ps {
		c.m[p] = [2]time.Time{erasedAt, until}
	}
}

// lookup returns the erasure time of each of ps whose suppression still
// runs at now.
func (c *suppressionCache) lookup(ctx context.Context, st Store, ps []vault.Pseudonym, now time.Time) (map[vault.Pseudonym]time.Time, error) {
	c.mu.RLock()
	fresh := c.m != nil && time.Since(c.loaded) < suppressionReload
	c.mu.RUnlock()
	if !fresh {
		c.load.Lock()
		c.mu.RLock()
		fresh = c.m != nil && time.Since(c.loaded) < suppressionReload
		c.mu.RUnlock()
		if !fresh {
			loadedAt := time.Now()
			m, err := st.Suppressions(ctx, now)
			if err != nil {
				c.load.Unlock()
				return nil, err
			}
			c.mu.Lock()
			c.m, c.loaded = m, loadedAt
			c.mu.Unlock()
		}
		c.load.Unlock()
	}
	out := map[vault.Pseudonym]time.Time{}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, p := range ps {
		if s, ok := c.m[p]; ok && s[1].After(now) {
			out[p] = s[0]
		}
	}
	return out, nil
}
