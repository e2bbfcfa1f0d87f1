package store_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tact-cdp/tact/internal/store/sqlite"
	"github.com/tact-cdp/tact/internal/testenv"
)

// TestSubjectReadsSeekTheBucketedIndex checks the plans of the reads and
// writes of one subject's events: each must seek the (bucket, subject_id,
// id) index on both columns, never scan the events or the whole index (on
// PostgreSQL an IN list did, and the strip job slowed down as events grew).
func TestSubjectReadsSeekTheBucketedIndex(t *testing.T) {
	queries := map[string]string{
		"read":  "SELECT id FROM events WHERE %s AND id > 0 AND (purposes & 3) <> 0 ORDER BY id LIMIT 10",
		"strip": "UPDATE events SET purposes = (purposes & 3) WHERE %s AND (purposes & 4) <> 0",
		"merge": "UPDATE events SET subject_id = 'sb_b' WHERE %s",
		"purge": "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE %s ORDER BY id LIMIT 10)",
	}
	for _, s := range testenv.Stores() {
		t.Run(s.Name, func(t *testing.T) {
			inst := s.New(t)
			var raw *sql.DB
			var err error
			fragment := strings.Replace(inst.DB.InSubjectBuckets(), "?", "'sb_a'", 1)
			if inst.Dollar {
				raw, err = sql.Open("pgx", inst.Args[len(inst.Args)-1])
			} else {
				raw, err = sql.Open("sqlite", "file:"+filepath.Join(inst.Args[1], sqlite.FileName))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			for name, q := range queries {
				explain := "EXPLAIN QUERY PLAN "
				if inst.Dollar {
					explain = "EXPLAIN "
				}
				rows, err := raw.Query(explain + strings.Replace(q, "%s", fragment, 1))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				var plan []string
				cols, _ := rows.Columns()
				for rows.Next() {
					vals := make([]any, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					if err := rows.Scan(ptrs...); err != nil {
						t.Fatal(err)
					}
					for _, v := range vals {
						if b, ok := v.([]byte); ok {
							plan = append(plan, string(b))
						} else if s, ok := v.(string); ok {
							plan = append(plan, s)
						}
					}
				}
				rows.Close()
				text := strings.Join(plan, "\n")
				var seeks bool
				if inst.Dollar {
					seeks = strings.Contains(text, "Index Cond: ((bucket = ANY") && strings.Contains(text, "subject_id = 'sb_a'::text")
				} else {
					seeks = strings.Contains(text, "USING INDEX events_subject (bucket=? AND subject_id=?") ||
						strings.Contains(text, "USING COVERING INDEX events_subject (bucket=? AND subject_id=?")
				}
				if !seeks || strings.Contains(text, "Seq Scan on events") || strings.Contains(text, "SCAN events") {
					t.Errorf("%s does not seek the bucketed index on both columns:\n%s", name, text)
				}
			}
		})
	}
}
