package postgres

import (
	"slices"
	"strings"
	"testing"
)

func TestFromOthers(t *testing.T) {
	self, other := newOrigin(), newOrigin()
	if self == other || !strings.HasPrefix(string(self), "@") {
		t.Fatalf("origins %q and %q: want distinct, starting with @", self, other)
	}
	for _, c := range []struct {
		payload string
		ids     []string
		ok      bool
	}{
		{"s1,s2," + string(other), []string{"s1", "s2"}, true},
		{"s1," + string(self), nil, false},
		{"s1,s2", []string{"s1", "s2"}, true}, // a node that predates the tag
	} {
		ids, ok := fromOthers(c.payload, self)
		if ok != c.ok || !slices.Equal(ids, c.ids) {
			t.Errorf("fromOthers(%q) = %q, %v; want %q, %v", c.payload, ids, ok, c.ids, c.ok)
		}
	}
}
