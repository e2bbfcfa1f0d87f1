package privacy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Theme is the shop's look: its name and two colours. Colours are
// "#rrggbb" only, so that nothing but a colour can reach the stylesheet.
type Theme struct {
	ShopName   string // shown as the page's heading; empty: the controller's name from the data map
	Accent     string // buttons, links and focus rings; empty: #1f5fbf
	Background string // page background; empty: #ffffff
}

// Default colours.
const (
	DefaultAccent     = "#1f5fbf"
	DefaultBackground = "#ffffff"
	maxShopName       = 100
)

// Validate checks the theme: colours must be #rrggbb (or empty for the
// default) and the shop name printable text of at most 100 characters.
func (t Theme) Validate() error {
	for _, c := range []struct{ field, v string }{{"accent", t.Accent}, {"background", t.Background}} {
		if c.v == "" {
			continue
		}
		if _, ok := parseColour(c.v); !ok {
			return fmt.Errorf("privacy center theme: %s must be a colour written #rrggbb, not %q", c.field, truncate(c.v, 20))
		}
	}
	if !utf8.ValidString(t.ShopName) || utf8.RuneCountInString(t.ShopName) > maxShopName {
		return fmt.Errorf("privacy center theme: the shop name must be UTF-8 text of at most %d characters", maxShopName)
	}
	for _, r := range t.ShopName {
		if unicode.IsControl(r) {
			return fmt.Errorf("privacy center theme: the shop name must not contain control characters")
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// rgb is a colour with channels in [0, 1].
type rgb [3]float64

// parseColour accepts exactly "#rrggbb" (hex digits in either case).
func parseColour(s string) (rgb, bool) {
	if len(s) != 7 || s[0] != '#' {
		return rgb{}, false
	}
	var c rgb
	for i := range 3 {
		v, err := strconv.ParseUint(s[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return rgb{}, false
		}
		c[i] = float64(v) / 255
	}
	return c, true
}

// luminance is the WCAG 2 relative luminance.
func (c rgb) luminance() float64 {
	var l [3]float64
	for i, v := range c {
		if v <= 0.04045 {
			l[i] = v / 12.92
		} else {
			l[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

// contrast is the WCAG 2 contrast ratio of two colours (1 to 21).
func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

var (
	dark  = rgb{0x1a / 255.0, 0x1a / 255.0, 0x1a / 255.0}
	light = rgb{1, 1, 1}
)

// readableOn returns the text colour (near-black or white) with the higher
// contrast on background.
func readableOn(bg rgb) (string, rgb) {
	if contrast(dark, bg) >= contrast(light, bg) {
		return "#1a1a1a", dark
	}
	return "#ffffff", light
}

// cssVariables renders the theme as CSS custom properties. Text colours are
// chosen for a contrast of at least 4.5:1 where the shop's colours allow it;
// links fall back to the text colour when the accent is too faint on the
// background (they stay underlined either way).
func (t Theme) cssVariables() string {
	accentS, bgS := strings.ToLower(t.Accent), strings.ToLower(t.Background)
	if accentS == "" {
		accentS = DefaultAccent
	}
	if bgS == "" {
		bgS = DefaultBackground
	}
	accent, _ := parseColour(accentS)
	bg, _ := parseColour(bgS)
	fgS, fg := readableOn(bg)
	onAccentS, _ := readableOn(accent)
	linkS := accentS
	if contrast(accent, bg) < 4.5 {
		linkS = fgS
	}
	// Muted text and borders: the text colour at reduced strength, mixed
	// towards the background while keeping at least 4.5:1 for text.
	muted := fg
	for w := 0.5; w <= 1.0; w += 0.05 {
		m := mix(fg, bg, w)
		if contrast(m, bg) >= 4.5 {
			muted = m
			break
		}
	}
	surface := mix(fg, bg, 0.04)
	border := mix(fg, bg, 0.25)
	return fmt.Sprintf(":root{--accent:%s;--on-accent:%s;--bg:%s;--fg:%s;--muted:%s;--link:%s;--surface:%s;--border:%s}\n",
		accentS, onAccentS, bgS, fgS, muted.hex(), linkS, surface.hex(), border.hex())
}

// mix returns w parts of a and 1-w parts of b.
func mix(a, b rgb, w float64) rgb {
	var out rgb
	for i := range out {
		out[i] = a[i]*w + b[i]*(1-w)
	}
	return out
}

func (c rgb) hex() string {
	var b strings.Builder
	b.WriteByte('#')
	for _, v := range c {
		fmt.Fprintf(&b, "%02x", int(math.Round(v*255)))
	}
	return b.String()
}
