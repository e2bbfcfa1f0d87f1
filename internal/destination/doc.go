// Package destination owns what leaves tact for third-party recipients:
// audience data and propagation notices (withdrawal, deletion…) sent as
// HMAC-signed webhooks, and audience exports as CSV or JSON Lines files.
//
// Webhooks are signed with Sign (header Tact-Signature, "t=<unix>,v1=<hex
// HMAC-SHA256(secret, "<t>." + body)>") and receivers check them with
// Verify. A Sender delivers from a persisted Queue in its own goroutine so
// that delivery never blocks event ingestion: it claims due deliveries with
// a lease, posts them with bounded concurrency, and records each attempt's
// Outcome; failures are retried with exponential back-off (honouring
// Retry-After) until MaxAttempts, after which the delivery is a dead letter.
// Delivery is at least once: a receiver deduplicates on the Tact-Delivery
// header.
//
// File exports write only the fields a destination is allowed to receive
// (ValidFields), stream through a buffered writer, and guard CSV cells
// against formula injection.
//
// Nothing here logs or reports bodies, secrets or URLs: errors and log lines
// carry delivery ids, destination ids, HTTP statuses and short error classes.
package destination
