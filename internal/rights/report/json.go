package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// WriteJSON writes the report as one JSON document (schema in the package
// documentation): the sections first, then the events, one line per event,
// as the iterator yields them, then the number of events. Nothing but the
// current event and a bounded buffer is held in memory. An error of the
// iterator or of w stops the rendering and is returned; w may then hold a
// truncated document.
func WriteJSON(w io.Writer, r *Report, events Events) error {
	v, err := newView(r)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // a download, not a page: keep "<" readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	// The head is an object; the events continue it.
	head := bytes.TrimSuffix(b.Bytes(), []byte("\n}\n"))
	o := newOut(w)
	o.Write(head)
	o.WriteString(",\n  \"events\": [")
	buf := make([]byte, 0, 4096)
	var red redactor
	n, err := stream(o, events, func(n int, e *Event) error {
		buf = buf[:0]
		if n > 1 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n    "...)
		buf = appendEvent(buf, e, &red)
		_, err := o.Write(buf)
		return err
	})
	if err != nil {
		return err
	}
	if n > 0 {
		o.WriteString("\n  ")
	}
	o.WriteString("],\n  \"eventCount\": ")
	o.WriteString(strconv.Itoa(n))
	o.WriteString("\n}\n")
	return o.end()
}

// appendEvent appends one event as a compact JSON object, payload
// redacted.
func appendEvent(b []byte, e *Event, red *redactor) []byte {
	b = append(b, `{"messageId":`...)
	b = appendString(b, e.MessageID)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"event":`...)
	b = appendOpt(b, e.Event)
	b = append(b, `,"occurredAt":`...)
	b = stamp(e.OccurredAt).appendJSON(b)
	b = append(b, `,"receivedAt":`...)
	b = stamp(e.ReceivedAt).appendJSON(b)
	b = append(b, `,"purposes":[`...)
	for i, p := range e.Purposes {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, p)
	}
	b = append(b, `],"receiptId":`...)
	b = appendOpt(b, e.ReceiptID)
	b = append(b, `,"payload":`...)
	b = red.append(b, e.Payload, false)
	return append(b, '}')
}

func appendOpt(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}
