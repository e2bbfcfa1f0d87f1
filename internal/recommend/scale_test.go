package recommend

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestMemoryAtScale measures the model on a synthetic shop of 100,000
// items and TACT_RECOMMEND_SCALE events (10,000,000 for the issue's
// figure) from one shopper per 10 events. It takes about a minute and a
// few GB, so it runs only when asked:
//
//	TACT_RECOMMEND_SCALE=10000000 go test -run TestMemoryAtScale -v ./internal/recommend/
func TestMemoryAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TACT_RECOMMEND_SCALE"))
	if n <= 0 {
		t.Skip("set TACT_RECOMMEND_SCALE to a number of events to run it")
	}
	sh := newSynthShop(100_000, max(n/10, 1), n)
	start := time.Now()
	m := newTestModel(t, sh.items...)
	for i, e := range sh.events {
		if err := m.Add(e); err != nil {
			t.Fatal(err)
		}
		sh.events[i] = Event{}
	}
	t.Logf("Add: %s per event", time.Since(start)/time.Duration(n))
	start = time.Now()
	m.Refresh()
	t.Logf("Refresh (every row): %s", time.Since(start))
	start = time.Now()
	for i := range 10_000 {
		m.Recommend(Query{Shopper: sh.shoppers[i*7%len(sh.shoppers)]})
	}
	t.Logf("personal Recommend: %s per call", time.Since(start)/10_000)
	st := m.Stats()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	with := ms.HeapInuse
	runtime.KeepAlive(m)
	m, sh = nil, synthShop{}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("model heap %d MB (estimate %d MB); %+v", (with-ms.HeapInuse)>>20, st.ApproxBytes>>20, st)
}
