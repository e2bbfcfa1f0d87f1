package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
)

// notice is the part of GET /v1/notice the consent set-up needs.
type notice struct {
	Version  string `json:"version"`
	Purposes []struct {
		ID              string `json:"id"`
		Required        bool   `json:"required"`
		SeparateConsent bool   `json:"separate_consent"`
	} `json:"purposes"`
}

// allChoices is what "accept all" grants: every purpose that is neither
// required (granted anyway) nor asked separately (never part of it).
func (n notice) allChoices() map[string]bool {
	c := map[string]bool{}
	for _, p := range n.Purposes {
		if !p.Required && !p.SeparateConsent {
			c[p.ID] = true
		}
	}
	return c
}

func (r *runner) notice(ctx context.Context) (notice, error) {
	var n notice
	a, err := get(ctx, r.client, r.cfg.URL+"/v1/notice")
	if err != nil {
		return n, fmt.Errorf("tact server not reachable at %s: %w", r.cfg.URL, err)
	}
	if a.status != http.StatusOK {
		return n, statusError("GET /v1/notice", a)
	}
	if err := json.Unmarshal(a.body, &n); err != nil {
		return n, fmt.Errorf("GET /v1/notice: %w", err)
	}
	if n.Version == "" {
		return n, errors.New("GET /v1/notice: no version")
	}
	return n, nil
}

type consentBody struct {
	UserID        string          `json:"userId"`
	NoticeVersion string          `json:"noticeVersion"`
	Choices       map[string]bool `json:"choices"`
	Method        string          `json:"method"`
}

// recordConsent grants "accept all" for every shopper of the pool, with as
// many requests in flight as there are clients. The first failure stops it.
func (r *runner) recordConsent(ctx context.Context) error {
	n, err := r.notice(ctx)
	if err != nil {
		return err
	}
	choices := n.allChoices()
	if len(choices) == 0 {
		return fmt.Errorf("notice %s has no purpose to consent to", n.Version)
	}

	total := len(r.shoppers)
	var mu sync.Mutex
	done := 0
	progress := func(step int) {
		if r.cfg.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		done += step
		r.cfg.Progress(done, total)
	}
	progress(0)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(r.cfg.Clients, total) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= total || ctx.Err() != nil {
					return
				}
				body, _ := json.Marshal(consentBody{UserID: r.shoppers[i].UserID, NoticeVersion: n.Version,
					Choices: choices, Method: "api"})
				if err := r.consentOne(ctx, body); err != nil {
					cancel(fmt.Errorf("consent for shopper %d of %d: %w", i+1, total, err))
					return
				}
				progress(1)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

func (r *runner) consentOne(ctx context.Context, body []byte) error {
	for {
		a, err := post(ctx, r.client, r.cfg.URL+"/v1/consent", r.serverAuth, body)
		if err != nil {
			return err
		}
		switch a.status {
		case http.StatusOK, http.StatusCreated:
			return nil
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			if !sleep(ctx, a.retryAfter) {
				return ctx.Err()
			}
		case http.StatusUnauthorized, http.StatusForbidden:
			return statusError("the server refused the server key", a)
		default:
			return statusError("POST /v1/consent", a)
		}
	}
}
