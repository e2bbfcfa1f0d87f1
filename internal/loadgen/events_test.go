package loadgen

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"
)

func testGenerator(seed uint64) *generator {
	rng := rand.New(rand.NewPCG(seed, 1))
	return newGenerator(rng, newCatalogue(synthCatalogue(rng, 4000)), newShoppers(rng, nil, 1000), time.Now())
}

func TestMeanEventSize(t *testing.T) {
	g := testGenerator(1)
	kinds := map[string]int{}
	var total, n int
	for range 100 {
		b := g.batch(100)
		var body struct{ Batch []map[string]any }
		if err := json.Unmarshal(b.body, &body); err != nil {
			t.Fatal(err)
		}
		for _, ev := range body.Batch {
			kinds[ev["type"].(string)+"/"+str(ev["event"])]++
		}
		total += b.eventBytes
		n += len(b.ids)
	}
	if mean := float64(total) / float64(n); mean < 700 || mean > 900 {
		t.Errorf("mean event size %.0f bytes, want 700–900", mean)
	}
	for _, k := range eventKinds {
		key := "track/" + k.name
		if k.name == "page" || k.name == "identify" {
			key = k.name + "/"
		}
		if kinds[key] == 0 {
			t.Errorf("no %s event in %d", key, n)
		}
	}
}

func str(v any) string { s, _ := v.(string); return s }

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestFillGivesFreshIDs(t *testing.T) {
	g := testGenerator(2)
	b := g.batch(50)
	orig := bytes.Clone(b.body)
	ids := idSource()
	seen := map[string]bool{}
	var buf []byte
	for range 3 {
		buf = fill(buf, &b, ids)
		stampSentAt(buf, &b)
		var body struct {
			Batch  []struct{ MessageID string }
			SentAt string
		}
		if err := json.Unmarshal(buf, &body); err != nil {
			t.Fatalf("patched body: %v", err)
		}
		if _, err := time.Parse(time.RFC3339Nano, body.SentAt); err != nil {
			t.Errorf("sentAt: %v", err)
		}
		for _, ev := range body.Batch {
			if !uuidRE.MatchString(ev.MessageID) {
				t.Errorf("messageId %q is not a v4 UUID", ev.MessageID)
			}
			if seen[ev.MessageID] {
				t.Errorf("messageId %s twice", ev.MessageID)
			}
			seen[ev.MessageID] = true
		}
	}
	if !bytes.Equal(orig, b.body) {
		t.Error("fill changed the template")
	}
}

func TestSameSeedSameEvents(t *testing.T) {
	a, b := testGenerator(7), testGenerator(7)
	b.now = a.now
	if x, y := a.batch(20), b.batch(20); !bytes.Equal(x.body, y.body) {
		t.Error("two generators with one seed rendered different batches")
	}
}

func BenchmarkFill(b *testing.B) {
	g := testGenerator(3)
	bt := g.batch(100)
	ids := idSource()
	buf := make([]byte, 0, len(bt.body))
	b.SetBytes(int64(len(bt.body)))
	for b.Loop() {
		buf = fill(buf, &bt, ids)
		stampSentAt(buf, &bt)
	}
}
