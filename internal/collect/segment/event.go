package segment

import (
	"strings"
	"time"
)

// Limits of the Segment HTTP Tracking API, which SDKs already respect
// (analytics-node splits batches at 480 KB and refuses events over 32 KB).
const (
	MaxRequestBytes = 500 << 10 // a whole request, after decompression
	MaxEventBytes   = 32 << 10  // one event's JSON text
	MaxDepth        = 32        // nesting of objects and arrays, counting the body itself
)

// Type is a Segment call type.
type Type string

// The six Segment calls.
const (
	Track    Type = "track"
	Identify Type = "identify"
	Page     Type = "page"
	Screen   Type = "screen"
	Group    Type = "group"
	Alias    Type = "alias"
)

// TypeFromPath maps the last segment of an endpoint path to its type: the
// long forms (/v1/track …) and the one-letter forms analytics-next posts
// to (/v1/t, /v1/i, /v1/p, /v1/s, /v1/g, /v1/a).
func TypeFromPath(p string) (Type, bool) {
	switch p {
	case "track", "t":
		return Track, true
	case "identify", "i":
		return Identify, true
	case "page", "p":
		return Page, true
	case "screen", "s":
		return Screen, true
	case "group", "g":
		return Group, true
	case "alias", "a":
		return Alias, true
	}
	return "", false
}

func typeFromBody(s string) (Type, bool) {
	switch t := Type(s); t {
	case Track, Identify, Page, Screen, Group, Alias:
		return t, true
	}
	return "", false
}

// Event is one decoded call. Strings are empty and maps nil when the
// payload leaves them out (or sends null); numbers inside Properties,
// Traits and Integrations are json.Number, so ids and amounts keep their
// exact text (a numeric product_id is returned as sent).
type Event struct {
	Type      Type
	MessageID string
	// GeneratedID is set when the payload had no messageId and this
	// package made a random one (as Segment does). Such an event cannot be
	// deduplicated against a retry.
	GeneratedID bool

	// AnonymousID and UserID are as sent; numbers become their decimal
	// text (Segment accepts numeric ids).
	AnonymousID, UserID string

	Event          string // track: the event name ("Order Completed")
	Name, Category string // page and screen
	GroupID        string // group
	PreviousID     string // alias

	Properties map[string]any
	// Traits are the top-level traits (identify, group); for identify
	// without them, the user traits in context.traits (some SDKs send
	// identify traits only there). A group call's context.traits describe
	// the user, not the group, so they stay in Context.Traits.
	Traits map[string]any

	// Client times, in UTC; zero when absent. SentAt falls back to the
	// batch's sentAt. Use OccurredAt, not these, for the event time.
	Timestamp, SentAt, OriginalTimestamp time.Time

	Context      Context
	Integrations map[string]any

	// WriteKey is the writeKey inside the event (analytics-next puts it in
	// every event); Batch.WriteKey is the one that counts.
	WriteKey string

	// Raw is this event's JSON text exactly as received: a sub-slice of
	// the body passed to DecodeBatch or DecodeSingle (do not modify that
	// body while the event is in use). The batch-level context is not
	// merged into it. It is what gets sealed.
	Raw []byte
	// Members are the event's top-level members in order, where the
	// decoder found them in Raw (nil for an Event the decoder did not
	// make): AppendKept copies them without reading Raw again.
	Members []Member
}

// Member is where one top-level member of an event sits in Event.Raw:
// Raw[Start:End] is `"key":value` and Raw[Value:End] the value, both
// possibly with white space around them.
type Member struct {
	Key               string
	Start, Value, End int32
}

// Context holds the parts of context tact reads. Everything else in the
// context stays in Raw. Fields of the wrong JSON type are ignored (SDKs
// differ: old analytics-node sends "ip": 0), except the consent signals,
// which reject the event rather than be misread.
type Context struct {
	IP, UserAgent, Locale, Timezone string
	Page                            PageContext
	// Campaign has context.campaign's string members (name, source,
	// medium, term, content, …) and, where those are missing, the utm_*
	// parameters of page.search (or of page.url's query), named as
	// analytics.js names them: utm_campaign → "name", utm_source →
	// "source", and so on.
	Campaign map[string]string
	Library  Library
	// UserHash is context.userHash, hex HMAC-SHA256 of the userId under
	// the shop's user-hash secret (tact's extension, DESIGN 5.1). Not
	// checked here.
	UserHash string
	// Consent is nil when the event carries no consent signal.
	Consent *ConsentSignals
	Traits  map[string]any
}

// PageContext is context.page. For page calls, fields missing from
// context.page are taken from the properties of the same names (server
// SDKs put them only there).
type PageContext struct {
	URL, Path, Referrer, Search, Title string
}

// Library is context.library, the SDK that sent the event.
type Library struct {
	Name, Version string
}

// Consent signal sources.
const (
	SourceSegment     = "segment"             // context.consent.categoryPreferences
	SourceRudderStack = "rudderstack"         // context.consentManagement
	SourceBoth        = "segment+rudderstack" // both present: apply both
)

// ConsentSignals are the consent choices an event carries. The decoder
// only reads them; the gate decides (the stricter of these and the
// server-side state wins, DESIGN 5.1).
type ConsentSignals struct {
	Source string
	// Categories is Segment's categoryPreferences: category id → granted.
	// A value other than JSON true counts as not granted. Non-nil when
	// categoryPreferences was present, even if empty.
	Categories map[string]bool
	// Allowed and Denied are RudderStack's allowedConsentIds and
	// deniedConsentIds (numbers become their text).
	Allowed, Denied []string
	// Provider ("oneTrust", "ketch", "iubenda", "custom") and
	// ResolutionStrategy ("and", "or") as RudderStack sends them.
	Provider, ResolutionStrategy string
}

// Rejected is a batch entry that was not accepted.
type Rejected struct {
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Batch is a decoded request.
type Batch struct {
	Events []Event
	// Indexes[i] is the position of Events[i] in the request's batch.
	Indexes []int
	// Rejected lists the entries not accepted, by increasing index.
	Rejected []Rejected
	// WriteKey is the body's writeKey, or else the one its events carry
	// (for requests without an Authorization header, DESIGN 5.1).
	WriteKey string
	// SentAt is the body's sentAt (zero when absent).
	SentAt time.Time
}

// HasIdentifier reports whether the event names anyone. Events without
// an identifier serve consent-free measurement only.
func (e Event) HasIdentifier() bool {
	return e.UserID != "" || e.AnonymousID != ""
}

// UTM returns the campaign as utm_* parameters (utm_campaign,
// utm_source, utm_medium, utm_term, utm_content, …), from context.campaign
// and the page's query string. Nil when there are none. The values are as
// sent: whether they look like identifiers is for minimisation to judge.
func (e Event) UTM() map[string]string {
	if len(e.Context.Campaign) == 0 {
		return nil
	}
	m := make(map[string]string, len(e.Context.Campaign))
	for k, v := range e.Context.Campaign {
		switch {
		case k == "name":
			k = "utm_campaign"
		case strings.HasPrefix(k, "utm_"):
		default:
			k = "utm_" + k
		}
		m[k] = v
	}
	return m
}

// OccurredAt is when the event happened, by the server's clock (DESIGN 5.1):
//
//   - the client's timestamp (or, without one, its originalTimestamp),
//     corrected for the client's clock skew when it also sent sentAt:
//     timestamp + (receivedAt − sentAt), as Segment computes it;
//   - without a client time, receivedAt;
//   - never later than receivedAt, so a client cannot date an event
//     into the future (nor, by consent rules, after a withdrawal).
func OccurredAt(e Event, receivedAt time.Time) time.Time {
	t := e.Timestamp
	if t.IsZero() {
		t = e.OriginalTimestamp
	}
	if t.IsZero() {
		return receivedAt
	}
	if !e.SentAt.IsZero() {
		t = t.Add(receivedAt.Sub(e.SentAt))
	}
	if t.After(receivedAt) {
		return receivedAt
	}
	return t
}
