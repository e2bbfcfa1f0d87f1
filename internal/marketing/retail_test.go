package marketing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/collect/segment"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/marketing"
	"github.com/tact-cdp/tact/internal/recommend/eval"
	"github.com/tact-cdp/tact/internal/testenv"
	"github.com/tact-cdp/tact/internal/vault"
)

// retailPath is the Online Retail data set: TACT_ONLINE_RETAIL, or the
// shared data directory beside the repository (the project's machines).
func retailPath() string {
	if p := os.Getenv("TACT_ONLINE_RETAIL"); p != "" {
		return p
	}
	for _, p := range []string{"../../../shared/data/online-retail/online-retail-train.csv.gz", "/work/shared/data/online-retail/online-retail-train.csv.gz"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// TestAudiencesOnOnlineRetail stores the Online Retail orders of real
// customers (half of them given marketing permission by the shop's server
// key — method import, with the evidence of their earlier confirmation —
// the others analytics only), and checks that an audience's members are
// exactly those a direct computation over the file finds, that an audience
// under the minimum size cannot be exported, and that an export differing
// from an earlier one by fewer than the minimum is refused.
func TestAudiencesOnOnlineRetail(t *testing.T) {
	path := retailPath()
	if path == "" {
		// The data set is not part of the repository (../shared/data).
		t.Skip("the Online Retail data set is not here: set TACT_ONLINE_RETAIL to its online-retail-train.csv.gz to run this")
	}
	if testing.Short() {
		t.Skip("loads 13,000 orders")
	}
	ctx := context.Background()
	o, err := eval.LoadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	inst := testenv.Stores()[0].New(t)
	root, _ := vault.GenerateRootSecret()
	a, err := app.New(ctx, app.Config{DataDir: t.TempDir()}, inst.DB, root, datamap.Default())
	if err != nil {
		t.Fatal(err)
	}
	mk := a.Marketing

	// Invoices, shifted so that the last was yesterday.
	now := time.Now().UTC()
	shift := now.Sub(time.Unix(o.Purchases[len(o.Purchases)-1].At, 0)) - 24*time.Hour
	type invoice struct {
		customer int32
		at       time.Time
		items    []string
	}
	var invs []*invoice
	byNo := map[int32]*invoice{}
	for _, p := range o.Purchases {
		inv := byNo[p.Invoice]
		if inv == nil {
			inv = &invoice{customer: p.Customer, at: time.Unix(p.At, 0).Add(shift).UTC()}
			byNo[p.Invoice] = inv
			invs = append(invs, inv)
		}
		inv.items = append(inv.items, o.Products[p.Item].Code)
	}

	// Consent: even customers grant marketing email (imported with the
	// evidence of their confirmation), odd ones analytics only.
	subjects := make([]string, len(o.Customers))
	permitted := func(c int32) bool { return c%2 == 0 }
	for i, id := range o.Customers {
		choices := map[string]bool{datamap.PurposeAnalytics: true}
		if permitted(int32(i)) {
			choices[datamap.PurposeMarketingEmail] = true
		}
		res, err := a.Consent.Record(ctx, consent.Caller{Server: true, KeyID: "test"}, consent.Request{
			UserID: id, Email: "customer-" + id + "@example.com", NoticeVersion: a.Policy.NoticeVersion, Method: consent.MethodImport,
			Choices: choices, Evidence: map[string]string{"source": "online-retail", consent.EvidenceOptInConfirmed: "2010-12-01T00:00:00Z"},
		})
		if err != nil {
			t.Fatal(err)
		}
		subjects[i] = res.SubjectID
	}
	for start := 0; start < len(invs); start += 100 {
		var batch []map[string]any
		for i, inv := range invs[start:min(start+100, len(invs))] {
			var products []any
			for _, code := range inv.items {
				products = append(products, map[string]any{"product_id": code})
			}
			batch = append(batch, map[string]any{"type": "track", "event": "Order Completed", "userId": o.Customers[inv.customer],
				"messageId": "order-" + strconv.Itoa(start+i), "timestamp": inv.at.Format(time.RFC3339),
				"properties": map[string]any{"order_id": strconv.Itoa(start + i), "products": products}})
		}
		body, _ := json.Marshal(map[string]any{"batch": batch})
		b, err := segment.DecodeBatch(body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Collect.Ingest(ctx, collect.Caller{Server: true, KeyID: "test"}, &b, collect.Request{ReceivedAt: now}); err != nil {
			t.Fatal(err)
		}
	}

	// The audience: three or more orders in the last 90 days (whole UTC
	// days: today and the 89 before).
	const within, minOrders = 90, 3
	first := now.Truncate(24*time.Hour).AddDate(0, 0, -(within - 1))
	count := map[int32]int{}
	for _, inv := range invs {
		if !inv.at.Before(first) {
			count[inv.customer]++
		}
	}
	var want []string
	for c, n := range count {
		if n >= minOrders && permitted(c) {
			want = append(want, subjects[c])
		}
	}
	slices.Sort(want)
	def := `{"id":"regulars","name":"Regular buyers","purpose":"marketing_email",
		"where":{"event":{"name":"Order Completed","minCount":3,"withinDays":90}}}`
	info, _, err := mk.Create(ctx, []byte(def), "test")
	if err != nil {
		t.Fatal(err)
	}
	got := mk.Engine.Members("regulars")
	if !slices.Equal(got, want) || info.Size != len(want) {
		t.Fatalf("regulars: %d members, direct computation %d (size %d)", len(got), len(want), info.Size)
	}
	if len(want) < 200 {
		t.Fatalf("only %d regulars: the test needs a larger audience", len(want))
	}
	t.Logf("regulars: %d members of %d customers, matching the direct computation", len(got), len(o.Customers))

	// A fresh engine replaying from the store agrees with the live one.
	mk2 := marketing.New(a.Store.Marketing(), a.Consent, a.Vault, a.OptIn, func() *datamap.Map { return a.DataMap })
	mk2.Replay = a.Collect
	if err := mk2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if replayed := mk2.Engine.Members("regulars"); !slices.Equal(replayed, want) {
		t.Errorf("replayed from the store: %d members, want %d", len(replayed), len(want))
	}

	if _, _, err := mk.AddDestination(ctx, marketing.Destination{ID: "newsletter", Kind: "file", Recipient: "email_service",
		Purpose: datamap.PurposeMarketingEmail, Fields: []string{"pseudonym", "email", "unsubscribe_url"}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := mk.Export(ctx, "regulars", "newsletter", "csv", &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(out.String(), "\n"); res.Members != len(want) || lines != len(want)+1 {
		t.Errorf("export: %d members, %d lines, want %d", res.Members, lines, len(want))
	}

	// Too small to export: customers with 20 or more orders.
	if _, _, err := mk.Create(ctx, []byte(`{"id":"whales","name":"Whales","purpose":"marketing_email",
		"where":{"event":{"name":"Order Completed","minCount":20,"withinDays":90}}}`), "test"); err != nil {
		t.Fatal(err)
	}
	if n := mk.Engine.Size("whales"); n == 0 || n >= 100 {
		t.Fatalf("whales: %d members, want 1..99 for this check", n)
	}
	if _, err := mk.Export(ctx, "whales", "newsletter", "csv", &bytes.Buffer{}, nil); tact.ErrorCode(err) != tact.EINVALID ||
		!strings.Contains(err.Error(), "minimum") {
		t.Errorf("exporting an audience under the minimum: %v", err)
	}

	// Near duplicate: the regulars minus those who bought one product a
	// few of them bought.
	buyers := map[string]map[int32]bool{}
	for _, inv := range invs {
		if inv.at.Before(first) || count[inv.customer] < minOrders || !permitted(inv.customer) {
			continue
		}
		for _, code := range inv.items {
			if buyers[code] == nil {
				buyers[code] = map[int32]bool{}
			}
			buyers[code][inv.customer] = true
		}
	}
	product := ""
	for code, cs := range buyers {
		if len(cs) >= 3 && len(cs) <= 20 && (product == "" || code < product) {
			product = code
		}
	}
	near := `{"id":"regulars-but","name":"Regulars but","purpose":"marketing_email","where":{"all":[
		{"event":{"name":"Order Completed","minCount":3,"withinDays":90}},
		{"not":{"event":{"name":"Order Completed","withinDays":90,"where":[{"property":"products.product_id","op":"eq","value":"` + product + `"}]}}}]}}`
	if _, _, err := mk.Create(ctx, []byte(near), "test"); err != nil {
		t.Fatal(err)
	}
	if diff := len(want) - mk.Engine.Size("regulars-but"); diff != len(buyers[product]) {
		t.Fatalf("regulars-but differs by %d, want %d", diff, len(buyers[product]))
	}
	if _, err := mk.Export(ctx, "regulars-but", "newsletter", "csv", &bytes.Buffer{}, nil); tact.ErrorCode(err) != tact.EINVALID ||
		!strings.Contains(err.Error(), "single them out") {
		t.Errorf("exporting a near duplicate: %v", err)
	}
}
