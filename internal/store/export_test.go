package store

// InSubjectBuckets exposes the subject restriction to the plan test.
func (db *DB) InSubjectBuckets() string { return db.inSubjectBuckets() }
