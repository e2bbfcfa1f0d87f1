package postgres

import (
	"context"
	"crypto/rand"
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

// origin names the node that sent a notification. PostgreSQL delivers a
// NOTIFY to every listener, the sender's own included, and a node has
// already acted on its own changes before it published them; the tag lets
// it skip them. It is the payload's last element and starts with "@", which
// no subject id does, so a node that predates the tag reads it as an id of
// no subject and still acts on the others.
type origin string

func newOrigin() origin { return origin("@" + rand.Text()[:12]) }

// notify publishes changed subject ids to the other nodes.
func notify(ctx context.Context, db *sql.DB, from origin, ids []string) error {
	for len(ids) > 0 {
		var b strings.Builder
		n := 0
		for n < len(ids) && b.Len()+len(ids[n])+1+len(from)+1 <= maxPayload {
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
		b.WriteByte(',')
		b.WriteString(string(from))
		if _, err := db.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, b.String()); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// listen calls changed with the subject ids other nodes publish, until ctx
// ends; what self published is left out. Whenever the connection is
// (re)established, it first calls changed(nil): notifications may have been
// missed, so everything cached is stale.
func listen(ctx context.Context, url string, self origin, changed func(ids []string), logf func(msg string, err error)) {
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, self, changed)
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

func listenOnce(ctx context.Context, url string, self origin, changed func(ids []string)) error {
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
		if ids, ok := fromOthers(n.Payload, self); ok {
			changed(ids)
		}
	}
}

// fromOthers returns the subject ids of a payload, or false when self sent
// it.
func fromOthers(payload string, self origin) ([]string, bool) {
	ids := strings.Split(payload, ",")
	if last := ids[len(ids)-1]; strings.HasPrefix(last, "@") {
		if origin(last) == self {
			return nil, false
		}
		ids = ids[:len(ids)-1]
	}
	return ids, true
}
