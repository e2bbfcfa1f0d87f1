// Package report renders the answer to an access or portability request
// (GDPR Art. 15 and 20, the CCPA right to know, PIPL Art. 44, 45 and 48):
// everything tact holds about one shopper, what it is used for, who
// receives it, how long it is kept and what the shopper may do about it.
//
// It owns the report's two formats — a JSON document with a stable schema
// for portability (WriteJSON) and an HTML page in the shopper's locale,
// "en" or "zh-CN" (WriteHTML) — and the redaction of secrets and account
// numbers in what they show (Redact). It renders; it does not read the
// store, check who asks, or decide what the shopper's state is: the caller
// fills a Report and streams the events.
//
// Both formats stream: the events come from an iterator (Events) and are
// written one at a time through a bounded buffer that is passed on (and
// the destination flushed) every 32 KiB, so memory stays flat however many
// events a shopper has. Purposes, categories, recipients, retention,
// controller and authority all come from the data map and the shopper's
// regime; nothing about the shop is written here.
//
// # JSON schema tact.access-report/v1
//
// One object, its members always present and always in this order. Times
// are RFC 3339 strings in UTC (fractional seconds only when non-zero), or
// null when unknown. Optional strings are null, never omitted; lists are
// [] when empty. Object keys that are data (traits, choices, state) are
// sorted. Texts ("title", "…Text", "description") are in "locale"; ids and
// codes are stable and language-independent.
//
//	schema        "tact.access-report/v1"
//	requestId     string
//	generatedAt   time
//	locale        "en" | "zh-CN"
//	subject       string, the shopper's pseudonym (hex)
//	regime        {id, title, model ("opt_in"|"opt_out"), responseDeadline ("P1M", "P45D"…),
//	               responseDeadlineText, extension, notes, authority}
//	controller    {name, address, country, email, website?, dpo?, piplOfficer?,
//	               representatives: [{region, name, email?, address?}],
//	               supervisoryAuthority: {name, website?}}
//	               where dpo and piplOfficer are {name?, email?, phone?, address?} or null
//	identities    [{kind ("email"|"userId"|"anonymousId"), kindText, value?, since?}]
//	traits        object: the shopper's traits, redacted (see Redact), keys sorted
//	consent       [{receiptId, leafIndex, method, methodText, at, noticeVersion,
//	                choices: {purpose: bool}, pending, proof}] oldest first;
//	               proof is the ledger inclusion proof as served by
//	               GET /v1/consent/receipts/{id}, or null while pending
//	state         {purpose: {granted, pending, receiptId?, since?}}, the current choices
//	derived       {interests: [{category, score, source}], audiences: [string],
//	               retargeting: [{itemId, shown, until}]}
//	disclosures   [{recipient, recipientName, at, purpose, purposeTitle, categories: [id]}]
//	requests      [{id, type, typeText, status, receivedAt, completedAt?}]
//	processing    one entry per purpose of the data map, consent purposes then
//	               tact's system purposes:
//	               [{purpose, version, title, description,
//	                 status ("required"|"system"|"granted"|"pending"|"not_granted"), statusText,
//	                 legalBasis, legalBasisText, liaReference? (legitimate interest only),
//	                 system, sensitive, separateConsent,
//	                 retentionDays? (fixed retention of system purposes), retention (text),
//	                 categories: [{id, title, description, sensitive, retentionDays,
//	                               source ("you"|"shop"|"tact"), sourceText}],
//	                 recipients: [{id, name, description, role, roleText, country,
//	                               outsideRegion, transferMechanism?, safeguard}]}]
//	rights        {family ("gdpr"|"ccpa"|"pipl"), items: [{type?, title, description, reference}],
//	               endpoint ("POST /v1/requests"), howTo, deadline,
//	               complaint: {text, authority, website?}}
//	               type is the request type that exercises the right (null for
//	               CCPA non-discrimination, which needs no request)
//	profiling     {text: [string], signals: [string] (the rules and signals applied to this
//	               shopper, in the locale), personalization, sensitivePersonalization, status}
//	ccpa          null unless regime.model is "opt_out"; then
//	               {categoriesCollected: [{id, title, dataCategories: [id]}],
//	                sources: [{id, title}], purposes: [{id, title}],
//	                thirdParties: [{id, name, role, roleText, country, purposes: [id], categories: [id]}],
//	                soldOrShared, soldOrSharedFor: [purpose], soldOrSharedText}
//	events        [{messageId, type, event?, occurredAt, receivedAt, purposes: [purpose],
//	                receiptId?, payload}] oldest first, one per line;
//	               payload is the stored (minimised) event, redacted, its keys in
//	               stored order
//	eventCount    number of events written
//
// A consumer may rely on events and eventCount being last: everything
// before them is small.
//
// # Rules the report applies
//
// Source of a data category (the data map has no field for it; see
// categorySource): "profile.*" and "derived.*" are derived by tact;
// "identity.user_id", "government_id", "financial", "shop.*", "account.*"
// and "order.*" are provided by the shop; everything else is collected from
// the shopper or their browser on the shop's site.
//
// Recipients outside the controller's region (datamap.SameRegion with the
// controller's country) show their transfer mechanism; others need none.
//
// Rights family: CCPA for a regime whose model is opt_out, PIPL for a
// regime with id "pipl" or "cn", GDPR otherwise ("UK GDPR" references for
// id "uk"). The authority to complain to is the regime's Authority, or the
// controller's supervisory authority when the regime names none.
//
// CCPA section: the categories collected are those of every purpose in the
// map, grouped into the statutory categories of Cal. Civ. Code
// § 1798.140(v) by id (see ccpaCategoryOf); sold or shared is true iff the
// map has a recipient for sale_share or advertising (either naming the
// other) and the shopper's state grants that purpose now, not pending.
package report
