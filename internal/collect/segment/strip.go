package segment

// AppendWithout appends raw (one event's JSON object, as Event.Raw holds it)
// to dst without the top-level members whose keys drop reports true, and
// with extra (a JSON member list such as `"context":{…}`, or empty) added at
// the end. It copies bytes rather than re-encoding, so the members kept are
// exactly as sent. raw must be an object the decoder accepted; anything
// else returns dst unchanged and false.
func AppendWithout(dst, raw []byte, drop func(key string) bool, extra []byte) ([]byte, bool) {
	p := newParser(raw)
	p.skipWS()
	if !p.openObject(false) {
		return dst, false
	}
	start := len(dst)
	dst = append(dst, '{')
	n := 0
	for i := 0; ; i++ {
		p.skipWS()
		memberStart := p.pos
		if i > 0 && p.peek() == ',' {
			memberStart++
		}
		if !p.nextMember(i) {
			break
		}
		k := p.key
		p.skipWS()
		p.skipValue()
		if p.err != nil {
			return dst[:start], false
		}
		if drop(k) {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, trimSpace(raw[memberStart:p.pos])...)
		n++
	}
	if p.err != nil {
		return dst[:start], false
	}
	if len(extra) > 0 {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, extra...)
	}
	return append(dst, '}'), true
}

// MemberValue returns the JSON of the value of raw's top-level member key
// (raw as AppendWithout takes it), as sent, or nil when there is none or
// raw is not an object the decoder accepted.
func MemberValue(raw []byte, key string) []byte {
	p := newParser(raw)
	p.skipWS()
	if !p.openObject(false) {
		return nil
	}
	for i := 0; p.nextMember(i); i++ {
		k := p.key // skipValue reads the keys of nested objects
		p.skipWS()
		start := p.pos
		p.skipValue()
		if p.err != nil {
			return nil
		}
		if k == key {
			return raw[start:p.pos:p.pos]
		}
	}
	return nil
}

// AppendKept is AppendWithout for an event the decoder made: it copies the
// members from where the decoder found them instead of reading Raw again.
// The output may differ from AppendWithout's in white space only.
func AppendKept(dst []byte, e *Event, drop func(key string) bool, extra []byte) ([]byte, bool) {
	if e.Members == nil {
		return AppendWithout(dst, e.Raw, drop, extra)
	}
	start := len(dst)
	dst = append(dst, '{')
	n := 0
	for _, m := range e.Members {
		if m.Start < 0 || m.Start > m.End || int(m.End) > len(e.Raw) {
			return AppendWithout(dst[:start], e.Raw, drop, extra)
		}
		if drop(m.Key) {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, trimSpace(e.Raw[m.Start:m.End])...)
		n++
	}
	if len(extra) > 0 {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, extra...)
	}
	return append(dst, '}'), true
}

// MemberOf returns the JSON of the value of e's top-level member key, as
// sent, or nil when there is none.
func MemberOf(e *Event, key string) []byte {
	if e.Members == nil {
		return MemberValue(e.Raw, key)
	}
	for _, m := range e.Members {
		if m.Key == key && m.Value <= m.End && int(m.End) <= len(e.Raw) {
			v := trimSpace(e.Raw[m.Value:m.End])
			for len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == '\n' || v[0] == '\r') {
				v = v[1:]
			}
			return v[:len(v):len(v)]
		}
	}
	return nil
}
