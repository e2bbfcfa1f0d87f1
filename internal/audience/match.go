package audience

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

type op uint8

const (
	opEq op = iota + 1
	opNe
	opGt
	opGte
	opLt
	opLte
	opIn
	opPrefix
	opContains
	opExists
)

func parseOp(s string) (op, bool) {
	switch s {
	case "eq":
		return opEq, true
	case "ne":
		return opNe, true
	case "gt":
		return opGt, true
	case "gte":
		return opGte, true
	case "lt":
		return opLt, true
	case "lte":
		return opLte, true
	case "in":
		return opIn, true
	case "prefix":
		return opPrefix, true
	case "contains":
		return opContains, true
	case "exists":
		return opExists, true
	}
	return 0, false
}

type kind uint8

const (
	kindString kind = iota + 1
	kindNumber
	kindBool
)

// scalar is one decoded filter value.
type scalar struct {
	kind kind
	s    string
	f    float64
	b    bool
}

// decodeJSON decodes exactly one JSON value, numbers as json.Number.
func decodeJSON(raw []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

// toScalar converts a decoded JSON value; reason says why it cannot be one.
func toScalar(v any) (scalar, string) {
	switch x := v.(type) {
	case string:
		return scalar{kind: kindString, s: x}, ""
	case bool:
		return scalar{kind: kindBool, b: x}, ""
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.IsInf(f, 0) {
			return scalar{}, fmt.Sprintf("number %s is out of range", clip(string(x)))
		}
		return scalar{kind: kindNumber, f: f}, ""
	case nil:
		return scalar{}, "null"
	}
	return scalar{}, "nested"
}

// parseValue checks value against o and returns its scalars; reason is
// non-empty when they do not fit.
func parseValue(o op, raw json.RawMessage) (vals []scalar, reason string) {
	name := opName(o)
	if o == opExists {
		if len(raw) > 0 {
			return nil, "exists takes no value"
		}
		return nil, ""
	}
	if len(raw) == 0 {
		return nil, name + " needs a value"
	}
	v, ok := decodeJSON(raw)
	if !ok {
		return nil, "is not valid JSON"
	}
	if o == opIn {
		arr, ok := v.([]any)
		switch {
		case !ok:
			return nil, "in needs an array of strings, numbers or booleans"
		case len(arr) == 0:
			return nil, "in needs at least one value"
		case len(arr) > MaxValues:
			return nil, fmt.Sprintf("in takes at most %d values", MaxValues)
		}
		for i, e := range arr {
			s, why := toScalar(e)
			if why != "" {
				if why == "null" || why == "nested" {
					return nil, fmt.Sprintf("entry %d: in needs strings, numbers or booleans", i)
				}
				return nil, fmt.Sprintf("entry %d: %s", i, why)
			}
			vals = append(vals, s)
		}
		return vals, ""
	}
	s, why := toScalar(v)
	switch {
	case why == "null" || why == "nested":
		why = name + " needs a string, number or boolean"
	case why != "":
	case (o == opGt || o == opGte || o == opLt || o == opLte) && s.kind != kindNumber:
		why = name + " needs a number"
	case (o == opPrefix || o == opContains) && (s.kind != kindString || s.s == ""):
		why = name + " needs a non-empty string"
	}
	if why != "" {
		return nil, why
	}
	return []scalar{s}, ""
}

func opName(o op) string { return Ops[o-1] }

// canonicalValue re-encodes a filter value compactly, numbers in their
// shortest form, so equal definitions encode equally.
func canonicalValue(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	v, ok := decodeJSON(raw)
	if !ok {
		// Invalid; keep it distinguishable but valid JSON.
		b, _ := json.Marshal(string(raw))
		return b
	}
	var buf bytes.Buffer
	writeCanonical(&buf, v, 0)
	return buf.Bytes()
}

func writeCanonical(buf *bytes.Buffer, v any, depth int) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.IsInf(f, 0) {
			buf.WriteString(string(x)) // out of range: invalid anyway
			return
		}
		buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if depth > 2 {
				buf.WriteString("null") // invalid anyway; stay shallow
				continue
			}
			writeCanonical(buf, e, depth+1)
		}
		buf.WriteByte(']')
	case map[string]any:
		buf.WriteString("null") // never valid as a value
	default:
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(x) // string, bool or nil: cannot fail
		buf.Truncate(buf.Len() - 1)
	}
}

// filter is a compiled property filter or trait condition.
type filter struct {
	path []string
	op   op
	vals []scalar
}

// compileFilter compiles a test; ok is false when it does not validate.
func compileFilter(prop, opText string, value json.RawMessage) (filter, bool) {
	o, ok := parseOp(opText)
	if !ok || checkPath(prop) != "" {
		return filter{}, false
	}
	vals, reason := parseValue(o, value)
	if reason != "" {
		return filter{}, false
	}
	return filter{path: strings.Split(prop, "."), op: o, vals: vals}, true
}

// maxWalk bounds the nesting walk follows in outside data (arrays in
// arrays), whatever that data holds.
const maxWalk = 16

// match reports whether root passes the filter. "ne" is the negation of
// "eq": it holds when no value at the path equals the filter value,
// including when the path is absent.
func (f *filter) match(root map[string]any) bool {
	if f.op == opNe {
		return !f.walk(root, 0, 0)
	}
	return f.walk(root, 0, 0)
}

// walk follows f.path from v at segment i; an array anywhere on the path,
// or at its end, matches when any element matches.
func (f *filter) walk(v any, i, depth int) bool {
	if depth > maxWalk {
		return false
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if f.walk(e, i, depth+1) {
				return true
			}
		}
		return false
	case []map[string]any:
		for _, e := range x {
			if f.walk(e, i, depth+1) {
				return true
			}
		}
		return false
	}
	if i == len(f.path) {
		return f.test(v)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	next, ok := m[f.path[i]]
	if !ok {
		return false
	}
	return f.walk(next, i+1, depth+1)
}

// test compares one value found at the path.
func (f *filter) test(v any) bool {
	switch f.op {
	case opExists:
		return v != nil
	case opEq, opNe:
		return equal(f.vals[0], v)
	case opIn:
		for _, s := range f.vals {
			if equal(s, v) {
				return true
			}
		}
		return false
	case opGt, opGte, opLt, opLte:
		x, ok := number(v)
		if !ok {
			return false
		}
		y := f.vals[0].f
		switch f.op {
		case opGt:
			return x > y
		case opGte:
			return x >= y
		case opLt:
			return x < y
		default:
			return x <= y
		}
	case opPrefix:
		s, ok := v.(string)
		return ok && strings.HasPrefix(s, f.vals[0].s)
	case opContains:
		s, ok := v.(string)
		return ok && strings.Contains(s, f.vals[0].s)
	}
	return false
}

func equal(s scalar, v any) bool {
	switch s.kind {
	case kindString:
		x, ok := v.(string)
		return ok && x == s.s
	case kindBool:
		x, ok := v.(bool)
		return ok && x == s.b
	case kindNumber:
		x, ok := number(v)
		return ok && x == s.f
	}
	return false
}

// number reads a numeric value: json.Number (properties are decoded with
// UseNumber), floats and integers. Numeric strings are not numbers.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case int16:
		return float64(x), true
	case int8:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint8:
		return float64(x), true
	}
	return 0, false
}
