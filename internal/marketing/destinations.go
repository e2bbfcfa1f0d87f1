package marketing

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/destination"
)

var destinationID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// AddDestination validates and stores a destination and returns its
// signing secret (webhooks; shown once — it is derived again when needed).
func (s *Service) AddDestination(ctx context.Context, d Destination) (Destination, string, error) {
	m := s.DataMap()
	if !destinationID.MatchString(d.ID) {
		return d, "", tact.Errorf(tact.EINVALID, "id must be 1 to 63 lower-case letters, digits, _ or -, starting with a letter or digit")
	}
	if d.Name == "" {
		d.Name = d.ID
	}
	switch d.Kind {
	case "webhook":
		u, err := url.Parse(d.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return d, "", tact.Errorf(tact.EINVALID, "url must be an http(s) URL without credentials")
		}
	case "file":
		d.URL = ""
	default:
		return d, "", tact.Errorf(tact.EINVALID, "kind must be webhook or file")
	}
	if d.Purpose != datamap.PurposeMarketingEmail && d.Purpose != datamap.PurposeMarketingSMS && d.Purpose != datamap.PurposeAdvertising {
		return d, "", tact.Errorf(tact.EINVALID, "purpose must be marketing_email, marketing_sms or advertising")
	}
	rec, ok := m.Recipient(d.Recipient)
	if !ok {
		return d, "", tact.Errorf(tact.EINVALID, "recipient %q is not in the data map", d.Recipient)
	}
	if !slices.ContainsFunc(m.PurposeRecipients(d.Purpose), func(r datamap.Recipient) bool { return r.ID == rec.ID }) {
		return d, "", tact.Errorf(tact.EINVALID, "the data map does not declare %s as a recipient for %s", rec.ID, d.Purpose)
	}
	if len(d.Fields) == 0 {
		d.Fields = []string{"pseudonym"}
	}
	if err := destination.ValidFields(d.Fields); err != nil {
		return d, "", tact.Errorf(tact.EINVALID, "fields: %v", err)
	}
	for _, f := range d.Fields {
		switch {
		case f == "email" && d.Purpose != datamap.PurposeMarketingEmail:
			return d, "", tact.Errorf(tact.EINVALID, "only marketing_email destinations may receive email addresses")
		case f == "email_sha256" && d.Purpose != datamap.PurposeAdvertising:
			return d, "", tact.Errorf(tact.EINVALID, "only advertising destinations may receive hashed email addresses")
		case f == "unsubscribe_url" && d.Purpose == datamap.PurposeAdvertising:
			return d, "", tact.Errorf(tact.EINVALID, "unsubscribe_url is for marketing_email and marketing_sms destinations")
		}
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 8
	}
	d.CreatedAt = s.now()
	if old, err := s.Store.Destination(ctx, d.ID); err == nil {
		d.SecretGen = old.SecretGen
		d.CreatedAt = old.CreatedAt
	}
	if err := s.Store.PutDestination(ctx, d); err != nil {
		return d, "", err
	}
	secret := ""
	if d.Kind == "webhook" {
		secret = string(s.secret(d))
	}
	return d, secret, nil
}

func encodeSecret(b []byte) string {
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, 6+2*len(b))
	out = append(out, "whsec_"...)
	for _, c := range b {
		out = append(out, hexdigits[c>>4], hexdigits[c&15])
	}
	return string(out)
}

// Secret returns a webhook destination's current signing secret.
func (s *Service) Secret(ctx context.Context, id string) (string, error) {
	d, err := s.Store.Destination(ctx, id)
	if err != nil {
		return "", err
	}
	return string(s.secret(d)), nil
}

// Test sends a signed test request (no personal data) to a webhook
// destination and reports the answer.
func (s *Service) Test(ctx context.Context, id string) (int, error) {
	d, err := s.Store.Destination(ctx, id)
	if err != nil {
		return 0, err
	}
	if d.Kind != "webhook" {
		return 0, tact.Errorf(tact.EINVALID, "destination %s is a file destination", id)
	}
	now := s.now()
	dl := newID("dlv_")
	body := []byte(`{"type":"test","deliveryId":"` + dl + `","destination":"` + d.ID + `","sentAt":"` + now.Format(time.RFC3339) + `"}`)
	return destination.Deliver(ctx, nil, destination.Delivery{ID: dl, DestinationID: d.ID, URL: d.URL, Secret: s.secret(d), Body: body, CreatedAt: now}, now)
}

// DestinationInfo is a destination with its queue's state.
type DestinationInfo struct {
	Destination
	Counts DeliveryCounts `json:"counts"`
}

// Destinations lists the destinations with their queue counts.
func (s *Service) Destinations(ctx context.Context) ([]DestinationInfo, error) {
	ds, err := s.Store.Destinations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DestinationInfo, 0, len(ds))
	for _, d := range ds {
		c, err := s.Store.Counts(ctx, d.ID, s.now())
		if err != nil {
			return nil, err
		}
		out = append(out, DestinationInfo{Destination: d, Counts: c})
	}
	return out, nil
}
