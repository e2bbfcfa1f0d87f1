// Package mail owns tact's outgoing mail — verification codes, double
// opt-in confirmations, notices: building a well-formed RFC 5322 message
// (Message) and handing it to an SMTP submission server (SMTP, configured
// from an smtp:// or smtps:// URL by ParseURL). It sends one message to one
// recipient per call and keeps no queue; retrying is the caller's decision.
//
// Nothing here logs. Errors name the step that failed and never contain the
// SMTP password or the message body; errors this package phrases itself do
// not contain the recipient's address either, but a server's reply is passed
// on as it came and may name it.
package mail

import (
	"context"
	"errors"
)

// Sender delivers a message. Implementations must be safe for concurrent
// use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrInvalidMessage is wrapped by every error that a Message itself causes
// (a missing field, a line break in a header, an unparseable address). Such
// a message fails the same way on every attempt, so callers should not retry
// it; transport errors do not wrap it.
var ErrInvalidMessage = errors.New("mail: invalid message")
