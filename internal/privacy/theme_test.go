package privacy

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/personalize"
)

func TestThemeAcceptsOnlyRRGGBB(t *testing.T) {
	for _, tt := range []struct {
		theme Theme
		ok    bool
	}{
		{Theme{}, true},
		{Theme{ShopName: "Hearth & Home", Accent: "#0b6e4f", Background: "#FFFDF8"}, true},
		{Theme{ShopName: "小熊商店"}, true},
		{Theme{Accent: "red"}, false},
		{Theme{Accent: "#fff"}, false},
		{Theme{Accent: "#12345g"}, false},
		{Theme{Accent: "#1234567"}, false},
		{Theme{Accent: "0b6e4f"}, false},
		{Theme{Accent: " #0b6e4f"}, false},
		{Theme{Accent: "#0b6e4f;}"}, false},
		{Theme{Background: "url(https://evil.example/x)"}, false},
		{Theme{Background: "#0b6e4f}body{display:none"}, false},
		{Theme{Background: "rgb(0,0,0)"}, false},
		{Theme{ShopName: "Shop\nName"}, false},
		{Theme{ShopName: strings.Repeat("x", 101)}, false},
		{Theme{ShopName: "\xff"}, false},
	} {
		err := tt.theme.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%+v: Validate() = %v, want ok=%v", tt.theme, err, tt.ok)
		}
	}
}

func TestCheckRefusesAnIncompleteCenter(t *testing.T) {
	svc := &consent.Service{}
	dm := func() *datamap.Map { return datamap.Default() }
	for _, tt := range []struct {
		name string
		c    Center
	}{
		{"no consent", Center{DataMap: dm}},
		{"no data map", Center{Consent: svc}},
		{"personalize without interests", Center{Consent: svc, DataMap: dm, Personalize: &personalize.Service{}}},
		{"bad colour", Center{Consent: svc, DataMap: dm, Theme: Theme{Accent: "blue"}}},
		{"bad trusted origin", Center{Consent: svc, DataMap: dm, TrustedOrigins: []string{"not an origin"}}},
	} {
		if err := tt.c.Check(); err == nil {
			t.Errorf("%s: Check accepted it", tt.name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Handler served with a bad theme")
		}
	}()
	(&Center{Consent: svc, DataMap: dm, Theme: Theme{Accent: "blue"}}).Handler()
}

var cssVar = regexp.MustCompile(`--([a-z-]+):(#[0-9a-f]{6})`)

// The stylesheet's colours keep text readable (WCAG AA, 4.5:1) whatever
// the shop picks.
func TestThemeColoursStayReadable(t *testing.T) {
	for _, th := range []Theme{
		{},
		{Accent: "#0b6e4f", Background: "#fffdf8"},
		{Accent: "#ffff00", Background: "#ffffff"}, // an accent too faint for links on white
		{Accent: "#777777", Background: "#777777"},
		{Accent: "#ff6600", Background: "#101010"}, // a dark page
	} {
		css := th.cssVariables()
		vars := map[string]rgb{}
		for _, m := range cssVar.FindAllStringSubmatch(css, -1) {
			c, ok := parseColour(m[2])
			if !ok {
				t.Fatalf("%s: bad colour %s", css, m[2])
			}
			vars[m[1]] = c
		}
		for _, pair := range [][2]string{{"fg", "bg"}, {"muted", "bg"}, {"fg", "surface"}} {
			if r := contrast(vars[pair[0]], vars[pair[1]]); r < 4.5 && !(th.Background == "#777777") {
				t.Errorf("%+v: %s on %s has contrast %.2f", th, pair[0], pair[1], r)
			}
		}
		if r := contrast(vars["link"], vars["bg"]); r < 4.5 && vars["link"] != vars["fg"] {
			t.Errorf("%+v: links have contrast %.2f and are not the text colour", th, r)
		}
		// Text on the accent is whichever of black and white reads better.
		if on := contrast(vars["on-accent"], vars["accent"]); on < contrast(dark, vars["accent"]) || on < contrast(light, vars["accent"]) {
			t.Errorf("%+v: text on the accent has contrast %.2f, not the best available", th, on)
		}
	}
}
