package httpapi

import (
	"io"
	"net/http"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/catalog"
)

// putItem stores one catalogue item (server key).
func (s *Server) putItem(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.readCredential(r)
	if err != nil {
		return err
	}
	if p == nil || p.Kind != auth.KindServer {
		return tact.Errorf(tact.EFORBIDDEN, "catalogue items are put with a server key")
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	it, err := catalog.DecodeBody(raw, r.PathValue("id"))
	if err != nil {
		if tact.ErrorCode(err) == tact.EINTERNAL {
			err = tact.Errorf(tact.EINVALID, "%v", err)
		}
		return err
	}
	if err := s.Catalog.Put(r.Context(), catalog.SourceAPI, it); err != nil {
		return err
	}
	stored, err := s.Catalog.Item(r.Context(), it.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, itemView(s.Catalog, stored))
	return nil
}

func itemView(c *catalog.Service, it catalog.Item) map[string]any {
	v := map[string]any{
		"id": it.ID, "name": it.Name, "category": it.Category, "available": it.Available,
		"sensitive": c.Sensitive(it), "repeatPurchase": it.RepeatPurchase, "source": it.Source, "updatedAt": it.UpdatedAt.Format(time.RFC3339),
	}
	if it.PriceCents > 0 {
		v["price"] = float64(it.PriceCents) / 100
	}
	if it.Currency != "" {
		v["currency"] = it.Currency
	}
	return v
}
