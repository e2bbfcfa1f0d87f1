package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/rights"
	"github.com/tact-cdp/tact/internal/testenv"
	"github.com/tact-cdp/tact/internal/vault"
)

// benchShopper stores n events for one consented shopper (batches of 500).
func benchShopper(b *testing.B, e *env, userID string, n int) {
	b.Helper()
	e.grant(userID, map[string]any{"analytics": true, "personalization": true})
	for sent := 0; sent < n; sent += 500 {
		evs := make([]map[string]any, 0, 500)
		for i := sent; i < min(n, sent+500); i++ {
			evs = append(evs, productViewed(map[string]any{"userId": userID}, nil))
		}
		e.batch(e.server, evs)
	}
}

// BenchmarkAccessReport measures the access report (JSON, GET
// /v1/requests/{id}/report) of a shopper with 10,000 events, end to end
// through the store, and the peak heap growth while it streams (memory
// must not grow with the number of events: compare events=1000).
//
//	go test -run '^$' -bench AccessReport -benchtime 5x ./internal/httpapi/
func BenchmarkAccessReport(b *testing.B) {
	for _, st := range testenv.Stores() {
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("%s/events=%d", st.Name, n), func(b *testing.B) {
				e := newEnvWith(b, st, nil)
				benchShopper(b, e, "bench-1", n)
				f, err := e.app.Rights.File(context.Background(), rightsServer(), rightsAccess("bench-1"))
				if err != nil {
					b.Fatal(err)
				}
				if err := e.app.Rights.Pass(context.Background(), nil); err != nil {
					b.Fatal(err)
				}
				var peak atomic.Uint64
				var base runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&base)
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					var m runtime.MemStats
					for {
						select {
						case <-stop:
							return
						case <-time.After(2 * time.Millisecond):
						}
						runtime.ReadMemStats(&m)
						if m.HeapInuse > peak.Load() {
							peak.Store(m.HeapInuse)
						}
					}
				})
				b.ResetTimer()
				var bytes int64
				for b.Loop() {
					req, _ := http.NewRequest("GET", e.srv.URL+"/v1/requests/"+f.ID+"/report?format=json", nil)
					req.Header.Set("Authorization", "Bearer "+f.RequestToken)
					resp, err := e.srv.Client().Do(req)
					if err != nil {
						b.Fatal(err)
					}
					bytes, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Fatalf("report: %d", resp.StatusCode)
					}
				}
				b.StopTimer()
				close(stop)
				wg.Wait()
				b.ReportMetric(float64(bytes)/1e6, "MB/report")
				if p := peak.Load(); p > base.HeapInuse {
					b.ReportMetric(float64(p-base.HeapInuse)/1e6, "peak-heap-growth-MB")
				} else {
					b.ReportMetric(0, "peak-heap-growth-MB")
				}
			})
		}
	}
}

// BenchmarkShred measures the immediate part of an erasure: destroying a
// shopper's data keys, identities and state in one durable transaction
// (from then on nothing of theirs can be opened), for shoppers with 1,000
// events each.
//
//	go test -run '^$' -bench Shred -benchtime 20x ./internal/httpapi/
func BenchmarkShred(b *testing.B) {
	for _, st := range testenv.Stores() {
		b.Run(st.Name, func(b *testing.B) {
			e := newEnvWith(b, st, nil)
			ctx := context.Background()
			var subjects []string
			for i := range b.N {
				user := fmt.Sprintf("shred-%d", i)
				benchShopper(b, e, user, 1000)
				id, err := e.app.Consent.Store().Identity(ctx, e.app.Vault.Pseudonym(vault.UseIdentity, vault.KindUserID, user))
				if err != nil {
					b.Fatal(err)
				}
				subjects = append(subjects, id.SubjectID)
			}
			b.ResetTimer()
			for i := range b.N {
				if err := e.app.Store.ShredSubject(ctx, subjects[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func rightsServer() rights.Caller { return rights.Caller{Server: true, KeyID: "bench"} }

func rightsAccess(userID string) rights.Filing {
	return rights.Filing{Type: rights.TypeAccess, UserID: userID}
}
