package app

import (
	"context"
	"fmt"
	"strconv"

	"github.com/tact-cdp/tact/internal/vault"
)

// RotateKEK makes a new key-encryption key current and re-wraps every
// shopper's data key with it. The data sealed under those keys is not
// touched: that is the point of envelope encryption. progress, if set, gets
// (done, total). A running server keeps opening keys under either KEK; it
// wraps new keys with the new KEK after its next start.
func (a *App) RotateKEK(ctx context.Context, progress func(done, total int64)) (int, error) {
	current := 1
	if v, err := a.Store.Meta(ctx, "vault.kek_version"); err == nil {
		current, _ = strconv.Atoi(v)
	}
	next := current + 1
	if err := a.Store.SetMeta(ctx, "vault.kek_version", strconv.Itoa(next)); err != nil {
		return 0, err
	}
	root := a.root
	a.Vault = vault.New(root, vault.NewLocalKEK(root, next))
	kek := vault.LocalKEKID(next)
	_, todo, err := a.Store.CountKeys(ctx, kek)
	if err != nil {
		return next, err
	}
	var done int64
	var after []byte
	for {
		keys, err := a.Store.KeysNotUnder(ctx, kek, after, 500)
		if err != nil {
			return next, err
		}
		if len(keys) == 0 {
			break
		}
		for i, k := range keys {
			w, err := a.Vault.Rewrap(ctx, k.ID, k.Wrapped)
			if err != nil {
				return next, fmt.Errorf("re-wrapping data key %s: %w", k.ID, err)
			}
			keys[i].Wrapped = w
		}
		if err := a.Store.Rewrapped(ctx, keys); err != nil {
			return next, err
		}
		after = keys[len(keys)-1].ID[:]
		done += int64(len(keys))
		if progress != nil {
			progress(done, todo)
		}
	}
	return next, nil
}
