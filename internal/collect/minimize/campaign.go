package minimize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const maxCampaignValue = 100 // bytes

// campaignKeys are the kept keys, each with the Segment context.campaign
// name that stands for it.
var campaignKeys = [...]struct{ utm, segment string }{
	{"utm_source", "source"},
	{"utm_medium", "medium"},
	{"utm_campaign", "name"},
	{"utm_term", "term"},
	{"utm_content", "content"},
}

// Campaign keeps of utm the five campaign parameters, under their utm_*
// names: utm_source, utm_medium, utm_campaign, utm_term and utm_content, or
// Segment's context.campaign names source, medium, name, term and content
// (the utm_* key wins when both are present). Keys are matched exactly.
// Each value is made valid UTF-8, stripped of control characters, trimmed,
// cut to at most 100 bytes at a character boundary, and dropped when empty
// or when it looks like an identifier, before or after the cut
// ([LooksLikeIdentifier]). Everything else is dropped. The result is nil
// when nothing is kept.
func Campaign(utm map[string]string) map[string]string {
	var out map[string]string
	for _, k := range campaignKeys {
		v, ok := utm[k.utm]
		if !ok {
			v, ok = utm[k.segment]
		}
		if !ok {
			continue
		}
		v, ok = campaignValue(v)
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(campaignKeys))
		}
		out[k.utm] = v
	}
	return out
}

func campaignValue(v string) (string, bool) {
	v = strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError:
			return -1
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return ' ' // tabs, newlines, bidi and zero-width format characters
		}
		return r
	}, v))
	if v == "" || LooksLikeIdentifier(v) {
		return "", false
	}
	if len(v) > maxCampaignValue {
		cut := maxCampaignValue
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = strings.TrimSpace(v[:cut])
		if v == "" || LooksLikeIdentifier(v) {
			return "", false
		}
	}
	return v, true
}
