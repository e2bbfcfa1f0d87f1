package postgres

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// channel carries the ids of subjects whose consent state changed, so that
// every node drops its cached copy (DESIGN 4: consent caches are
// invalidated across nodes).
const channel = "tact_subjects"

// maxPayload keeps NOTIFY payloads under PostgreSQL's 8000-byte limit.
const maxPayload = 7000

// notify publishes changed subject ids to the other nodes.
func notify(ctx context.Context, db *sql.DB, ids []string) error {
	for len(ids) > 0 {
		var b strings.Builder
		n := 0
		for n < len(ids) && b.Len()+len(ids[n])+1 <= maxPayload {
			if n > 0 {
				b.WriteByte(',')
			}
			b.WriteString(ids[n])
			n++
		}
		if n == 0 { // one id longer than a payload: cannot happen with tact's ids
			ids = ids[1:]
			continue
		}
		if _, err := db.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, b.String()); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// listen calls changed with the subject ids other nodes publish, until ctx
// ends. Whenever the connection is (re)established, it first calls
// changed(nil): notifications may have been missed, so everything cached is
// stale.
func listen(ctx context.Context, url string, changed func(ids []string), logf func(msg string, err error)) {
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, changed)
		if ctx.Err() != nil {
			return
		}
		logf("listening for consent changes of other nodes", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func listenOnce(ctx context.Context, url string, changed func(ids []string)) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	changed(nil)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		changed(strings.Split(n.Payload, ","))
	}
}
