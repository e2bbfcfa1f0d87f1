package minimize

import (
	"strings"
	"testing"
)

func TestLooksLikeIdentifier(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		// Campaign words people write.
		{"google", false},
		{"cpc", false},
		{"newsletter", false},
		{"spring_sale_2024", false},
		{"Summer Sale 2024", false},
		{"mens-running-shoes", false},
		{"black-friday-2024-11-29", false},
		{"2024-05-12", false},
		{"12.05.2024", false},
		{"ad_variant_B", false},
		{"google/cpc", false},
		{"facebook.com", false},
		{"iPhone15Pro", false},
		{"SummerSaleCollection", false},
		{"top 10 gifts", false},
		{"v1.2.3", false},
		{"10% off", false},
		{"", false},
		{"été-soldes", false},

		// Identifiers.
		{"jane.doe@example.com", true},
		{"@jane", true},
		{"+44 20 7946 0958", true},
		{"(555) 123-4567", true},
		{"5551234567", true},
		{"call 555-123-4567 now", true},
		{"4111 1111 1111 1111", true},
		{"20241129", true},
		{"192.168.10.20", true},
		{"550e8400-e29b-41d4-a716-446655440000", true},
		{"user 550e8400-e29b-41d4-a716-446655440000", true},
		{"a1b2c3d4e5f6", true},
		{"DEADBEEFCAFE", true},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk", true},
		{"Cj0KCQjw-r-vBhC-ARIsAGgUO2Bx7kQ2pL9mN3vB", true}, // a gclid's shape
		{"IwAR2x8Kq7Lm3Np9Rt5Vw1Yz", true},                 // an fbclid's shape
		{"Xy7_kQ2-pL9mN3vB", true},
		{"a8f3k2m9x7q1w5z4", true},
		{"abc123def456ghi789", true},
		{"dQw4w9WgXcQ", true},
		{"aGVsbG8gd29ybGQgaGVsbG8=", true},
	}
	for _, tt := range tests {
		if got := LooksLikeIdentifier(tt.in); got != tt.want {
			t.Errorf("LooksLikeIdentifier(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLooksLikeIdentifierLongInput(t *testing.T) {
	// Linear in the input: a megabyte of separators must not take long or
	// blow up.
	s := strings.Repeat("1-", 1<<19)
	if !LooksLikeIdentifier(s) {
		t.Errorf("a long digit run with separators is not taken for an identifier")
	}
}
