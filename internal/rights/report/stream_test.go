package report

import (
	"io"
	"runtime"
	"testing"
)

type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// liveAfterLast renders n generated events and returns the live heap,
// after a forced collection, once the renderer has handled the last event
// (measured inside the iterator, so the renderer is still running), above
// the live heap before it started; and the bytes written.
func liveAfterLast(t *testing.T, n int, write func(io.Writer, *Report, Events) error) (grown int64, written int) {
	t.Helper()
	r := fixture(t, "opt_in", "en")
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	var after uint64
	events := func(yield func(Event) error) error {
		for i := range n {
			if err := yield(genEvent(i)); err != nil {
				return err
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		after = ms.HeapAlloc
		return nil
	}
	w := &countWriter{}
	if err := write(w, r, events); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(r)
	return int64(after) - int64(before), w.n
}

// TestFlatMemory: the live heap while rendering does not grow with the
// number of events. 20,000 events of about 1 KB are 20 MB of output; had
// the renderer kept them, the heap would grow by at least that much.
func TestFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 21,000 events")
	}
	for name, write := range map[string]func(io.Writer, *Report, Events) error{"json": WriteJSON, "html": WriteHTML} {
		t.Run(name, func(t *testing.T) {
			small, _ := liveAfterLast(t, 1000, write)
			large, written := liveAfterLast(t, 20000, write)
			t.Logf("live heap growth: %d B after 1,000 events, %d B after 20,000 (%d B written)", small, large, written)
			if written < 20000*800 {
				t.Fatalf("only %d bytes written", written)
			}
			const slack = 512 << 10 // buffers, runtime noise; far below one event per 1,000
			if large-small > slack {
				t.Errorf("live heap grew by %d B more for 20,000 events than for 1,000: the renderer holds events", large-small)
			}
		})
	}
}

// TestStreamsAsItGoes: output reaches the writer while events are still
// being read, and the destination's Flush is called.
func TestStreamsAsItGoes(t *testing.T) {
	for name, write := range map[string]func(io.Writer, *Report, Events) error{"json": WriteJSON, "html": WriteHTML} {
		t.Run(name, func(t *testing.T) {
			w := &flushWriter{}
			var seen []int
			events := genEvents(5000, func(i int) {
				if i%1000 == 0 {
					seen = append(seen, w.n)
				}
			})
			if err := write(w, fixture(t, "opt_in", "en"), events); err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(seen); i++ {
				if seen[i] <= seen[i-1] {
					t.Errorf("bytes written before events %d and %d: %v; want output to grow while events are read", (i-1)*1000, i*1000, seen)
				}
			}
			if w.flushes < 10 {
				t.Errorf("destination flushed %d times, want it flushed as the output goes", w.flushes)
			}
			if w.buffered != 0 {
				t.Errorf("%d bytes written after the last flush", w.buffered)
			}
		})
	}
}

// flushWriter is like an http.ResponseWriter: it has Flush().
type flushWriter struct{ n, flushes, buffered int }

func (w *flushWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	w.buffered += len(p)
	return len(p), nil
}
func (w *flushWriter) Flush() { w.flushes++; w.buffered = 0 }
