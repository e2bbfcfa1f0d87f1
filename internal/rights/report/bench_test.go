package report

import (
	"io"
	"testing"
)

// benchEvents are 10,000 events of about 800 bytes of payload, made before
// the clock starts.
func benchEvents(b *testing.B) (Events, int64) {
	b.Helper()
	evs := make([]Event, 10000)
	var size int64
	for i := range evs {
		evs[i] = genEvent(i)
		size += int64(len(evs[i].Payload))
	}
	return sliceEvents(evs), size
}

func BenchmarkWriteJSON10000(b *testing.B) {
	events, size := benchEvents(b)
	r := fixture(b, "opt_in", "en")
	b.ReportAllocs()
	b.SetBytes(size)
	for b.Loop() {
		if err := WriteJSON(io.Discard, r, events); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteHTML10000(b *testing.B) {
	events, size := benchEvents(b)
	r := fixture(b, "pipl", "zh-CN")
	b.ReportAllocs()
	b.SetBytes(size)
	for b.Loop() {
		if err := WriteHTML(io.Discard, r, events); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedact(b *testing.B) {
	p := genEvent(1).Payload
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	var out []byte
	var red redactor
	for b.Loop() {
		out = red.append(out[:0], p, false)
	}
}
