package collect

import (
	"slices"
	"testing"
)

var testPurposes = []string{"analytics", "personalization", "sensitive_personalization", "advertising", "sale_share", "marketing_email"}

func separate(p string) (string, bool) {
	if p == "personalization" {
		return "sensitive_personalization", true
	}
	return "", false
}

func TestGate(t *testing.T) {
	grants := func(ps ...string) func(string) bool { return func(p string) bool { return slices.Contains(ps, p) } }
	shopping := []string{"analytics", "personalization", "advertising"}
	for _, c := range []struct {
		name   string
		in     GateInput
		want   []string
		reason string
	}{
		{"nobody known", GateInput{Declared: shopping}, nil, ReasonNoConsent},
		{"nothing granted", GateInput{Declared: shopping, Granted: grants()}, nil, ReasonNoConsent},
		{"analytics only", GateInput{Declared: shopping, Granted: grants("analytics")}, []string{"analytics"}, ""},
		{"granted but not declared", GateInput{Declared: []string{"analytics"}, Granted: grants("analytics", "advertising")}, []string{"analytics"}, ""},
		{"nothing declared", GateInput{Granted: grants("analytics")}, nil, ReasonNotDeclared},
		{"signal narrows", GateInput{Declared: shopping, Granted: grants("analytics", "advertising"), Denied: map[string]bool{"advertising": true}}, []string{"analytics"}, ""},
		{"signal empties", GateInput{Declared: shopping, Granted: grants("advertising"), Denied: map[string]bool{"advertising": true}}, nil, ReasonSignal},
		{"suppressed wins", GateInput{Declared: shopping, Granted: grants("analytics"), Suppressed: true}, nil, ReasonSuppressed},
		{"sensitive without separate grant", GateInput{Declared: shopping, Granted: grants("analytics", "personalization"), Sensitive: true, Separate: separate}, nil, ReasonSensitive},
		{"sensitive with separate grant", GateInput{Declared: shopping, Granted: grants("personalization", "sensitive_personalization"), Sensitive: true, Separate: separate}, []string{"sensitive_personalization"}, ""},
		{"separate grant alone is not enough", GateInput{Declared: shopping, Granted: grants("sensitive_personalization"), Sensitive: true, Separate: separate}, nil, ReasonNoConsent},
	} {
		got, reason := Gate(c.in)
		if !slices.Equal(got, c.want) || reason != c.reason {
			t.Errorf("%s: got %v %q, want %v %q", c.name, got, reason, c.want, c.reason)
		}
	}
}

// FuzzGate checks the gate's invariant: what it keeps is always granted,
// never denied by a signal, and declared — or, for sensitive events, the
// separately granted stand-in of a declared purpose.
func FuzzGate(f *testing.F) {
	f.Add(uint8(0b111), uint8(0b011), uint8(0), false, false)
	f.Add(uint8(0b111), uint8(0b111), uint8(0b100), true, false)
	f.Add(uint8(0b010), uint8(0b110), uint8(0), true, true)
	f.Fuzz(func(t *testing.T, declaredBits, grantedBits, deniedBits uint8, sensitive, suppressed bool) {
		pick := func(bits uint8) []string {
			var out []string
			for i, p := range testPurposes {
				if bits&(1<<i) != 0 {
					out = append(out, p)
				}
			}
			return out
		}
		declared, granted := pick(declaredBits), pick(grantedBits)
		denied := map[string]bool{}
		for _, p := range pick(deniedBits) {
			denied[p] = true
		}
		got, reason := Gate(GateInput{Declared: declared, Granted: func(p string) bool { return slices.Contains(granted, p) },
			Denied: denied, Sensitive: sensitive, Separate: separate, Suppressed: suppressed})
		if (len(got) == 0) != (reason != "") {
			t.Fatalf("purposes %v with reason %q", got, reason)
		}
		if suppressed && len(got) > 0 {
			t.Fatalf("a suppressed shopper's event kept %v", got)
		}
		for _, p := range got {
			if !slices.Contains(granted, p) || denied[p] {
				t.Fatalf("kept %s: granted %v, denied %v", p, granted, denied)
			}
			if sensitive {
				stands := false
				for _, d := range declared {
					if q, ok := separate(d); ok && q == p && slices.Contains(granted, d) {
						stands = true
					}
				}
				if !stands {
					t.Fatalf("sensitive event kept %s, not the separate stand-in of a declared, granted purpose (declared %v)", p, declared)
				}
			} else if !slices.Contains(declared, p) {
				t.Fatalf("kept %s, not declared (%v)", p, declared)
			}
		}
	})
}
