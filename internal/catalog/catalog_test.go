package catalog

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestParseCSVAndJSONL(t *testing.T) {
	csvIn := "\ufeffid,name,category,price,currency,available,sensitive,repeat_purchase\n" +
		"85123A,White hanging heart,Home décor/Candles,2.55,GBP,true,false,\n" +
		"V-1,Vitamin D,Health/Vitamins,4.99,GBP,,,true\n" +
		",No id,Home,1,GBP,true,false,\n" +
		"X-2,Bad price,Home,cheap,GBP,true,false,\n" +
		"X-3,Bad flag,Home,1,GBP,maybe,false,\n" +
		"P-9,Prayer beads,Religion,3,GBP,false,true,false\n"
	var got []Item
	bad, err := Parse(strings.NewReader(csvIn), "csv", func(it Item) error { got = append(got, it); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || len(bad) != 3 {
		t.Fatalf("csv: %d items, %d bad lines (%v); want 3 and 3", len(got), len(bad), bad)
	}
	if got[0].ID != "85123A" || got[0].PriceCents != 255 || got[0].Currency != "GBP" || !got[0].Available {
		t.Errorf("first item %+v", got[0])
	}
	if got[2].Available || !got[2].Sensitive || got[2].RepeatPurchase {
		t.Errorf("prayer beads %+v", got[2])
	}
	if !got[1].RepeatPurchase || got[0].RepeatPurchase {
		t.Errorf("repeat purchase: vitamin %v, heart %v; want true, false", got[1].RepeatPurchase, got[0].RepeatPurchase)
	}
	if bad[0].Line != 4 || bad[1].Line != 5 || bad[2].Line != 6 {
		t.Errorf("bad lines %v, want 4, 5, 6", bad)
	}

	jsonl := `{"id":"a","name":"A","category":"Home","price":1.5}
{"id":"b","name":"B","category":"Home","unknown":1}

{"id":"c","name":"C","category":"Health","sensitive":true,"available":false}
`
	got = nil
	bad, err = Parse(strings.NewReader(jsonl), "jsonl", func(it Item) error { got = append(got, it); return nil })
	if err != nil || len(got) != 2 || len(bad) != 1 || bad[0].Line != 2 {
		t.Fatalf("jsonl: %d items, bad %v, err %v", len(got), bad, err)
	}
	if _, err := Parse(strings.NewReader("a,b\n1,2\n"), "csv", func(Item) error { return nil }); err == nil || !strings.Contains(err.Error(), "id") {
		t.Errorf("a CSV without the needed columns: %v", err)
	}
	if _, err := Parse(strings.NewReader(""), "xml", func(Item) error { return nil }); err == nil {
		t.Error("format xml accepted")
	}
}

func TestDecodeBody(t *testing.T) {
	for _, c := range []struct {
		body, id string
		ok       bool
	}{
		{`{"name":"Lamp","category":"Home/Lamps","price":19.99,"currency":"eur"}`, "L1", true},
		{`{"id":"L1","name":"Lamp","category":"Home"}`, "L1", true},
		{`{"id":"L2","name":"Lamp","category":"Home"}`, "L1", false},
		{`{"name":"Lamp","category":"Home","price":-1}`, "L1", false},
		{`{"name":"Lamp","category":"Home","currency":"EURO"}`, "L1", false},
		{`{"name":"Lamp","name":"Lamp","category":"Home"}`, "L1", false},
		{`{"name":"La\u0000mp","category":"Home"}`, "L1", false},
		{`{"name":"Lamp","category":"Home"}`, "", false},
	} {
		it, err := DecodeBody([]byte(c.body), c.id)
		if (err == nil) != c.ok {
			t.Errorf("%s (id %q): %+v %v", c.body, c.id, it, err)
		}
	}
}

func FuzzDecodeBody(f *testing.F) {
	f.Add([]byte(`{"name":"Lamp","category":"Home/Lamps","price":19.99,"currency":"EUR","available":true,"sensitive":false}`), "L1")
	f.Add([]byte(`{"id":"x"}`), "")
	f.Add([]byte(`[]`), "a")
	f.Fuzz(func(t *testing.T, raw []byte, id string) {
		it, err := DecodeBody(raw, id)
		if err != nil {
			return
		}
		if it.ID == "" || it.PriceCents < 0 || (it.Currency != "" && !validCurrency(it.Currency)) || hasControl(it.ID) {
			t.Fatalf("accepted an invalid item %+v from %q", it, raw)
		}
		if !json.Valid(raw) {
			t.Fatalf("accepted invalid JSON %q", raw)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("id,name,category,price\n1,A,Home,2.5\n"), true)
	f.Add([]byte(`{"id":"a","name":"A","category":"Home"}`+"\n"), false)
	f.Fuzz(func(t *testing.T, raw []byte, csv bool) {
		format := "jsonl"
		if csv {
			format = "csv"
		}
		n := 0
		bad, err := Parse(bytes.NewReader(raw), format, func(it Item) error {
			if it.ID == "" || it.Validate() != nil {
				t.Fatalf("an invalid item passed: %+v", it)
			}
			n++
			return nil
		})
		for _, b := range bad {
			if b.Line < 1 {
				t.Fatalf("a bad line without a line number: %v", b)
			}
		}
		_ = err
	})
}
