package storetest_test

import (
	"testing"

	"github.com/tact-cdp/tact/internal/store"
	"github.com/tact-cdp/tact/internal/store/storetest"
	"github.com/tact-cdp/tact/internal/testenv"
)

// TestStores runs the conformance suite against every store: SQLite always,
// PostgreSQL when TACT_TEST_POSTGRES_URL is set (its subtests skip with a
// message otherwise).
func TestStores(t *testing.T) {
	for _, s := range testenv.Stores() {
		t.Run(s.Name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) *store.DB { return s.New(t).DB })
		})
	}
}
