// Package layouts holds the measurements behind the choice of the event
// storage layout (docs/storage.md): benchmarks that write the same
// realistic events through candidate table layouts, with their indexes, at
// the durability tact runs with (SQLite synchronous=FULL; PostgreSQL
// synchronous_commit=on), in commit groups as the group-commit writer makes
// them. It has no code tact runs.
package layouts
