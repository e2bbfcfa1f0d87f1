package marketing

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"time"

	"github.com/tact-cdp/tact/internal/destination"
)

// Delivery bodies hold personal data (addresses, their hashes): they are
// sealed under tact's delivery key while queued and dropped once delivered.
func (s *Service) aead() cipher.AEAD {
	b, err := aes.NewCipher(s.deliveryKey)
	if err != nil {
		panic(err) // a 32-byte key
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return g
}

func (s *Service) seal(id string, plain []byte) ([]byte, error) {
	g := s.aead()
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	return g.Seal(nonce, nonce, plain, []byte(id)), nil
}

func (s *Service) open(id string, sealed []byte) ([]byte, error) {
	g := s.aead()
	if len(sealed) < g.NonceSize() {
		return nil, errors.New("sealed delivery body is too short")
	}
	return g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], []byte(id))
}

// secret is a destination's signing secret: derived from the root secret,
// never stored; a new generation replaces it.
// The receiver holds the secret as the text tact printed, and HMACs with
// those bytes.
func (s *Service) secret(d Destination) []byte {
	return []byte(encodeSecret(s.Vault.DeriveKey("marketing/destination/"+d.ID+"/"+itoa(d.SecretGen), 32)))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// queue adapts the store's queue to destination.Queue: it opens bodies and
// attaches each destination's URL and secret.
type queue struct{ s *Service }

func (q queue) Due(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]destination.Delivery, error) {
	rows, err := q.s.Store.DueDeliveries(ctx, now, lease, limit)
	if err != nil {
		return nil, err
	}
	dests := map[string]Destination{}
	out := make([]destination.Delivery, 0, len(rows))
	for _, r := range rows {
		d, ok := dests[r.DestinationID]
		if !ok {
			if d, err = q.s.Store.Destination(ctx, r.DestinationID); err != nil {
				return nil, err
			}
			dests[r.DestinationID] = d
		}
		body, err := q.s.open(r.ID, r.Body)
		if err != nil {
			return nil, err
		}
		out = append(out, destination.Delivery{ID: r.ID, DestinationID: r.DestinationID, URL: d.URL, Secret: q.s.secret(d),
			Body: body, Attempts: r.Attempts, CreatedAt: r.CreatedAt})
	}
	return out, nil
}

func (q queue) Finish(ctx context.Context, id string, at time.Time, o destination.Outcome) error {
	return q.s.Store.FinishDelivery(ctx, id, at, o)
}
