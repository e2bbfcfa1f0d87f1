package privacy

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/rights"
)

// pageData is what page.html shows.
type pageData struct {
	Lang, OtherLang, OtherLangName string
	T                              map[string]string
	JS                             map[string]string // app.js's strings (a JSON data block)
	Shop                           string
	CSS, Script                    string // relative asset URLs with their versions

	HasCookie, Known, Expired bool
	GPC                       bool
	NoticeVersion             string
	Purposes                  []purposeRow
	Interests                 *interestsView
	Rights                    []rightRow
	HasRights                 bool
	Notice                    datamap.Notice
	Recipients                []recipientRow

	Flash        string
	FlashReceipt string
	FlashRequest string
	FlashStatus  string
}

type purposeRow struct {
	ID, Title, Description, LegalBasis string
	Required, Separate                 bool
	Checked                            bool // the switch's position: granted, or granted and pending
	Status, StatusText                 string
	Since, SinceISO, ReceiptID         string
}

type interestsView struct {
	Allowed, Paused bool
	List            []interestRow
	Muted           []string
}

type interestRow struct {
	Category string
	Strength float64 // relative to the strongest, 0 to 1
	Percent  int
}

type rightRow struct {
	Type, Title, Description, Button string
	Confirm, Reports                 bool
}

type recipientRow struct {
	Name, Role, Country, Transfer, Description string
}

// getPage renders the privacy center for the browser holding the cookie.
func (c *Center) getPage(w http.ResponseWriter, r *http.Request) error {
	loc, err := pickLocale(r)
	if err != nil {
		return err
	}
	m := c.DataMap()
	n := m.Notice(loc)
	t := texts[loc]
	d := pageData{
		Lang: loc, T: t, JS: jsTexts(loc), Shop: c.Theme.ShopName, Notice: n, NoticeVersion: n.Version,
		CSS: "privacy/app.css?v=" + c.cssVer, Script: "privacy/app.js?v=" + c.jsVer,
		GPC: r.Header.Get("Sec-GPC") == "1", HasRights: c.Rights != nil,
	}
	if d.Shop == "" {
		d.Shop = n.Controller.Name
	}
	d.OtherLang = datamap.LocaleZH
	if loc == datamap.LocaleZH {
		d.OtherLang = datamap.LocaleEN
	}
	d.OtherLangName = texts[d.OtherLang]["lang_name"]

	var subj consent.Subject
	var state map[string]consent.PurposeView
	if tok := token(r); tok != "" {
		d.HasCookie = true
		subj, state, err = c.Consent.State(r.Context(), false, consent.Lookup{SubjectToken: tok})
		switch {
		case err == nil:
			d.Known = true
			d.GPC = d.GPC || !subj.GPCAt.IsZero()
		case err == consent.ErrNoShopper:
		case tact.ErrorCode(err) == tact.EUNAUTHORIZED:
			d.Expired = true
		default:
			return err
		}
	}

	if d.Known {
		for _, p := range n.Purposes {
			v := state[p.ID]
			row := purposeRow{
				ID: p.ID, Title: p.Title, Description: p.Description, LegalBasis: p.LegalBasisText,
				Required: p.Required, Separate: p.SeparateConsent, Checked: v.Granted || v.Pending,
				Status: string(v.Status), ReceiptID: v.ReceiptID,
			}
			row.StatusText = statusText(t, v)
			if v.Since != nil {
				row.Since = v.Since.UTC().Format("2006-01-02 15:04 UTC")
				row.SinceISO = v.Since.UTC().Format(time.RFC3339)
			}
			d.Purposes = append(d.Purposes, row)
		}
		if c.Personalize != nil {
			iv, err := c.interests(r, subj.ID, state)
			if err != nil {
				return err
			}
			d.Interests = iv
		}
		if c.Rights != nil {
			for _, it := range n.Rights.Items {
				typ := rights.Type(it.Type)
				if !slices.Contains(centerTypes, typ) {
					continue
				}
				d.Rights = append(d.Rights, rightRow{
					Type: it.Type, Title: it.Title, Description: it.Description, Button: t["btn_"+it.Type],
					Confirm: typ == rights.TypeErasure, Reports: typ.Reports(),
				})
			}
		}
	}
	for _, rc := range n.Recipients {
		d.Recipients = append(d.Recipients, recipientRow{
			Name: rc.Name, Role: roleText(t, rc.Role), Country: rc.Country, Transfer: rc.TransferMechanism, Description: rc.Description,
		})
	}

	q := r.URL.Query()
	switch q.Get("done") {
	case "consent":
		d.Flash = t["done_consent"]
		if id := q.Get("receipt"); validReceiptID(id) {
			d.FlashReceipt = id
		}
	case "deleted":
		d.Flash = t["done_deleted"]
	case "paused":
		d.Flash = t["done_paused"]
	case "resumed":
		d.Flash = t["done_resumed"]
	case "request":
		d.Flash = t["done_request"]
		if id := q.Get("request"); rights.ValidID(id) {
			d.FlashRequest = id
		}
		if st := rights.Status(q.Get("status")); slices.Contains(rights.Statuses, st) {
			d.FlashStatus = t["st_"+string(st)]
		}
	}

	var buf bytes.Buffer
	if err := c.page.Execute(&buf, d); err != nil {
		return err
	}
	setPageHeaders(w)
	w.Header().Set("Content-Language", loc)
	w.Write(buf.Bytes())
	return nil
}

// interests is the profile section; Allowed is false without
// personalisation consent, and then nothing is read.
func (c *Center) interests(r *http.Request, subjectID string, state map[string]consent.PurposeView) (*interestsView, error) {
	iv := &interestsView{Allowed: state[datamap.PurposePersonalization].Granted}
	if !iv.Allowed {
		return iv, nil
	}
	prof, err := c.Interests.Profile(r.Context(), subjectID, c.Now())
	if err != nil {
		return nil, err
	}
	iv.Paused, iv.Muted = prof.Paused, prof.Muted
	top := 0.0
	for _, in := range prof.Interests {
		top = max(top, in.Score)
	}
	for _, in := range prof.Interests {
		s := 0.0
		if top > 0 {
			s = in.Score / top
		}
		iv.List = append(iv.List, interestRow{Category: in.Category, Strength: s, Percent: int(s*100 + 0.5)})
	}
	return iv, nil
}

func statusText(t map[string]string, v consent.PurposeView) string {
	switch v.Status {
	case consent.StatusRequired:
		return t["status_required"]
	case consent.StatusGranted:
		return t["status_granted"]
	case consent.StatusDenied:
		return t["status_denied"]
	case consent.StatusPending:
		return t["status_pending"]
	case consent.StatusExpired:
		return t["status_expired"]
	case consent.StatusOutdated:
		return t["status_outdated"]
	case consent.StatusRestricted:
		return t["status_restrict"]
	}
	if v.Granted {
		return t["status_def_on"]
	}
	return t["status_def_off"]
}

func roleText(t map[string]string, role string) string {
	switch role {
	case datamap.RoleProcessor:
		return t["role_processor"]
	case datamap.RoleController:
		return t["role_controller"]
	case datamap.RoleJointController:
		return t["role_joint"]
	}
	return role
}

// validReceiptID mirrors consent's receipt id shape ("rc_" and 32
// lower-case base32 characters), copied so that a URL parameter is shown
// only when it could be a receipt.
func validReceiptID(id string) bool {
	rest, ok := strings.CutPrefix(id, "rc_")
	if !ok || len(rest) != 32 {
		return false
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
