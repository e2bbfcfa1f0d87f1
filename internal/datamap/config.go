package datamap

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// Load returns the defaults overridden by the JSON config file at path (see
// Parse); an empty path gives the defaults.
func Load(path string) (*Map, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("datamap: %w", err)
	}
	return Parse(path, data)
}

// Parse returns the defaults overridden by a JSON config; name names the
// config in error messages.
//
// The config is an object with any of:
//   - "controller": fields present replace the default's;
//   - "purposes", "categories", "recipients", "regimes": objects keyed by
//     id. An entry for an existing id overrides the fields it names (each
//     named field is replaced whole: a "title" with only "en" drops the
//     default's other translations rather than leaving them stale); a new
//     id is appended; {"remove": true} removes a default entry together
//     with the defaults' references to it;
//   - "events": an array of rules replacing the defaults;
//   - "default_regime": a regime id.
//
// Periods are strings such as "P1M", "P45D", "P10BD". Purpose versions are
// computed, never read. Parsing is strict: invalid UTF-8, duplicate keys,
// unknown fields and trailing data are errors, located by line:col. A map
// that decodes but does not validate gives a *ValidationError.
func Parse(name string, data []byte) (*Map, error) {
	p := &parser{name: name, data: data}
	m, err := p.parse()
	if err != nil {
		return nil, err
	}
	m.Source = name
	m.ComputeVersions()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

type parser struct {
	name string
	data []byte
}

// errAt returns an error located at a byte offset of the config.
func (p *parser) errAt(off int64, format string, args ...any) error {
	return fmt.Errorf("%s:%s: %s", p.name, position(p.data, off), fmt.Sprintf(format, args...))
}

// position renders a byte offset as line:col (both from 1, col in runes).
func position(data []byte, off int64) string {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return fmt.Sprintf("%d:%d", line, utf8.RuneCount(before[start:])+1)
}

// member is one key of a JSON object, with the absolute offset of its value.
type member struct {
	key string
	raw json.RawMessage
	off int64
}

// members splits the object raw (found at offset base) into its members, in
// order. Syntax and duplicates were checked before.
func (p *parser) members(raw json.RawMessage, base int64, what string) ([]member, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return nil, p.errAt(base, "%s: must be a JSON object", what)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, p.errAt(base, "%s: %v", what, err)
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, p.errAt(base+dec.InputOffset(), "%s: %v", what, err)
		}
		k, _ := tok.(string)
		off := dec.InputOffset()
		for off < int64(len(raw)) && strings.IndexByte(" \t\r\n:", raw[off]) >= 0 {
			off++
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, p.errAt(base+off, "%s: %v", what, err)
		}
		out = append(out, member{key: k, raw: v, off: base + off})
	}
	return out, nil
}

// fieldIndex maps the JSON names of a struct's fields to their index.
func fieldIndex(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.IsExported() && name != "" && name != "-" {
			out[name] = i
		}
	}
	return out
}

// decodeOnto decodes the object mem onto *dst. Each field the object names
// is reset first, so it replaces the default whole (encoding/json would
// otherwise merge maps and reuse slice elements). Keys must match exactly;
// skip lists keys the caller has handled.
func (p *parser) decodeOnto(dst any, mem member, path string, skip ...string) error {
	ms, err := p.members(mem.raw, mem.off, path)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(dst).Elem()
	idx := fieldIndex(v.Type())
	obj := map[string]json.RawMessage{}
	for _, f := range ms {
		if slices.Contains(skip, f.key) {
			continue
		}
		i, ok := idx[f.key]
		if !ok {
			return p.errAt(f.off, "%s: unknown field %q", path, f.key)
		}
		v.Field(i).SetZero()
		obj[f.key] = f.raw
	}
	for _, f := range ms {
		raw, ok := obj[f.key]
		if !ok {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v.Field(idx[f.key]).Addr().Interface()); err != nil {
			return p.decodeErr(err, f, path+"."+f.key)
		}
	}
	return nil
}

func (p *parser) decodeErr(err error, f member, path string) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			path += "." + te.Field
		}
		return p.errAt(f.off+te.Offset, "%s: expected %s, got JSON %s", path, typeName(te.Type), te.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return p.errAt(f.off, "%s: %s", path, msg)
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[Period]() {
		return "a period string such as P1M"
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "an array"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "an object"
	}
	return t.String()
}

// section is one keyed section of the config ("purposes", ...).
type section struct {
	name    string
	entries []entry
}

type entry struct {
	id     string
	mem    member
	remove bool
}

func (p *parser) parse() (*Map, error) {
	if err := p.strict(); err != nil {
		return nil, err
	}
	top, err := p.members(p.data, 0, "config")
	if err != nil {
		return nil, err
	}
	m := Default()
	sections := map[string]*section{}
	var controller, events, defaultRegime *member
	for i, mem := range top {
		switch mem.key {
		case "controller":
			controller = &top[i]
		case "events":
			events = &top[i]
		case "default_regime":
			defaultRegime = &top[i]
		case "purposes", "categories", "recipients", "regimes":
			s, err := p.section(mem)
			if err != nil {
				return nil, err
			}
			sections[mem.key] = s
		default:
			return nil, p.errAt(mem.off, "unknown field %q (want controller, purposes, categories, recipients, events, regimes, default_regime)", mem.key)
		}
	}

	// Removals first, so that the defaults stop referring to what is
	// removed; references the config itself makes are then checked.
	removed := map[string]map[string]bool{}
	for _, name := range []string{"purposes", "categories", "recipients", "regimes"} {
		removed[name] = map[string]bool{}
		s := sections[name]
		if s == nil {
			continue
		}
		for _, e := range s.entries {
			if !e.remove {
				continue
			}
			if !hasID(m, name, e.id) {
				return nil, p.errAt(e.mem.off, "%s[%s]: cannot remove: no such default", name, e.id)
			}
			removed[name][e.id] = true
		}
	}
	m.remove(removed)

	if controller != nil {
		if err := p.decodeOnto(&m.Controller, *controller, "controller"); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"purposes", "categories", "recipients", "regimes"} {
		s := sections[name]
		if s == nil {
			continue
		}
		for _, e := range s.entries {
			if e.remove {
				continue
			}
			if err := p.apply(m, name, e); err != nil {
				return nil, err
			}
		}
	}
	if events != nil {
		dec := json.NewDecoder(bytes.NewReader(events.raw))
		dec.DisallowUnknownFields()
		var ev []EventRule
		if err := dec.Decode(&ev); err != nil {
			return nil, p.decodeErr(err, *events, "events")
		}
		m.Events = ev
	}
	if defaultRegime != nil {
		if err := json.Unmarshal(defaultRegime.raw, &m.DefaultRegime); err != nil {
			return nil, p.errAt(defaultRegime.off, "default_regime: must be a string")
		}
	}
	return m, nil
}

// section reads a keyed section and classifies its entries.
func (p *parser) section(mem member) (*section, error) {
	ms, err := p.members(mem.raw, mem.off, mem.key)
	if err != nil {
		return nil, err
	}
	s := &section{name: mem.key}
	for _, e := range ms {
		path := fmt.Sprintf("%s[%s]", mem.key, e.key)
		fields, err := p.members(e.raw, e.off, path)
		if err != nil {
			return nil, err
		}
		ent := entry{id: e.key, mem: e}
		for _, f := range fields {
			switch f.key {
			case "remove":
				if string(f.raw) != "true" {
					return nil, p.errAt(f.off, "%s.remove: must be true (leave it out to keep the entry)", path)
				}
				if len(fields) != 1 {
					return nil, p.errAt(f.off, "%s.remove: cannot be combined with other fields", path)
				}
				ent.remove = true
			case "id":
				var id string
				if json.Unmarshal(f.raw, &id) != nil || id != e.key {
					return nil, p.errAt(f.off, "%s.id: must be absent or equal to the key %q", path, e.key)
				}
			case "version":
				if mem.key == "purposes" {
					return nil, p.errAt(f.off, "%s.version: is computed from the purpose's content and cannot be set", path)
				}
			}
		}
		s.entries = append(s.entries, ent)
	}
	return s, nil
}

func hasID(m *Map, section, id string) bool {
	var ok bool
	switch section {
	case "purposes":
		_, ok = m.Purpose(id)
	case "categories":
		_, ok = m.Category(id)
	case "recipients":
		_, ok = m.Recipient(id)
	case "regimes":
		_, ok = m.Regime(id)
	}
	return ok
}

// entryFor returns the entry of list with the given id, appending a new one
// (with only its id set) when there is none.
func entryFor[T any](list *[]T, id string, idOf func(*T) *string) *T {
	for i := range *list {
		if *idOf(&(*list)[i]) == id {
			return &(*list)[i]
		}
	}
	var fresh T
	*idOf(&fresh) = id
	*list = append(*list, fresh)
	return &(*list)[len(*list)-1]
}

// apply decodes one entry onto a copy of the existing entry, or appends it.
func (p *parser) apply(m *Map, section string, e entry) error {
	path := fmt.Sprintf("%s[%s]", section, e.id)
	skip := []string{"id"}
	switch section {
	case "purposes":
		return p.decodeOnto(entryFor(&m.Purposes, e.id, func(x *Purpose) *string { return &x.ID }), e.mem, path, skip...)
	case "categories":
		return p.decodeOnto(entryFor(&m.Categories, e.id, func(x *Category) *string { return &x.ID }), e.mem, path, skip...)
	case "recipients":
		return p.decodeOnto(entryFor(&m.Recipients, e.id, func(x *Recipient) *string { return &x.ID }), e.mem, path, skip...)
	case "regimes":
		return p.decodeOnto(entryFor(&m.Regimes, e.id, func(x *Regime) *string { return &x.ID }), e.mem, path, skip...)
	}
	return nil
}

// remove deletes entries and every reference to them.
func (m *Map) remove(removed map[string]map[string]bool) {
	rp, rc, rr, rg := removed["purposes"], removed["categories"], removed["recipients"], removed["regimes"]
	drop := func(set map[string]bool) func(string) bool { return func(id string) bool { return set[id] } }
	m.Purposes = slices.DeleteFunc(m.Purposes, func(p Purpose) bool { return rp[p.ID] })
	m.Categories = slices.DeleteFunc(m.Categories, func(c Category) bool { return rc[c.ID] })
	m.Recipients = slices.DeleteFunc(m.Recipients, func(r Recipient) bool { return rr[r.ID] })
	m.Regimes = slices.DeleteFunc(m.Regimes, func(r Regime) bool { return rg[r.ID] })
	for i := range m.Purposes {
		p := &m.Purposes[i]
		p.Categories = slices.DeleteFunc(p.Categories, drop(rc))
		p.Recipients = slices.DeleteFunc(p.Recipients, drop(rr))
	}
	for i := range m.Categories {
		m.Categories[i].Recipients = slices.DeleteFunc(m.Categories[i].Recipients, drop(rr))
	}
	for i := range m.Recipients {
		m.Recipients[i].Purposes = slices.DeleteFunc(m.Recipients[i].Purposes, drop(rp))
	}
	// A rule left with no purposes stays: it still narrows its event.
	for i := range m.Events {
		m.Events[i].Purposes = slices.DeleteFunc(m.Events[i].Purposes, drop(rp))
		m.Events[i].Categories = slices.DeleteFunc(m.Events[i].Categories, drop(rc))
	}
	for i := range m.Regimes {
		m.Regimes[i].DefaultGranted = slices.DeleteFunc(m.Regimes[i].DefaultGranted, drop(rp))
		m.Regimes[i].GPCDenies = slices.DeleteFunc(m.Regimes[i].GPCDenies, drop(rp))
	}
}

// strict rejects what encoding/json lets through: invalid UTF-8, duplicate
// object keys and data after the top-level value; and locates syntax errors.
func (p *parser) strict() error {
	if !utf8.Valid(p.data) {
		off := 0
		for off < len(p.data) {
			r, n := utf8.DecodeRune(p.data[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return p.errAt(int64(off), "invalid UTF-8")
	}
	type frame struct {
		object    bool
		expectKey bool
		keys      map[string]bool
	}
	var stack []*frame
	done := func() { // a value finished
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].expectKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(p.data))
	started := false
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			if !started {
				return p.errAt(0, "empty config: want a JSON object")
			}
			if len(stack) > 0 {
				return p.errAt(int64(len(p.data)), "unexpected end of JSON input")
			}
			return nil
		}
		if started && len(stack) == 0 {
			return p.errAt(skipSpace(p.data, before), "unexpected data after the top-level value")
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return p.errAt(se.Offset, "%v", strings.TrimPrefix(se.Error(), "json: "))
			}
			if err == io.ErrUnexpectedEOF {
				return p.errAt(int64(len(p.data)), "unexpected end of JSON input")
			}
			return p.errAt(dec.InputOffset(), "%v", err)
		}
		started = true
		top := (*frame)(nil)
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.object && top.expectKey {
			if top.keys[s] {
				return p.errAt(skipSpace(p.data, before), "duplicate key %q", s)
			}
			top.keys[s] = true
			top.expectKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, expectKey: true, keys: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			done()
		default:
			done()
		}
	}
}

// skipSpace returns the offset of the next token at or after off.
func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
		off++
	}
	return off
}

// MarshalConfig renders the map as a config that Parse turns back into the
// same map: every entry in full, and a removal for each default entry the
// map no longer has.
func (m *Map) MarshalConfig() ([]byte, error) {
	def := Default()
	var b bytes.Buffer
	b.WriteString("{\n")
	if err := writeField(&b, "controller", m.Controller); err != nil {
		return nil, err
	}
	err := errors.Join(
		writeSection(&b, "purposes", m.Purposes, def.Purposes, func(p Purpose) string { return p.ID }),
		writeSection(&b, "categories", m.Categories, def.Categories, func(c Category) string { return c.ID }),
		writeSection(&b, "recipients", m.Recipients, def.Recipients, func(r Recipient) string { return r.ID }),
		writeSection(&b, "regimes", m.Regimes, def.Regimes, func(r Regime) string { return r.ID }),
	)
	if err != nil {
		return nil, err
	}
	ev, err := json.Marshal(m.Events)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "%q: %s,\n", "events", ev)
	dr, _ := json.Marshal(m.DefaultRegime)
	fmt.Fprintf(&b, "%q: %s\n}\n", "default_regime", dr)
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func writeField(b *bytes.Buffer, name string, v any) error {
	obj, err := allFields(v)
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "%q: %s,\n", name, obj)
	return nil
}

func writeSection[T any](b *bytes.Buffer, name string, have, defaults []T, id func(T) string) error {
	fmt.Fprintf(b, "%q: {", name)
	sep := ""
	ids := map[string]bool{}
	for _, x := range have {
		ids[id(x)] = true
		obj, err := allFields(x, "version")
		if err != nil {
			return err
		}
		k, _ := json.Marshal(id(x))
		fmt.Fprintf(b, "%s%s: %s", sep, k, obj)
		sep = ",\n"
	}
	for _, x := range defaults {
		if !ids[id(x)] {
			k, _ := json.Marshal(id(x))
			fmt.Fprintf(b, "%s%s: {\"remove\": true}", sep, k)
			sep = ",\n"
		}
	}
	b.WriteString("},\n")
	return nil
}

// allFields marshals a struct with every field present, ignoring omitempty,
// so that decoding it over a default replaces every field.
func allFields(v any, skip ...string) ([]byte, error) {
	rv := reflect.ValueOf(v)
	var b bytes.Buffer
	b.WriteByte('{')
	sep := ""
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" || slices.Contains(skip, name) {
			continue
		}
		val, err := json.Marshal(rv.Field(i).Interface())
		if err != nil {
			return nil, err
		}
		k, _ := json.Marshal(name)
		fmt.Fprintf(&b, "%s%s:%s", sep, k, val)
		sep = ","
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
