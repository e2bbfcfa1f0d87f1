// Package collect turns Segment-compatible event calls into stored events —
// only for the purposes the shopper granted (DESIGN principles 2, 3, 5, 8).
//
// For every event it works out who the shopper is (a browser's own
// anonymous profile unless the call is trusted: a server key, or a userId
// proven by its userHash), asks the gate which purposes the event may be
// kept for (the server-side consent state, the consent signals inside the
// event, GPC, the minor flag, suppression after erasure, the purposes the
// data map declares and the separate grant sensitive items need), minimises
// what is kept (country instead of IP, device families instead of the user
// agent, templated paths, campaign values that are not identifiers,
// referrer hosts) and seals the payload under the shopper's data key.
// Events the gate keeps for nothing are not stored as personal data; they
// feed consent-free measurement as the regime allows.
package collect
