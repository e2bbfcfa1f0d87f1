package segment

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAppendWithout(t *testing.T) {
	raw := []byte(` { "type":"track" , "context" : {"ip":"203.0.113.9","nested":{"context":1}}, "properties":{"a":[1,2,{"b":"c"}]},"userId":"u1" } `)
	got, ok := AppendWithout([]byte("x"), raw, func(k string) bool { return k == "context" || k == "userId" }, []byte(`"context":{"country":"DE"}`))
	if !ok {
		t.Fatal("not ok")
	}
	var v map[string]any
	if err := json.Unmarshal(got[1:], &v); err != nil {
		t.Fatalf("output %s is not JSON: %v", got, err)
	}
	want := map[string]any{"type": "track", "properties": map[string]any{"a": []any{1.0, 2.0, map[string]any{"b": "c"}}}, "context": map[string]any{"country": "DE"}}
	if d := cmp.Diff(want, v); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	if string(got[:1]) != "x" {
		t.Error("dst prefix lost")
	}
	if _, ok := AppendWithout(nil, []byte(`[1]`), func(string) bool { return false }, nil); ok {
		t.Error("an array was accepted")
	}
	empty, _ := AppendWithout(nil, []byte(`{"context":{}}`), func(k string) bool { return true }, nil)
	if string(empty) != "{}" {
		t.Errorf("got %s", empty)
	}
}

func FuzzAppendWithout(f *testing.F) {
	f.Add([]byte(`{"type":"track","context":{"ip":"1.2.3.4"},"x":[1,{"y":null}]}`), "context")
	f.Add([]byte(`{}`), "a")
	f.Add([]byte(`{"a":1,"a":2}`), "a")
	f.Fuzz(func(t *testing.T, raw []byte, key string) {
		out, ok := AppendWithout(nil, raw, func(k string) bool { return k == key }, []byte(`"z":true`))
		if !ok {
			return
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("output %q of %q is not a JSON object: %v", out, raw, err)
		}
		if _, has := v[key]; has && key != "z" {
			t.Fatalf("key %q kept in %q", key, out)
		}
		if v["z"] != true {
			t.Fatalf("extra member missing in %q", out)
		}
	})
}

func TestMemberValue(t *testing.T) {
	raw := []byte(`{"context":{"properties":1}, "properties" : {"a":[1,{"b":2}]} ,"z":null}`)
	for key, want := range map[string]string{"properties": `{"a":[1,{"b":2}]}`, "z": `null`, "context": `{"properties":1}`, "b": "", "a": ""} {
		if got := string(MemberValue(raw, key)); got != want {
			t.Errorf("MemberValue(%q) = %q, want %q", key, got, want)
		}
	}
	if got := MemberValue([]byte(`[1]`), "a"); got != nil {
		t.Errorf("MemberValue of an array = %q, want nil", got)
	}
}

// FuzzAppendKept checks the members the decoder records against reading
// Raw again: for every event of an accepted batch (batch and single
// forms), AppendKept and AppendWithout give the same JSON but for white
// space, and MemberOf agrees with MemberValue on every member.
func FuzzAppendKept(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, "context")
	}
	f.Add([]byte("{ \"type\" : \"track\" ,\n\"event\":\"X\" , \"properties\" : { \"a\" : [ 1 , 2 ] } \t}"), "event")
	f.Add([]byte(`{"batch":[ {"type":"page","name":"n","properties":{}} , {"type":"track","event":"E","context":{"ip":"1.2.3.4"}} ]}`), "name")
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		events := func() []Event {
			if b, err := DecodeBatch(body); err == nil {
				return b.Events
			}
			if b, err := DecodeSingle(Track, body); err == nil {
				return b.Events
			}
			return nil
		}()
		drop := func(k string) bool { return k == key || k == "context" }
		for i := range events {
			e := &events[i]
			if e.Members == nil {
				t.Fatalf("event %d: the decoder recorded no members", i)
			}
			kept, ok1 := AppendKept(nil, e, drop, []byte(`"z":1`))
			reread, ok2 := AppendWithout(nil, e.Raw, drop, []byte(`"z":1`))
			if !ok1 || !ok2 {
				t.Fatalf("event %d: AppendKept ok %v, AppendWithout ok %v", i, ok1, ok2)
			}
			if a, b := compact(t, kept), compact(t, reread); a != b {
				t.Fatalf("event %d of %q:\nAppendKept    %s\nAppendWithout %s", i, body, a, b)
			}
			for _, m := range e.Members {
				if a, b := compact(t, MemberOf(e, m.Key)), compact(t, MemberValue(e.Raw, m.Key)); a != b {
					t.Fatalf("event %d member %q: MemberOf %s, MemberValue %s", i, m.Key, a, b)
				}
			}
		}
	})
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("%q is not JSON: %v", b, err)
	}
	return out.String()
}
