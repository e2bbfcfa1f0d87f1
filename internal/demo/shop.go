package demo

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

//go:embed static/*
var static embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{"dict": dict}).ParseFS(static, "static/*.html"))

// dict builds a map for a sub-template from key, value pairs.
func dict(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}

// Shop is the demo shop: its pages load tact.js from TactURL with WriteKey.
type Shop struct {
	TactURL  string // tact's origin, "http://127.0.0.1:8080"
	WriteKey string
	Products []Product
	Name     string // default "Hearth & Home"
	// SegmentDir, when set, holds the UMD build of @segment/analytics-next
	// (its dist/umd files): the shop serves it at /ajs/ and a page at
	// /segment that loads it behind consent, as tact.js's recipe says.
	SegmentDir string
}

// texts are the shop's own words (tact.js brings tact's).
var texts = map[string]map[string]string{
	"en": {
		"tagline": "A demo shop. Its pages use tact.js; what you choose in the banner decides what it may learn.",
		"buy":     "Buy now", "add": "Add to cart", "back": "All products", "recs": "Recommended for you",
		"lang": "中文", "otherLang": "zh-CN",
	},
	"zh-CN": {
		"tagline": "演示商店。页面使用 tact.js；您在横幅中的选择决定它可以了解什么。",
		"buy":     "立即购买", "add": "加入购物车", "back": "全部商品", "recs": "个性化推荐",
		"lang": "English", "otherLang": "en",
	},
}

func locale(r *http.Request) string {
	if r.URL.Query().Get("lang") == "zh-CN" {
		return "zh-CN"
	}
	return "en"
}

// Handler serves the shop.
func (s *Shop) Handler() http.Handler {
	mux := http.NewServeMux()
	byID := map[string]Product{}
	for _, p := range s.Products {
		byID[p.ID] = p
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, "home.html", map[string]any{"Products": s.Products})
	})
	mux.HandleFunc("GET /p/{id}", func(w http.ResponseWriter, r *http.Request) {
		p, ok := byID[r.PathValue("id")]
		if !ok {
			http.Error(w, "no such product", http.StatusNotFound)
			return
		}
		s.render(w, r, "product.html", map[string]any{"Product": p, "Price": strconv.FormatFloat(p.Price, 'f', 2, 64)})
	})
	mux.HandleFunc("GET /products.json", func(w http.ResponseWriter, r *http.Request) {
		names := map[string]string{}
		for _, p := range s.Products {
			names[p.ID] = p.Name
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(names)
	})
	if s.SegmentDir != "" {
		mux.HandleFunc("GET /segment", func(w http.ResponseWriter, r *http.Request) {
			s.render(w, r, "segment.html", map[string]any{})
		})
		mux.Handle("GET /ajs/", http.StripPrefix("/ajs/", http.FileServer(http.Dir(s.SegmentDir))))
	}
	for _, f := range []string{"shop.js", "shop.css", "analytics-demo.js", "gtag-stub.js", "segment-recipe.js"} {
		typ := "text/javascript; charset=utf-8"
		if strings.HasSuffix(f, ".css") {
			typ = "text/css; charset=utf-8"
		}
		mux.HandleFunc("GET /"+f, func(w http.ResponseWriter, r *http.Request) {
			b, err := static.ReadFile("static/" + f)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", typ)
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Write(b)
		})
	}
	return mux
}

// CSP is the strict policy the shop's pages are served with: scripts and
// styles only from the shop itself and from tact.
func (s *Shop) CSP() string {
	t := origin(s.TactURL)
	return fmt.Sprintf("default-src 'self'; script-src 'self' %[1]s; style-src 'self' %[1]s; connect-src 'self' %[1]s; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'", t)
}

func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Scheme + "://" + p.Host
}

func (s *Shop) render(w http.ResponseWriter, r *http.Request, page string, data map[string]any) {
	loc := locale(r)
	name := s.Name
	if name == "" {
		name = "Hearth & Home"
	}
	data["Shop"], data["Lang"], data["T"], data["Tact"], data["WriteKey"] = name, loc, texts[loc], strings.TrimSuffix(s.TactURL, "/"), s.WriteKey
	// ?gtag=1 adds the stand-in of a Google tag's dataLayer before tact.js,
	// to show Consent Mode.
	data["GTag"] = r.URL.Query().Get("gtag") == "1"
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", s.CSP())
	w.Header().Set("Referrer-Policy", "strict-origin-when-cross-origin")
	if err := pages.ExecuteTemplate(w, page, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
