package store

import "context"

// InSubjectBuckets exposes the subject restriction to the plan test.
func (db *DB) InSubjectBuckets() string { return db.inSubjectBuckets() }

// RunBatch runs fns as the writer runs one batch of writes (one
// transaction, savepoints only when one fails) and returns each write's
// error. appendsEvents marks the writes WriteEvents would queue.
func (db *DB) RunBatch(fns []func(*Tx) error, appendsEvents []bool) []error {
	batch := make([]*writeReq, len(fns))
	for i, fn := range fns {
		batch[i] = &writeReq{ctx: context.Background(), fn: fn, appendsEvents: appendsEvents[i], done: make(chan error, 1)}
	}
	db.commitBatch(batch)
	errs := make([]error, len(batch))
	for i, r := range batch {
		errs[i] = <-r.done
	}
	return errs
}

// CountInTx counts a subject's events from inside a write transaction.
func (t *Tx) CountInTx(ctx context.Context, subjectID string) (n int, err error) {
	err = t.queryRow(ctx, "SELECT COUNT(*) FROM events WHERE subject_id = ?", subjectID).Scan(&n)
	return n, err
}
