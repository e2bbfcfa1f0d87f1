// Package audience owns marketing audiences (segments): which shoppers a
// shop may address for email, SMS or advertising, and how that set changes.
//
// A Definition is declarative data, never an expression language: a tree of
// all/any/not over three kinds of leaf — an event the shopper did (at least
// MinCount times within the last WithinDays days, optionally filtered on
// event properties), an interest category of their profile, and a
// non-identifying trait such as country or plan. Parse decodes one strictly
// and Validate checks it against the shop's data map (Env): a definition
// cannot name a direct identifier (email, phone, name, ids…), cannot use an
// event the data map does not store for its purpose, and an advertising
// audience cannot touch sensitive categories. Definitions are bounded in
// size, depth (MaxDepth) and leaves (MaxConditions) before any recursion.
//
// The Engine keeps membership incrementally in memory. It never keeps raw
// events: for each (event leaf, subject) it keeps counts per UTC day, only
// for the days inside the leaf's window, so memory is bounded and old days
// are dropped by Advance. An observation counts for an audience only if it
// is stored under the audience's purpose. A subject is a member when the
// caller's Eligible check passes for the purpose (granted now, not a known
// minor, not restricted) and the condition tree holds.
//
// Windows are counted in whole UTC days: an event leaf with WithinDays N
// counts the events of today and the N-1 days before (UTC), so an event
// leaves the window at the UTC midnight N days after its day.
//
// Only subjects the engine holds state for are candidates: state is live
// event counts (observations that matched some audience's leaf under its
// purpose), a non-empty interest profile (SetInterests) or non-identifying
// traits (SetTraits). A subject the engine knows nothing about is never a
// member, so "not" cannot make the whole customer base an audience: an
// audience "not ordered within 30 days" holds the known subjects who did
// not order, and a subject whose last state expires leaves every audience.
package audience
