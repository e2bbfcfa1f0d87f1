package audience

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tact-cdp/tact/internal/strictjson"
)

// Bounds of a definition. They keep validation, compilation and evaluation
// cheap and the recursion shallow whatever the input.
const (
	MaxSize       = 64 << 10 // bytes of a definition, as input and in canonical form
	MaxDepth      = 8        // nested all/any/not levels
	MaxConditions = 64       // event, interest and trait leaves of one audience
	MaxFilters    = 32       // property filters of one event condition
	MaxValues     = 100      // entries of an "in" value
	MaxMinCount   = 10000
	MaxWithinDays = 400

	maxNameRunes        = 200
	maxDescriptionRunes = 2000
	maxTextBytes        = 200 // event names and categories
	maxPathBytes        = 128 // property paths and trait names
	// maxJSONDepth bounds the raw nesting before decoding. A valid
	// definition needs at most 2*MaxDepth+6 levels (root, where, two per
	// all/any level, event, where, filter, in-array).
	maxJSONDepth = 2*MaxDepth + 8
)

// Purposes an audience can serve.
var Purposes = []string{"advertising", "marketing_email", "marketing_sms"}

// Ops of property filters and trait conditions.
var Ops = []string{"eq", "ne", "gt", "gte", "lt", "lte", "in", "prefix", "contains", "exists"}

// InterestsCategory is the data category a purpose must declare for its
// audiences to use interest conditions.
const InterestsCategory = "profile.interests"

// Definition is a versioned audience definition.
type Definition struct {
	ID          string    `json:"id"`                // ^[a-z0-9][a-z0-9_-]{0,62}$
	Version     int       `json:"version,omitempty"` // set by the store on save
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Purpose     string    `json:"purpose"` // one of Purposes
	Where       Condition `json:"where"`
}

// Condition is one node of the condition tree: exactly one member is set.
type Condition struct {
	All      []Condition        `json:"all,omitempty"`
	Any      []Condition        `json:"any,omitempty"`
	Not      *Condition         `json:"not,omitempty"`
	Event    *EventCondition    `json:"event,omitempty"`
	Interest *InterestCondition `json:"interest,omitempty"`
	Trait    *TraitCondition    `json:"trait,omitempty"`
}

// EventCondition holds when the subject did the named track event at least
// MinCount times within the last WithinDays UTC days, counting only events
// whose properties pass every filter.
type EventCondition struct {
	Name       string           `json:"name"`
	Where      []PropertyFilter `json:"where,omitempty"`
	MinCount   int              `json:"minCount,omitempty"` // 0 means 1
	WithinDays int              `json:"withinDays"`
}

// PropertyFilter tests an event property. Property is a dotted path; an
// array on the path matches when any element matches ("products.category").
type PropertyFilter struct {
	Property string          `json:"property"`
	Op       string          `json:"op"`
	Value    json.RawMessage `json:"value,omitempty"`
}

// InterestCondition holds when the subject's interest score in Category
// (and the categories under it, "Kitchen/Knives" counting for "Kitchen")
// is at least MinScore, or above zero when MinScore is 0.
type InterestCondition struct {
	Category string  `json:"category"`
	MinScore float64 `json:"minScore,omitempty"`
}

// TraitCondition tests a non-identifying trait of the subject.
type TraitCondition struct {
	Name  string          `json:"name"`
	Op    string          `json:"op"`
	Value json.RawMessage `json:"value,omitempty"`
}

// Env is what validation needs to know of the shop's data map and
// catalogue. Every function must be set: Validate refuses an incomplete Env
// rather than guess.
type Env struct {
	// EventServes reports whether the data map declares that the named
	// track event serves purpose.
	EventServes func(event, purpose string) bool
	// SensitiveEvent reports whether the data map marks the event's data
	// categories sensitive.
	SensitiveEvent func(event string) bool
	// SensitiveCategory reports whether a product or interest category
	// path is sensitive, e.g. "Health".
	SensitiveCategory func(category string) bool
	// PurposeCategories returns the data categories the purpose declares.
	PurposeCategories func(purpose string) []string
}

func (env Env) check() error {
	var missing []string
	if env.EventServes == nil {
		missing = append(missing, "EventServes")
	}
	if env.SensitiveEvent == nil {
		missing = append(missing, "SensitiveEvent")
	}
	if env.SensitiveCategory == nil {
		missing = append(missing, "SensitiveCategory")
	}
	if env.PurposeCategories == nil {
		missing = append(missing, "PurposeCategories")
	}
	if len(missing) > 0 {
		return fmt.Errorf("audience: incomplete Env: %s not set", strings.Join(missing, ", "))
	}
	return nil
}

// Error is a problem with a definition: where it is (a JSON path such as
// where.all[1].trait.name, empty for the document as a whole) and what is
// wrong. Every error of Parse and Validate about the definition is an
// *Error.
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// Parse decodes a definition strictly (no unknown fields, no duplicate
// keys, nothing after the value), validates it against env and returns it
// normalised: defaults filled in (MinCount 1) and values in canonical form.
func Parse(data []byte, env Env) (Definition, error) {
	if len(data) > MaxSize {
		return Definition{}, errorf("", "definition is larger than %d KiB", MaxSize>>10)
	}
	if jsonDepth(data) > maxJSONDepth {
		return Definition{}, errorf("", "definition is nested more than %d levels deep", maxJSONDepth)
	}
	var d Definition
	err := strictjson.Decode(data, &d)
	// encoding/json matches field names case-insensitively; a definition
	// must spell them exactly, and an unknown field is named by its path.
	if utf8.Valid(data) {
		if uerr := unknownField(data); uerr != nil {
			return Definition{}, uerr
		}
	}
	if err != nil {
		return Definition{}, &Error{Reason: err.Error()}
	}
	if err := d.Validate(env); err != nil {
		return Definition{}, err
	}
	// An explicit "minCount": 0 reads like "never did it"; the field
	// defaults to 1, so say so instead of silently meaning the opposite.
	var sh shadowDef
	if err := json.Unmarshal(data, &sh); err == nil {
		if err := sh.Where.check("where", 0); err != nil {
			return Definition{}, err
		}
	}
	return d.normalized(), nil
}

// Fields of each object of a definition, by JSON name.
var (
	definitionFields = []string{"id", "version", "name", "description", "purpose", "where"}
	conditionFields  = []string{"all", "any", "not", "event", "interest", "trait"}
	eventFields      = []string{"name", "where", "minCount", "withinDays"}
	filterFields     = []string{"property", "op", "value"}
	interestFields   = []string{"category", "minScore"}
	traitFields      = []string{"name", "op", "value"}
)

// unknownField returns the first field data has that a definition does not
// (by exact name), or nil; it leaves malformed JSON and wrong types to the
// decoder. data is at most maxJSONDepth deep, so recursion is bounded.
func unknownField(data []byte) error {
	v, ok := decodeJSON(data)
	if !ok {
		return nil
	}
	return checkFields(v, "", definitionFields, func(key string, val any, path string) error {
		if key == "where" {
			return checkCondFields(val, path)
		}
		return nil
	})
}

func checkCondFields(v any, path string) error {
	return checkFields(v, path, conditionFields, func(key string, val any, path string) error {
		switch key {
		case "all", "any":
			arr, _ := val.([]any)
			for i, c := range arr {
				if err := checkCondFields(c, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		case "not":
			return checkCondFields(val, path)
		case "event":
			return checkFields(val, path, eventFields, func(key string, val any, path string) error {
				if key != "where" {
					return nil
				}
				arr, _ := val.([]any)
				for i, f := range arr {
					if err := checkFields(f, fmt.Sprintf("%s[%d]", path, i), filterFields, nil); err != nil {
						return err
					}
				}
				return nil
			})
		case "interest":
			return checkFields(val, path, interestFields, nil)
		case "trait":
			return checkFields(val, path, traitFields, nil)
		}
		return nil
	})
}

// checkFields checks the keys of object v at path, in sorted order, and
// calls nested for each known one.
func checkFields(v any, path string, fields []string, nested func(key string, val any, path string) error) error {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := k
		if path != "" {
			p = path + "." + k
		}
		if !slices.Contains(fields, k) {
			return errorf(clip(p), "unknown field (known: %s)", strings.Join(fields, ", "))
		}
		if nested != nil {
			if err := nested(k, m[k], p); err != nil {
				return err
			}
		}
	}
	return nil
}

// shadowDef mirrors the parts of a definition whose absence differs from
// their zero value.
type shadowDef struct {
	Where shadowCond `json:"where"`
}

type shadowCond struct {
	All   []shadowCond `json:"all"`
	Any   []shadowCond `json:"any"`
	Not   *shadowCond  `json:"not"`
	Event *struct {
		MinCount *int `json:"minCount"`
	} `json:"event"`
}

// check runs on a definition that validated, so it is as shallow.
func (c shadowCond) check(path string, depth int) error {
	if depth > MaxDepth {
		return nil
	}
	switch {
	case c.All != nil:
		return checkShadowList(c.All, path+".all", depth)
	case c.Any != nil:
		return checkShadowList(c.Any, path+".any", depth)
	case c.Not != nil:
		return c.Not.check(path+".not", depth+1)
	case c.Event != nil:
		if c.Event.MinCount != nil && *c.Event.MinCount == 0 {
			return errorf(path+".event.minCount", "must be at least 1 (use \"not\" for an absence)")
		}
	}
	return nil
}

func checkShadowList(cs []shadowCond, path string, depth int) error {
	for i, c := range cs {
		if err := c.check(fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// jsonDepth returns the deepest nesting of objects and arrays in data,
// without recursion and without trusting that data is valid JSON.
func jsonDepth(data []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

var idRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Validate reports the first problem of the definition as an *Error naming
// its JSON path, or nil. It checks the depth before each recursion, so a
// definition built in code cannot exhaust the stack either.
func (d Definition) Validate(env Env) error {
	if err := env.check(); err != nil {
		return err
	}
	if !idRe.MatchString(d.ID) {
		return errorf("id", "%q is not a valid audience id (1 to 63 lower-case letters, digits, \"_\" or \"-\", starting with a letter or digit)", clip(d.ID))
	}
	if d.Version < 0 {
		return errorf("version", "must not be negative")
	}
	if err := checkText("name", d.Name, maxNameRunes, true); err != nil {
		return err
	}
	if err := checkText("description", d.Description, maxDescriptionRunes, false); err != nil {
		return err
	}
	if d.Purpose == "" {
		return errorf("purpose", "required (one of %s)", strings.Join(Purposes, ", "))
	}
	if !slices.Contains(Purposes, d.Purpose) {
		return errorf("purpose", "%q is not an audience purpose (one of %s)", clip(d.Purpose), strings.Join(Purposes, ", "))
	}
	v := validator{env: env, purpose: d.Purpose}
	if err := v.cond(d.Where, "where", 0); err != nil {
		return err
	}
	if n := len(d.Canonical()); n > MaxSize {
		return errorf("", "definition is larger than %d KiB in canonical form", MaxSize>>10)
	}
	return nil
}

func checkText(path, s string, maxRunes int, required bool) error {
	switch {
	case !utf8.ValidString(s):
		return errorf(path, "is not valid UTF-8")
	case required && strings.TrimSpace(s) == "":
		return errorf(path, "required")
	case utf8.RuneCountInString(s) > maxRunes:
		return errorf(path, "longer than %d characters", maxRunes)
	}
	return nil
}

type validator struct {
	env     Env
	purpose string
	leaves  int
}

// members names the members of c that are set, in declaration order.
func (c Condition) members() []string {
	var m []string
	if c.All != nil {
		m = append(m, "all")
	}
	if c.Any != nil {
		m = append(m, "any")
	}
	if c.Not != nil {
		m = append(m, "not")
	}
	if c.Event != nil {
		m = append(m, "event")
	}
	if c.Interest != nil {
		m = append(m, "interest")
	}
	if c.Trait != nil {
		m = append(m, "trait")
	}
	return m
}

// cond validates c found at path under depth all/any/not levels.
func (v *validator) cond(c Condition, path string, depth int) error {
	switch m := c.members(); len(m) {
	case 0:
		return errorf(path, "a condition needs exactly one of all, any, not, event, interest or trait")
	case 1:
	default:
		return errorf(path, "a condition has %s; set exactly one", strings.Join(m, " and "))
	}
	switch {
	case c.All != nil:
		return v.list(c.All, path+".all", depth)
	case c.Any != nil:
		return v.list(c.Any, path+".any", depth)
	case c.Not != nil:
		if depth+1 > MaxDepth {
			return errorf(path+".not", "conditions are nested more than %d levels deep", MaxDepth)
		}
		return v.cond(*c.Not, path+".not", depth+1)
	}
	v.leaves++
	if v.leaves > MaxConditions {
		return errorf(path, "more than %d conditions in one audience", MaxConditions)
	}
	switch {
	case c.Event != nil:
		return v.event(*c.Event, path+".event")
	case c.Interest != nil:
		return v.interest(*c.Interest, path+".interest")
	default:
		t := c.Trait
		return v.test(path+".trait", "name", t.Name, t.Op, t.Value)
	}
}

func (v *validator) list(cs []Condition, path string, depth int) error {
	if len(cs) == 0 {
		return errorf(path, "must list at least one condition")
	}
	if depth+1 > MaxDepth {
		return errorf(path, "conditions are nested more than %d levels deep", MaxDepth)
	}
	for i, c := range cs {
		if err := v.cond(c, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
			return err
		}
	}
	return nil
}

const sensitiveForAds = "sensitive categories cannot be used in an audience for advertising"

func (v *validator) event(e EventCondition, path string) error {
	if err := checkLabel(path+".name", e.Name); err != nil {
		return err
	}
	if !v.env.EventServes(e.Name, v.purpose) {
		return errorf(path+".name", "%q is not stored for %s (the data map does not declare it)", e.Name, v.purpose)
	}
	if v.purpose == "advertising" && v.env.SensitiveEvent(e.Name) {
		return errorf(path+".name", "%q carries sensitive data: %s", e.Name, sensitiveForAds)
	}
	switch {
	case e.MinCount < 0:
		return errorf(path+".minCount", "must be at least 1 (use \"not\" for an absence)")
	case e.MinCount > MaxMinCount:
		return errorf(path+".minCount", "must be at most %d", MaxMinCount)
	case e.WithinDays == 0:
		return errorf(path+".withinDays", "required (1 to %d days)", MaxWithinDays)
	case e.WithinDays < 1 || e.WithinDays > MaxWithinDays:
		return errorf(path+".withinDays", "must be from 1 to %d days", MaxWithinDays)
	case len(e.Where) > MaxFilters:
		return errorf(path+".where", "more than %d property filters", MaxFilters)
	}
	for i, f := range e.Where {
		if err := v.test(fmt.Sprintf("%s.where[%d]", path, i), "property", f.Property, f.Op, f.Value); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) interest(in InterestCondition, path string) error {
	if !slices.Contains(v.env.PurposeCategories(v.purpose), InterestsCategory) {
		return errorf(path, "interests cannot be used for %s (the purpose does not declare %s)", v.purpose, InterestsCategory)
	}
	if err := checkLabel(path+".category", in.Category); err != nil {
		return err
	}
	if strings.HasPrefix(in.Category, "/") || strings.HasSuffix(in.Category, "/") || strings.Contains(in.Category, "//") {
		return errorf(path+".category", "%q has an empty segment", in.Category)
	}
	if v.purpose == "advertising" && v.env.SensitiveCategory(in.Category) {
		return errorf(path+".category", "%q is sensitive: %s", in.Category, sensitiveForAds)
	}
	if math.IsNaN(in.MinScore) || math.IsInf(in.MinScore, 0) || in.MinScore < 0 {
		return errorf(path+".minScore", "must be a number of at least 0")
	}
	return nil
}

// test validates a property filter or a trait condition at path; field
// names the member that holds the property path ("property" or "name").
func (v *validator) test(path, field, prop, op string, value json.RawMessage) error {
	if reason := checkPath(prop); reason != "" {
		return errorf(path+"."+field, "%s", reason)
	}
	if IsIdentifier(prop) {
		return errorf(path+"."+field, "%q is a direct identifier and cannot be used in an audience", prop)
	}
	o, ok := parseOp(op)
	if !ok {
		if op == "" {
			return errorf(path+".op", "required (one of %s)", strings.Join(Ops, ", "))
		}
		return errorf(path+".op", "unknown op %q (one of %s)", clip(op), strings.Join(Ops, ", "))
	}
	vals, reason := parseValue(o, value)
	if reason != "" {
		return errorf(path+".value", "%s", reason)
	}
	if v.purpose == "advertising" && categoryLike(prop) {
		for _, s := range vals {
			if s.kind == kindString && v.env.SensitiveCategory(s.s) {
				return errorf(path+".value", "%q is sensitive: %s", clip(s.s), sensitiveForAds)
			}
		}
	}
	return nil
}

// checkLabel checks an event name or a category.
func checkLabel(path, s string) error {
	switch {
	case !utf8.ValidString(s):
		return errorf(path, "is not valid UTF-8")
	case strings.TrimSpace(s) == "":
		return errorf(path, "required")
	case len(s) > maxTextBytes:
		return errorf(path, "longer than %d bytes", maxTextBytes)
	}
	return nil
}

// checkPath returns why a dotted property path is unusable, or "".
func checkPath(p string) string {
	switch {
	case p == "":
		return "required"
	case !utf8.ValidString(p):
		return "is not valid UTF-8"
	case len(p) > maxPathBytes:
		return fmt.Sprintf("longer than %d bytes", maxPathBytes)
	}
	for seg := range strings.SplitSeq(p, ".") {
		if strings.TrimSpace(seg) == "" {
			return fmt.Sprintf("%q has an empty segment", p)
		}
	}
	return ""
}

// identifiers are the normalised last path segments that name a direct
// identifier of a person or device.
var identifiers = map[string]bool{
	"email": true, "phone": true, "name": true, "firstname": true, "lastname": true,
	"address": true, "street": true, "postalcode": true, "zip": true, "userid": true,
	"anonymousid": true, "ip": true, "ipaddress": true, "birthday": true,
	"dateofbirth": true, "ssn": true, "passport": true, "nationalid": true,
	"taxid": true, "username": true, "deviceid": true, "idfa": true, "gaid": true,
	"advertisingid": true,
}

// IsIdentifier reports whether a trait name or dotted property path names a
// direct identifier: its last segment (case-insensitive, ignoring "_" and
// "-") is one of the identifier names, or the path mentions email or phone
// anywhere. Audiences cannot use such paths and the engine never keeps
// traits under them.
func IsIdentifier(path string) bool {
	n := normalizeKey(path)
	if strings.Contains(n, "email") || strings.Contains(n, "phone") {
		return true
	}
	if i := strings.LastIndexByte(n, '.'); i >= 0 {
		n = n[i+1:]
	}
	return identifiers[n]
}

func normalizeKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		if r != '_' && r != '-' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// categoryLike reports whether a property path names a product category,
// whose values an advertising audience must not single out when sensitive.
func categoryLike(path string) bool {
	last := path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		last = path[i+1:]
	}
	last = strings.ToLower(last)
	return strings.HasSuffix(last, "category") || strings.HasSuffix(last, "categories")
}

func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	i := 64
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// Canonical returns a stable JSON encoding of the definition, to tell
// whether a saved definition changed: defaults filled in, values
// normalised, compact, and without Version (which the store assigns). It
// is meant for a valid definition; Parse of it returns the definition (with
// Version 0).
func (d Definition) Canonical() []byte {
	n := d.normalized()
	n.Version = 0
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep the canonical form no longer than needed
	if err := enc.Encode(n); err != nil {
		// Only an invalid definition gets here (normalized replaces bad
		// values); return something stable that never parses.
		return []byte("null")
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// normalized returns a deep copy with defaults filled in and values in
// canonical form.
func (d Definition) normalized() Definition {
	d.Where = normalizeCond(d.Where, 0)
	return d
}

func normalizeCond(c Condition, depth int) Condition {
	if depth > MaxDepth {
		return Condition{} // invalid anyway; do not recurse further
	}
	var n Condition
	if c.All != nil {
		n.All = make([]Condition, len(c.All))
		for i, k := range c.All {
			n.All[i] = normalizeCond(k, depth+1)
		}
	}
	if c.Any != nil {
		n.Any = make([]Condition, len(c.Any))
		for i, k := range c.Any {
			n.Any[i] = normalizeCond(k, depth+1)
		}
	}
	if c.Not != nil {
		k := normalizeCond(*c.Not, depth+1)
		n.Not = &k
	}
	if c.Event != nil {
		e := *c.Event
		if e.MinCount == 0 {
			e.MinCount = 1
		}
		e.Where = nil
		for _, f := range c.Event.Where {
			f.Value = canonicalValue(f.Value)
			e.Where = append(e.Where, f)
		}
		n.Event = &e
	}
	if c.Interest != nil {
		in := *c.Interest
		if math.IsNaN(in.MinScore) || math.IsInf(in.MinScore, 0) {
			in.MinScore = 0
		}
		n.Interest = &in
	}
	if c.Trait != nil {
		t := *c.Trait
		t.Value = canonicalValue(t.Value)
		n.Trait = &t
	}
	return n
}
