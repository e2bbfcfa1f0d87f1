package loadgen

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config says what to send and for how long. Zero values take the defaults
// noted on each field.
type Config struct {
	URL string // base URL of the tact server, e.g. http://127.0.0.1:8080

	// Events are sent with ServerKey when it is set (a trusted backend, as
	// analytics-node sends them), else with WriteKey. Consent "all" needs
	// ServerKey: only a server key may grant for a userId.
	WriteKey, ServerKey string

	Clients   int           // concurrent senders, each with its own keep-alive connection; default 16
	BatchSize int           // events per request; default 100
	Duration  time.Duration // measured window; default 20s
	Warmup    time.Duration // run before the window and left out of the figures; default 2s, negative for none
	Shoppers  int           // size of the shopper pool (RetailCSV's customers first, then "u<N>"); default 10,000
	// Rate, when set, holds the load at that many events per second over
	// all clients (each client sends on its own schedule, open loop); zero
	// sends as fast as the server answers.
	Rate float64

	// Consent is "all" to record, before the run, a consent granting every
	// purpose that is neither required nor separately consented for every
	// shopper in the pool; "none" (or empty) records nothing.
	Consent string

	// RetailCSV names the Online Retail CSV (gzip or plain) to take the
	// catalogue and customer ids from; empty synthesises them.
	RetailCSV string

	// Seed fixes the catalogue, shoppers and event mix. MessageIds are
	// random whatever the seed, since the server stores a messageId once
	// per write key and a second run would otherwise be all duplicates.
	Seed int64

	// Progress, when set, is called as the consent set-up advances: once
	// with done 0, then once per shopper. Calls are serialised.
	Progress func(done, total int)
}

const (
	defaultClients   = 16
	defaultBatchSize = 100
	defaultDuration  = 20 * time.Second
	defaultWarmup    = 2 * time.Second
	defaultShoppers  = 10_000
)

// Values of Config.Consent.
const (
	ConsentAll  = "all"
	ConsentNone = "none"
)

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Clients == 0 {
		c.Clients = defaultClients
	}
	if c.BatchSize == 0 {
		c.BatchSize = defaultBatchSize
	}
	if c.Duration == 0 {
		c.Duration = defaultDuration
	}
	switch {
	case c.Warmup == 0:
		c.Warmup = defaultWarmup
	case c.Warmup < 0:
		c.Warmup = 0
	}
	if c.Shoppers == 0 {
		c.Shoppers = defaultShoppers
	}
	if c.Consent == "" {
		c.Consent = ConsentNone
	}
	c.URL = strings.TrimRight(c.URL, "/")

	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("url %q: want http://host:port", c.URL))
	}
	if c.WriteKey == "" && c.ServerKey == "" {
		errs = append(errs, errors.New("a write key or a server key is needed"))
	}
	if c.Clients < 0 || c.BatchSize < 0 || c.Duration < 0 || c.Shoppers < 0 {
		errs = append(errs, errors.New("clients, batch size, duration and shoppers must not be negative"))
	}
	switch c.Consent {
	case ConsentNone:
	case ConsentAll:
		if c.ServerKey == "" {
			errs = append(errs, errors.New(`consent "all" needs a server key: only a server key may grant consent for a userId`))
		}
	default:
		errs = append(errs, fmt.Errorf(`consent %q: want "all" or "none"`, c.Consent))
	}
	return c, errors.Join(errs...)
}

// eventKey is the key events are sent with.
func (c Config) eventKey() (key, kind string) {
	if c.ServerKey != "" {
		return c.ServerKey, "server key"
	}
	return c.WriteKey, "write key"
}
