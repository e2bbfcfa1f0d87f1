package report

import (
	"bufio"
	"fmt"
	"io"
)

// flushAt is how much output is held before it is passed on: the buffer
// is the only part of the output in memory, whatever the number of events.
const flushAt = 32 << 10

// out buffers the output and passes it on in chunks, flushing the
// destination too when it can (an http.ResponseWriter is an http.Flusher),
// so a large report reaches the client while it is rendered. The first
// write error sticks.
type out struct {
	bw    *bufio.Writer
	flush func() error
	err   error
}

func newOut(w io.Writer) *out {
	o := &out{bw: bufio.NewWriterSize(w, 2*flushAt)}
	switch f := w.(type) {
	case interface{ Flush() error }:
		o.flush = f.Flush
	case interface{ Flush() }:
		o.flush = func() error { f.Flush(); return nil }
	}
	return o
}

func (o *out) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.bw.Write(p)
	o.err = err
	return n, err
}

func (o *out) WriteString(s string) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.bw.WriteString(s)
	o.err = err
	return n, err
}

// step passes the buffer on once it holds flushAt bytes.
func (o *out) step() error {
	if o.err == nil && o.bw.Buffered() >= flushAt {
		return o.end()
	}
	return o.err
}

// end passes everything on.
func (o *out) end() error {
	if o.err != nil {
		return o.err
	}
	if o.err = o.bw.Flush(); o.err == nil && o.flush != nil {
		o.err = o.flush()
	}
	return o.err
}

// stream runs the iterator, handing each event to render, and returns the
// number of events. A render or write error stops the iterator and is
// returned as is; an error of the iterator itself is wrapped.
func stream(o *out, events Events, render func(n int, e *Event) error) (int, error) {
	if events == nil {
		return 0, nil
	}
	n := 0
	var stop error
	err := events(func(e Event) error {
		if stop != nil {
			return stop // the iterator ignored the first error
		}
		n++
		if stop = render(n, &e); stop == nil {
			stop = o.step()
		}
		return stop
	})
	switch {
	case stop != nil:
		return n, stop
	case err != nil:
		return n, fmt.Errorf("report: reading events: %w", err)
	}
	return n, nil
}
