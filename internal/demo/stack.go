package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/catalog"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/httpapi"
	"github.com/tact-cdp/tact/internal/privacy"
	"github.com/tact-cdp/tact/internal/tactjs"
)

// Stack is tact and the demo shop running on two origins, as in a real
// deployment: tact serves its API, tact.js and the privacy center; the
// shop's pages load tact.js from tact.
type Stack struct {
	TactURL, ShopURL string
	WriteKey         string // registered for the shop's origin
	ServerKey        string // the shop's backend key
	App              *app.App

	servers []*http.Server
}

// Start serves tact on tactLn and the shop on shopLn until Close, after
// putting the products into tact's catalogue and creating the shop's keys.
// The app's background jobs are the caller's to run.
func Start(ctx context.Context, a *app.App, tactLn, shopLn net.Listener, products []Product, log *slog.Logger) (*Stack, error) {
	st := &Stack{TactURL: "http://" + tactLn.Addr().String(), ShopURL: "http://" + shopLn.Addr().String(), App: a}
	var err error
	if st.WriteKey, _, err = a.Auth.Create(ctx, auth.KindWrite, "demo shop", "", []string{st.ShopURL}); err != nil {
		return nil, err
	}
	if st.ServerKey, _, err = a.Auth.Create(ctx, auth.KindServer, "demo shop backend", "", nil); err != nil {
		return nil, err
	}
	items := make([]catalog.Item, 0, len(products))
	for _, p := range products {
		items = append(items, p.Item())
	}
	if err := a.Catalog.Put(ctx, catalog.SourceImport, items...); err != nil {
		return nil, err
	}
	api := &httpapi.Server{
		Log: log, Store: a.Store, Auth: a.Auth, Consent: a.Consent, Collect: a.Collect, Measure: a.Measure, Ledger: a.Ledger,
		DataMap: func() *datamap.Map { return a.DataMap }, TokenTTL: 24 * time.Hour, PublicURL: st.TactURL,
		Rights: a.Rights, Catalog: a.Catalog, Interests: a.Interests, Personalize: a.Personalize,
		// Loopback over plain http: browsers keep Secure cookies for
		// localhost only, and the shop runs on 127.0.0.1.
		SecureCookies: false,
	}
	center := &privacy.Center{
		Consent: a.Consent, DataMap: api.DataMap, Rights: a.Rights, Personalize: a.Personalize, Interests: a.Interests,
		Theme: privacy.Theme{ShopName: "Hearth & Home", Accent: "#24323f"}, Log: log,
	}
	if err := center.Check(); err != nil {
		return nil, err
	}
	api.PrivacyCenter, api.Script = center.Handler(), tactjs.Handler()
	shop := &Shop{TactURL: st.TactURL, WriteKey: st.WriteKey, Products: products, SegmentDir: os.Getenv("TACT_AJS_DIR")}
	for _, s := range []struct {
		ln net.Listener
		h  http.Handler
	}{{tactLn, api.Handler()}, {shopLn, shop.Handler()}} {
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		st.servers = append(st.servers, srv)
		go func() {
			if err := srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("demo server", "addr", s.ln.Addr().String(), "err", err)
			}
		}()
	}
	return st, nil
}

// Close stops both servers, letting requests in flight finish.
func (st *Stack) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, s := range st.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutting down: %w", err))
		}
	}
	return errors.Join(errs...)
}
