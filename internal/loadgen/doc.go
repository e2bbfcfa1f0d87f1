// Package loadgen is the engine of `tact bench ingest`: it drives a running
// tact server over loopback HTTP with realistic e-commerce batches in the
// Segment dialect (DESIGN 5.1) and measures throughput and latency.
//
// It owns the synthetic shop (a product catalogue, from the Online Retail
// data set when given, and a pool of shoppers), the rendering of events,
// the optional consent set-up through POST /v1/consent (DESIGN 5.2) and the
// figures. Request bodies are rendered before the timed window and only
// their messageIds and sentAt are rewritten per request, so the generator's
// own JSON encoding does not compete with the server for CPU.
package loadgen
