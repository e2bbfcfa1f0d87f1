package segment

import "errors"

// Request-level errors. Every error this package returns wraps one of them
// (test with errors.Is) and is an *Error whose Code and Message can be
// shown to the client. ErrTooLarge maps to 413; the others to 400.
var (
	// ErrTooLarge: the request is over MaxRequestBytes after
	// decompression, or a single-event request is over MaxEventBytes.
	ErrTooLarge = errors.New("request too large")
	// ErrNotJSON: the body is not one well-formed JSON value in UTF-8.
	ErrNotJSON = errors.New("body is not JSON")
	// ErrInvalid: the body is JSON but not an acceptable payload (not an
	// object, nested too deep, duplicate keys, no batch array, a bad
	// single event, a type contradicting the path).
	ErrInvalid = errors.New("invalid payload")
	// ErrEncoding: the Content-Encoding is unsupported or the compressed
	// stream is corrupt.
	ErrEncoding = errors.New("unsupported or corrupt content encoding")
)

// Codes of request errors and of rejected batch entries. They are part of
// the public answer (DESIGN 5.1 "rejected": [{"index","code","message"}]).
const (
	CodeTooLarge     = "too_large"     // request or event over its size limit
	CodeNotJSON      = "not_json"      // syntax error, invalid UTF-8, trailing data
	CodeEncoding     = "bad_encoding"  // unsupported or corrupt compression
	CodeTooDeep      = "too_deep"      // nesting over MaxDepth
	CodeDuplicateKey = "duplicate_key" // one object names a key twice
	CodeNotObject    = "not_object"    // body or batch entry is not an object
	CodeNoBatch      = "no_batch"      // batch body without a "batch" array
	CodeMissingType  = "missing_type"  // batch entry without "type"
	CodeUnknownType  = "unknown_type"  // "type" is not one of the six calls
	CodeTypeMismatch = "type_mismatch" // body "type" contradicts the path
	CodeInvalidField = "invalid_field" // a known field has the wrong JSON type or format
	CodeMissingField = "missing_field" // track without event, group without groupId, alias without ids
	CodeWriteKey     = "write_key_mismatch"
)

// Error is a problem with a request or an event. Message names the
// problem without echoing payload values (it may name keys and types), so
// it is safe to return to the client and to log.
type Error struct {
	Code    string
	Message string
	kind    error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel (ErrTooLarge, ErrNotJSON, ErrInvalid or
// ErrEncoding).
func (e *Error) Unwrap() error { return e.kind }
