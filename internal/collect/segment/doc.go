// Package segment decodes event payloads in the dialect of Segment's HTTP
// Tracking API, as Segment's and RudderStack's SDKs send them, into tact's
// event type. It owns that decoding and its limits, and nothing else: no
// storage, no consent decisions, no HTTP handlers.
//
// What it accepts:
//
//   - POST /v1/batch and analytics-next's /v1/b: {"batch":[…]} with an
//     optional batch-level context, integrations, sentAt and writeKey
//     (DecodeBatch);
//   - POST /v1/{track,identify,page,screen,group,alias} and the short forms
//     /v1/{t,i,p,s,g,a}: one event, its type from the path (TypeFromPath,
//     DecodeSingle);
//   - bodies compressed with gzip or deflate whatever their labels say,
//     capped at MaxRequestBytes after decompression (ReadBody).
//
// Request-level problems are errors wrapping ErrTooLarge, ErrNotJSON,
// ErrInvalid or ErrEncoding. In a batch, a bad entry becomes a Rejected
// entry and the others are still accepted.
//
// JSON is read strictly, as the rest of tact reads outside JSON (see
// internal/strictjson): valid UTF-8, no duplicate keys at any depth, one
// value, nesting at most MaxDepth. Unknown members are allowed (SDKs add
// their own) and stay in each event's Raw text.
//
// Settings gives the settings object analytics-next fetches at start-up,
// pointing it at tact.
package segment
