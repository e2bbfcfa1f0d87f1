package demo

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestShopPages(t *testing.T) {
	s := &Shop{TactURL: "http://127.0.0.1:9", WriteKey: "wk_test", Products: builtIn}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, home := get("/")
	if resp.StatusCode != 200 || !strings.Contains(home, `src="http://127.0.0.1:9/tact.js" data-write-key="wk_test"`) || !strings.Contains(home, "Recommended for you") {
		t.Fatalf("home: %d\n%s", resp.StatusCode, home)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' http://127.0.0.1:9;") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(home, "style=") || strings.Contains(home, "<style") || strings.Contains(home, "<script>") {
		t.Error("inline style or script on a page served with a strict CSP")
	}
	_, zh := get("/?lang=zh-CN")
	if !strings.Contains(zh, `lang="zh-CN"`) || !strings.Contains(zh, "个性化推荐") {
		t.Errorf("zh-CN home lacks its label")
	}
	resp, page := get("/p/85123A")
	if resp.StatusCode != 200 || !strings.Contains(page, `data-id="85123A"`) || !strings.Contains(page, `data-placement="product"`) {
		t.Errorf("product page: %d", resp.StatusCode)
	}
	if resp, _ := get("/p/nope"); resp.StatusCode != 404 {
		t.Errorf("unknown product: %d", resp.StatusCode)
	}
	if resp, js := get("/shop.js"); resp.StatusCode != 200 || strings.Contains(js, "innerHTML") || strings.Contains(js, "eval(") {
		t.Errorf("shop.js: %d", resp.StatusCode)
	}
}

func TestProductsFallBackToTheBuiltInList(t *testing.T) {
	if got := Products("", 40); len(got) != len(builtIn) {
		t.Errorf("no data: %d products", len(got))
	}
	if got := Products("/nonexistent.csv.gz", 40); len(got) != len(builtIn) {
		t.Errorf("unreadable data: %d products", len(got))
	}
}

func TestProductsFromTheOnlineRetailData(t *testing.T) {
	const path = "../../../shared/data/online-retail/online-retail-train.csv.gz"
	if _, err := os.Stat(path); err != nil {
		t.Skip("the Online Retail data is not here (../shared/data/online-retail)")
	}
	ps := Products(path, 40)
	if len(ps) != 41 || ps[40].Category != "Health/Vitamins" {
		t.Fatalf("%d products, last %+v: want 40 best sellers and the sensitive demo item", len(ps), ps[len(ps)-1])
	}
	for _, p := range ps[:40] {
		if p.Name == "" || p.Category == "" || p.Price <= 0 {
			t.Errorf("product %+v lacks a name, category or price", p)
		}
	}
}
