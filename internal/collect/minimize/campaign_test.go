package minimize

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCampaign(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want map[string]string
	}{
		{"nil", nil, nil},
		{"nothing kept", map[string]string{"gclid": "Cj0KCQjw", "fbclid": "IwAR2x"}, nil},
		{
			"utm keys kept, others dropped",
			map[string]string{
				"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring_sale_2024",
				"utm_term": "running shoes", "utm_content": "hero-banner", "utm_id": "12345", "gclid": "x",
			},
			map[string]string{
				"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring_sale_2024",
				"utm_term": "running shoes", "utm_content": "hero-banner",
			},
		},
		{
			"Segment names mapped",
			map[string]string{"source": "google", "medium": "cpc", "name": "brand", "term": "shoes", "content": "ad_variant_B"},
			map[string]string{"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "brand", "utm_term": "shoes", "utm_content": "ad_variant_B"},
		},
		{
			"utm key wins over the Segment name, even when dropped",
			map[string]string{"utm_source": "jane@example.com", "source": "google", "medium": "cpc"},
			map[string]string{"utm_medium": "cpc"},
		},
		{
			"identifiers dropped",
			map[string]string{
				"utm_source": "jane.doe@example.com", "utm_medium": "+44 20 7946 0958",
				"utm_campaign": "550e8400-e29b-41d4-a716-446655440000", "utm_term": "Xy7_kQ2-pL9mN3vB",
				"utm_content": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbU",
			},
			nil,
		},
		{
			"trimmed, control characters and invalid UTF-8 removed",
			map[string]string{"utm_source": "  google\t", "utm_medium": "c\x00p\xffc", "utm_term": "a\u200bb\nc"},
			map[string]string{"utm_source": "google", "utm_medium": "c pc", "utm_term": "a b c"},
		},
		{"blank dropped", map[string]string{"utm_source": "   "}, nil},
		{"keys are exact", map[string]string{"UTM_SOURCE": "google", "Source": "google"}, nil},
		{
			"cut to 100 bytes at a character boundary",
			map[string]string{"utm_campaign": strings.Repeat("x", 99) + "é-and-more"},
			map[string]string{"utm_campaign": strings.Repeat("x", 99)},
		},
		{
			"long value dropped when the cut would hide an identifier",
			map[string]string{"utm_campaign": strings.Repeat("sale ", 19) + "call 555-123-4567"},
			nil,
		},
	}
	for _, tt := range tests {
		got := Campaign(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Campaign(%q) mismatch (-want +got):\n%s", tt.name, tt.in, diff)
		}
	}
}
