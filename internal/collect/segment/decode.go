package segment

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DecodeBatch decodes a batch body: {"batch":[…], "context"?, "sentAt"?,
// "writeKey"?, "integrations"?, …}. Other top-level members (_metadata,
// SDK extras) are checked for syntax and ignored.
//
// A problem with the request as a whole is an error and no event is
// returned: the body is not JSON (including invalid UTF-8 and trailing
// data), is not an object, nests deeper than MaxDepth, repeats a key in any
// object, has no "batch" array, or has a malformed batch-level field.
//
// A problem with one entry rejects that entry only (Batch.Rejected): it is
// not an object, has no or an unknown type, is over MaxEventBytes, has a
// known field of the wrong type or an unparsable time, lacks a field its
// type needs (track: event; group: groupId; alias: userId and
// previousId), or carries a writeKey other than the request's.
//
// The batch-level context and integrations are merged into each accepted
// event (the event's own members win, key by key for maps), and the
// batch-level sentAt fills events that have none.
//
// The decoded strings and Raw share body's memory: body must not change
// afterwards.
func DecodeBatch(body []byte) (Batch, error) {
	p, err := start(body)
	if err != nil {
		return Batch{}, err
	}
	var (
		b            Batch
		sawBatch     bool
		batchCtx     Context
		integrations map[string]any
		decoded      []Event
	)
	p.openObject(true)
	for i := 0; p.nextMember(i); i++ {
		switch p.key {
		case "batch":
			if p.peek() != '[' {
				if p.err == nil {
					p.failf(ErrInvalid, CodeNoBatch, `"batch" must be an array`)
				}
				break
			}
			sawBatch = true
			// Sized for events of ~600 bytes, so that a batch of typical
			// events needs one allocation rather than eight doublings.
			decoded = make([]Event, 0, min(len(body)/600+1, 1024))
			p.members = make([]Member, 0, len(body)/64+16) // ~one per 80 bytes

			p.openArray()
			for n := 0; p.nextElem(n); n++ {
				startPos := p.pos
				if p.peek() != '{' {
					p.skipValue()
					b.Rejected = append(b.Rejected, Rejected{Index: n, Code: CodeNotObject, Message: "batch entry is not an object"})
					continue
				}
				var e Event
				first := len(p.members)
				code, msg := p.event(&e, "")
				if p.err != nil {
					break
				}
				e.setRaw(body, startPos, p.pos, p.members[first:])
				switch {
				case len(e.Raw) > MaxEventBytes:
					b.Rejected = append(b.Rejected, Rejected{Index: n, Code: CodeTooLarge,
						Message: fmt.Sprintf("event is %d bytes, over the limit of %d", len(e.Raw), MaxEventBytes)})
				case code != "":
					b.Rejected = append(b.Rejected, Rejected{Index: n, Code: code, Message: msg})
				default:
					decoded = append(decoded, e)
					b.Indexes = append(b.Indexes, n)
				}
			}
		case "context":
			switch p.peek() {
			case '{':
				if code, msg := p.context(&batchCtx); code != "" {
					p.failf(ErrInvalid, code, "batch %s", msg)
				}
			case 'n':
				p.literal()
			default:
				if p.err == nil {
					p.failf(ErrInvalid, CodeInvalidField, `batch "context" must be an object`)
				}
			}
		case "integrations":
			m, bad := p.optObject()
			if bad {
				p.failf(ErrInvalid, CodeInvalidField, `batch "integrations" must be an object`)
			}
			integrations = m
		case "sentAt":
			t, bad := p.optTime()
			if bad {
				p.failf(ErrInvalid, CodeInvalidField, `batch "sentAt" is not an ISO 8601 time`)
			}
			b.SentAt = t
		case "writeKey":
			s, bad := p.optString()
			if bad {
				p.failf(ErrInvalid, CodeInvalidField, `"writeKey" must be a string`)
			}
			b.WriteKey = s
		default:
			p.skipValue()
		}
	}
	p.end()
	if p.err != nil {
		return Batch{}, p.err
	}
	if !sawBatch {
		return Batch{}, &Error{Code: CodeNoBatch, Message: `body has no "batch" array`, kind: ErrInvalid}
	}

	if b.WriteKey == "" {
		for i := range decoded {
			if decoded[i].WriteKey != "" {
				b.WriteKey = decoded[i].WriteKey
				break
			}
		}
	}
	// Events whose own writeKey contradicts the request's are refused: the
	// request's key decides where events go, and an entry addressed to
	// another source must not land in this one.
	b.Events = decoded[:0:len(decoded)]
	indexes := b.Indexes[:0]
	mismatch := false
	for i := range decoded {
		e := &decoded[i]
		if e.WriteKey != "" && e.WriteKey != b.WriteKey {
			b.Rejected = append(b.Rejected, Rejected{Index: b.Indexes[i], Code: CodeWriteKey,
				Message: "event writeKey differs from the request's"})
			mismatch = true
			continue
		}
		if e.SentAt.IsZero() {
			e.SentAt = b.SentAt
		}
		e.Context.merge(&batchCtx)
		e.Integrations = mergeMaps(e.Integrations, integrations)
		e.finish()
		b.Events = append(b.Events, *e)
		indexes = append(indexes, b.Indexes[i])
	}
	b.Indexes = indexes
	if mismatch {
		slices.SortFunc(b.Rejected, func(x, y Rejected) int { return x.Index - y.Index })
	}
	return b, nil
}

// DecodeSingle decodes the body of POST /v1/{track,identify,…} or a short
// form (/v1/t …): one event whose type comes from the path. A "type" in
// the body that contradicts the path is an error, as is every problem
// DecodeBatch would reject an entry for; an event over MaxEventBytes is
// ErrTooLarge. The result has exactly one event, at index 0. Like
// DecodeBatch's, its strings share body's memory.
func DecodeSingle(t Type, body []byte) (Batch, error) {
	if _, ok := typeFromBody(string(t)); !ok {
		return Batch{}, &Error{Code: CodeUnknownType, Message: fmt.Sprintf("unknown event type %s", quoteKey(string(t))), kind: ErrInvalid}
	}
	p, err := start(body)
	if err != nil {
		return Batch{}, err
	}
	begin := p.pos
	raw := trimSpace(body[begin:])
	if len(raw) > MaxEventBytes {
		return Batch{}, &Error{Code: CodeTooLarge,
			Message: fmt.Sprintf("event is %d bytes, over the limit of %d", len(raw), MaxEventBytes), kind: ErrTooLarge}
	}
	var e Event
	first := len(p.members)
	code, msg := p.event(&e, t)
	p.end()
	if p.err != nil {
		return Batch{}, p.err
	}
	if code != "" {
		return Batch{}, &Error{Code: code, Message: msg, kind: ErrInvalid}
	}
	e.setRaw(body, begin, begin+len(raw), p.members[first:])
	e.finish()
	return Batch{Events: []Event{e}, Indexes: []int{0}, WriteKey: e.WriteKey, SentAt: e.SentAt}, nil
}

// start checks what must hold before parsing: a body within
// MaxRequestBytes (callers may skip ReadBody), non-empty, in UTF-8, whose
// value is an object.
func start(body []byte) (*parser, error) {
	if len(body) > MaxRequestBytes {
		return nil, tooLarge()
	}
	if !utf8.Valid(body) {
		return nil, &Error{Code: CodeNotJSON, Message: fmt.Sprintf("body is not JSON: invalid UTF-8 at byte %d", invalidUTF8At(body)), kind: ErrNotJSON}
	}
	p := newParser(body)
	switch c := p.peek(); {
	case c == '{':
		return p, nil
	case c == 0:
		return nil, &Error{Code: CodeNotJSON, Message: "body is empty", kind: ErrNotJSON}
	case c == '[' || c == '"' || c == '-' || isDigit(c) || c == 't' || c == 'f' || c == 'n':
		// Judge the syntax first, so that garbage is "not JSON".
		p.skipValue()
		p.end()
		if p.err != nil && p.err.kind == ErrNotJSON {
			return nil, p.err
		}
		return nil, &Error{Code: CodeNotObject, Message: "body must be a JSON object", kind: ErrInvalid}
	}
	p.syntax("expected a JSON object")
	return nil, p.err
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// setRaw sets e.Raw to body[start:end] and e.Members to ms, whose
// positions the parser took in body.
func (e *Event) setRaw(body []byte, start, end int, ms []Member) {
	e.Raw = body[start:end:end]
	for i := range ms {
		ms[i].Start -= int32(start)
		ms[i].Value -= int32(start)
		ms[i].End -= int32(start)
	}
	e.Members = ms[:len(ms):len(ms)]
}

func trimSpace(b []byte) []byte {
	end := len(b)
	for end > 0 && (b[end-1] == ' ' || b[end-1] == '\t' || b[end-1] == '\n' || b[end-1] == '\r') {
		end--
	}
	return b[:end]
}

// event reads one event object into e. want is the type fixed by the path
// ("" in a batch). A problem with the event as data comes back as a
// rejection code and message (the first problem found); syntax problems
// set p.err instead.
func (p *parser) event(e *Event, want Type) (code, msg string) {
	reject := func(c, m string) {
		if code == "" {
			code, msg = c, m
		}
	}
	var typ string
	hasType := false
	if !p.openObject(true) {
		return "", ""
	}
	for i := 0; ; i++ {
		if i > 0 {
			// The last member's value ends where the parser stands.
			p.members[len(p.members)-1].End = int32(p.pos)
		}
		if !p.nextMember(i) {
			break
		}
		p.members = append(p.members, Member{Key: p.key, Start: int32(p.keyAt), Value: int32(p.pos)})
		switch key := p.key; key {
		case "type":
			s, bad := p.optString()
			if bad {
				reject(CodeInvalidField, `"type" must be a string`)
			}
			typ, hasType = s, s != ""
		case "messageId":
			s, bad := p.optID()
			if bad {
				reject(CodeInvalidField, `"messageId" must be a string`)
			}
			e.MessageID = s
		case "anonymousId", "userId", "groupId", "previousId":
			s, bad := p.optID()
			if bad {
				reject(CodeInvalidField, fmt.Sprintf("%q must be a string or a number", key))
			}
			switch key {
			case "anonymousId":
				e.AnonymousID = s
			case "userId":
				e.UserID = s
			case "groupId":
				e.GroupID = s
			default:
				e.PreviousID = s
			}
		case "event", "name", "category", "writeKey":
			s, bad := p.optString()
			if bad {
				reject(CodeInvalidField, fmt.Sprintf("%q must be a string", key))
			}
			switch key {
			case "event":
				e.Event = s
			case "name":
				e.Name = s
			case "category":
				e.Category = s
			default:
				e.WriteKey = s
			}
		case "properties", "traits", "integrations":
			m, bad := p.optObject()
			if bad {
				reject(CodeInvalidField, fmt.Sprintf("%q must be an object", key))
			}
			switch key {
			case "properties":
				e.Properties = m
			case "traits":
				e.Traits = m
			default:
				e.Integrations = m
			}
		case "timestamp", "sentAt", "originalTimestamp":
			t, bad := p.optTime()
			if bad {
				reject(CodeInvalidField, fmt.Sprintf("%q is not an ISO 8601 time", key))
			}
			switch key {
			case "timestamp":
				e.Timestamp = t
			case "sentAt":
				e.SentAt = t
			default:
				e.OriginalTimestamp = t
			}
		case "context":
			switch p.peek() {
			case '{':
				if c, m := p.context(&e.Context); c != "" {
					reject(c, m)
				}
			case 'n':
				p.literal()
			default:
				p.skipValue()
				reject(CodeInvalidField, `"context" must be an object`)
			}
		default:
			p.skipValue()
		}
	}
	if p.err != nil {
		return "", ""
	}
	switch {
	case want != "":
		if hasType && Type(typ) != want {
			return CodeTypeMismatch, fmt.Sprintf("body type %s contradicts the endpoint's type %q", quoteKey(typ), want)
		}
		e.Type = want
	case !hasType:
		reject(CodeMissingType, `event has no "type"`)
	default:
		t, ok := typeFromBody(typ)
		if !ok {
			reject(CodeUnknownType, fmt.Sprintf("unknown event type %s", quoteKey(typ)))
		}
		e.Type = t
	}
	if code != "" {
		return code, msg
	}
	switch e.Type {
	case Track:
		if e.Event == "" {
			return CodeMissingField, `track event has no "event" name`
		}
	case Group:
		if e.GroupID == "" {
			return CodeMissingField, `group event has no "groupId"`
		}
	case Alias:
		if e.UserID == "" || e.PreviousID == "" {
			return CodeMissingField, `alias event needs "userId" and "previousId"`
		}
	}
	return "", ""
}

// context reads a context object into c. Members of the wrong type are
// ignored, except consent signals: a malformed one rejects the event, since
// ignoring it could widen what the shopper allowed.
func (p *parser) context(c *Context) (code, msg string) {
	if !p.openObject(true) {
		return "", ""
	}
	for i := 0; p.nextMember(i); i++ {
		switch key := p.key; key {
		case "ip", "userAgent", "locale", "timezone", "userHash":
			s, _ := p.optString()
			switch key {
			case "ip":
				c.IP = s
			case "userAgent":
				c.UserAgent = s
			case "locale":
				c.Locale = s
			case "timezone":
				c.Timezone = s
			default:
				c.UserHash = s
			}
		case "page":
			p.pageContext(&c.Page)
		case "campaign":
			if p.peek() != '{' {
				p.skipValue()
				break
			}
			p.openObject(true)
			for j := 0; p.nextMember(j); j++ {
				k := p.key
				if s, bad := p.optString(); !bad && s != "" {
					if c.Campaign == nil {
						c.Campaign = make(map[string]string, 4)
					}
					c.Campaign[k] = s
				}
			}
		case "library":
			if p.peek() != '{' {
				p.skipValue()
				break
			}
			p.openObject(true)
			for j := 0; p.nextMember(j); j++ {
				switch p.key {
				case "name":
					c.Library.Name, _ = p.optString()
				case "version":
					c.Library.Version, _ = p.optID()
				default:
					p.skipValue()
				}
			}
		case "traits":
			if p.peek() == '{' {
				c.Traits, _ = p.value().(map[string]any)
			} else {
				p.skipValue()
			}
		case "consent":
			if cc, m := p.segmentConsent(c); cc != "" && code == "" {
				code, msg = cc, m
			}
		case "consentManagement":
			if cc, m := p.rudderConsent(c); cc != "" && code == "" {
				code, msg = cc, m
			}
		default:
			p.skipValue()
		}
	}
	return code, msg
}

func (p *parser) pageContext(pc *PageContext) {
	if p.peek() != '{' {
		p.skipValue()
		return
	}
	p.openObject(true)
	for i := 0; p.nextMember(i); i++ {
		switch p.key {
		case "url":
			pc.URL, _ = p.optString()
		case "path":
			pc.Path, _ = p.optString()
		case "referrer":
			pc.Referrer, _ = p.optString()
		case "search":
			pc.Search, _ = p.optString()
		case "title":
			pc.Title, _ = p.optString()
		default:
			p.skipValue()
		}
	}
}

func (c *Context) consent(source string) *ConsentSignals {
	if c.Consent == nil {
		c.Consent = &ConsentSignals{Source: source}
	} else if c.Consent.Source != source {
		c.Consent.Source = SourceBoth
	}
	return c.Consent
}

// segmentConsent reads context.consent: {"categoryPreferences": {"Advertising": true, …}}.
// A consent object without categoryPreferences is no signal (Segment:
// an empty consent object does not affect preferences).
func (p *parser) segmentConsent(c *Context) (code, msg string) {
	switch p.peek() {
	case 'n':
		p.literal()
		return "", ""
	case '{':
	default:
		p.skipValue()
		return CodeInvalidField, `"context.consent" must be an object`
	}
	p.openObject(true)
	for i := 0; p.nextMember(i); i++ {
		if p.key != "categoryPreferences" {
			p.skipValue()
			continue
		}
		if p.peek() != '{' {
			p.skipValue()
			if code == "" {
				code, msg = CodeInvalidField, `"context.consent.categoryPreferences" must be an object`
			}
			continue
		}
		cs := c.consent(SourceSegment)
		if cs.Categories == nil {
			cs.Categories = make(map[string]bool, 8)
		}
		p.openObject(true)
		for j := 0; p.nextMember(j); j++ {
			k := p.key
			granted := false
			if p.peek() == 't' {
				granted, _ = p.literal().(bool)
			} else {
				p.skipValue() // anything but true is not a grant
			}
			cs.Categories[k] = granted
		}
	}
	return code, msg
}

// rudderConsent reads context.consentManagement: {"allowedConsentIds":
// […], "deniedConsentIds": […], "provider", "resolutionStrategy"}. Without
// either id list it is no signal.
func (p *parser) rudderConsent(c *Context) (code, msg string) {
	switch p.peek() {
	case 'n':
		p.literal()
		return "", ""
	case '{':
	default:
		p.skipValue()
		return CodeInvalidField, `"context.consentManagement" must be an object`
	}
	var got ConsentSignals
	lists := false
	p.openObject(true)
	for i := 0; p.nextMember(i); i++ {
		switch key := p.key; key {
		case "allowedConsentIds", "deniedConsentIds":
			ids, present, bad := p.idList()
			if bad && code == "" {
				code, msg = CodeInvalidField, fmt.Sprintf(`"context.consentManagement.%s" must be an array of strings`, key)
			}
			lists = lists || present
			if key == "allowedConsentIds" {
				got.Allowed = ids
			} else {
				got.Denied = ids
			}
		case "provider":
			got.Provider, _ = p.optString()
		case "resolutionStrategy":
			got.ResolutionStrategy, _ = p.optString()
		default:
			p.skipValue()
		}
	}
	if lists {
		cs := c.consent(SourceRudderStack)
		cs.Allowed, cs.Denied = got.Allowed, got.Denied
		cs.Provider, cs.ResolutionStrategy = got.Provider, got.ResolutionStrategy
	}
	return code, msg
}

// idList reads an array of ids (strings, or numbers as text); null is
// absent. Elements of another type, or empty, make it bad.
func (p *parser) idList() (ids []string, present, bad bool) {
	switch p.peek() {
	case 'n':
		p.literal()
		return nil, false, false
	case '[':
	default:
		p.skipValue()
		return nil, true, true
	}
	p.openArray()
	ids = []string{}
	for i := 0; p.nextElem(i); i++ {
		s, b := p.optID()
		if b || s == "" {
			bad = true
			continue
		}
		ids = append(ids, s)
	}
	return ids, true, bad
}

// optString reads a string; null is "". Another type is skipped and bad.
func (p *parser) optString() (s string, bad bool) {
	switch p.peek() {
	case '"':
		return p.str(), false
	case 'n':
		p.literal()
		return "", false
	}
	p.skipValue()
	return "", true
}

// optID reads an identifier: a string, or a number turned into its
// decimal text (integers as written; others as the shortest decimal, so
// 1e3 is "1000"). null is "".
func (p *parser) optID() (s string, bad bool) {
	switch c := p.peek(); {
	case c == '"':
		return p.str(), false
	case c == 'n':
		p.literal()
		return "", false
	case c == '-' || isDigit(c):
		n := p.number()
		if p.err != nil {
			return "", false
		}
		if strings.ContainsAny(n, ".eE") {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return "", true
			}
			return strconv.FormatFloat(f, 'f', -1, 64), false
		}
		return n, false
	}
	p.skipValue()
	return "", true
}

// optObject reads an object; null is nil.
func (p *parser) optObject() (m map[string]any, bad bool) {
	switch p.peek() {
	case '{':
		m, _ = p.value().(map[string]any)
		return m, false
	case 'n':
		p.literal()
		return nil, false
	}
	p.skipValue()
	return nil, true
}

// optTime reads a time string; null and "" are the zero time.
func (p *parser) optTime() (t time.Time, bad bool) {
	s, bad := p.optString()
	if bad || s == "" {
		return time.Time{}, bad
	}
	tt, ok := parseTime(s)
	return tt, !ok
}

// merge fills what c lacks from the batch-level context b.
func (c *Context) merge(b *Context) {
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&c.IP, b.IP)
	fill(&c.UserAgent, b.UserAgent)
	fill(&c.Locale, b.Locale)
	fill(&c.Timezone, b.Timezone)
	fill(&c.UserHash, b.UserHash)
	fill(&c.Page.URL, b.Page.URL)
	fill(&c.Page.Path, b.Page.Path)
	fill(&c.Page.Referrer, b.Page.Referrer)
	fill(&c.Page.Search, b.Page.Search)
	fill(&c.Page.Title, b.Page.Title)
	if c.Library == (Library{}) {
		c.Library = b.Library
	}
	if c.Consent == nil && b.Consent != nil {
		cs := *b.Consent
		cs.Categories = maps.Clone(cs.Categories)
		cs.Allowed = slices.Clone(cs.Allowed)
		cs.Denied = slices.Clone(cs.Denied)
		c.Consent = &cs
	}
	c.Traits = mergeMaps(c.Traits, b.Traits)
	if len(b.Campaign) > 0 {
		m := maps.Clone(b.Campaign)
		maps.Copy(m, c.Campaign)
		c.Campaign = m
	}
}

// mergeMaps returns own with the members of shared it lacks, never
// sharing a map between events.
func mergeMaps(own, shared map[string]any) map[string]any {
	if len(shared) == 0 {
		return own
	}
	m := maps.Clone(shared)
	maps.Copy(m, own)
	return m
}

// finish derives what depends on the whole event: a messageId when none
// was sent, the page fields of page calls, the campaign from the query
// string, and identify traits sent only in context.traits.
func (e *Event) finish() {
	if e.MessageID == "" {
		e.MessageID = newMessageID()
		e.GeneratedID = true
	}
	if e.Type == Page && e.Properties != nil {
		pc := &e.Context.Page
		for _, f := range [...]struct {
			dst *string
			key string
		}{{&pc.URL, "url"}, {&pc.Path, "path"}, {&pc.Referrer, "referrer"}, {&pc.Search, "search"}, {&pc.Title, "title"}} {
			if *f.dst == "" {
				*f.dst, _ = e.Properties[f.key].(string)
			}
		}
	}
	query := e.Context.Page.Search
	if query == "" {
		if _, q, ok := strings.Cut(e.Context.Page.URL, "?"); ok {
			query, _, _ = strings.Cut(q, "#")
		}
	}
	if strings.Contains(query, "utm_") {
		e.Context.Campaign = campaignFromQuery(query, e.Context.Campaign)
	}
	if e.Type == Identify && e.Traits == nil && e.Context.Traits != nil {
		e.Traits = e.Context.Traits
	}
}

// campaignFromQuery adds the utm_* parameters of a query string to
// campaign, named as analytics.js names them, without overriding what
// context.campaign said.
func campaignFromQuery(query string, campaign map[string]string) map[string]string {
	query = strings.TrimPrefix(query, "?")
	for part := range strings.SplitSeq(query, "&") {
		k, v, _ := strings.Cut(part, "=")
		if !strings.HasPrefix(k, "utm_") || len(k) == len("utm_") {
			continue
		}
		k = k[len("utm_"):]
		if k == "campaign" {
			k = "name"
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		if v == "" || !utf8.ValidString(v) {
			continue
		}
		if _, ok := campaign[k]; ok {
			continue
		}
		if campaign == nil {
			campaign = make(map[string]string, 4)
		}
		campaign[k] = v
	}
	return campaign
}

// newMessageID returns a random UUID (version 4), the form Segment assigns.
func newMessageID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}
