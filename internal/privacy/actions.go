package privacy

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/rights"
	"github.com/tact-cdp/tact/internal/strictjson"
)

// Bounds of what a shopper sends.
const (
	maxChoices     = 64
	maxCategoryLen = 200
	maxFieldLen    = 64
)

// shopper resolves the browser behind tact's cookie, for a POST. Every
// action needs it: the cookie is the only credential the center accepts.
func (c *Center) shopper(w http.ResponseWriter, r *http.Request) (string, consent.Subject, map[string]consent.PurposeView, error) {
	tok := token(r)
	if tok == "" {
		return "", consent.Subject{}, nil, tact.Errorf(tact.EUNAUTHORIZED, "no choices are recorded in this browser (tact's cookie is missing): make a choice in the shop's privacy banner first")
	}
	subj, state, err := c.Consent.State(r.Context(), false, consent.Lookup{SubjectToken: tok})
	if err == consent.ErrNoShopper {
		return "", subj, nil, tact.Errorf(tact.ENOTFOUND, "nothing is recorded for this browser any more")
	}
	if err != nil {
		return "", subj, nil, err
	}
	if c.limiter != nil && c.limiter.OnLimit(w, r, subj.ID) {
		return "", subj, nil, tact.Errorf(tact.ERATELIMITED, "too many changes from this browser; try again in an hour")
	}
	return tok, subj, state, nil
}

// input is a POST body, JSON (from app.js and other scripts) or a form.
type input struct {
	json bool
	form url.Values
}

// decode reads the body into v (JSON) or the form values.
func decode(r *http.Request, v any) (input, error) {
	raw, err := readBody(r)
	if err != nil {
		return input{}, err
	}
	if isJSONBody(r) {
		if len(strings.TrimSpace(string(raw))) == 0 {
			raw = []byte("{}")
		}
		if err := strictjson.Decode(raw, v); err != nil {
			return input{}, tact.Errorf(tact.EINVALID, "%v", err)
		}
		return input{json: true}, nil
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return input{}, tact.Errorf(tact.EINVALID, "the form is malformed")
	}
	for _, vs := range form {
		for _, s := range vs {
			if !utf8.ValidString(s) {
				return input{}, tact.Errorf(tact.EINVALID, "the form is not valid UTF-8")
			}
		}
	}
	if loc, err := checkLocale(form.Get("locale")); err == nil {
		noteLocale(r, loc)
	}
	return input{form: form}, nil
}

// finish answers a successful action: JSON for scripts, a redirect back to
// the page (with what was done) for form posts.
func (c *Center) finish(w http.ResponseWriter, r *http.Request, in input, status int, body any, loc string, done url.Values) error {
	w.Header().Set("Cache-Control", "no-store")
	if in.json || wantsJSON(r) {
		writeJSON(w, status, body)
		return nil
	}
	done.Set("locale", loc)
	w.Header().Set("Location", backTo(r)+"?"+done.Encode())
	w.WriteHeader(http.StatusSeeOther)
	return nil
}

type consentBody struct {
	Choices       map[string]bool `json:"choices"`
	NoticeVersion string          `json:"noticeVersion,omitempty"`
	Locale        string          `json:"locale,omitempty"`
}

// postConsent records the shopper's new choices (method privacy_center)
// and puts the rotated subject token back into tact's cookie.
func (c *Center) postConsent(w http.ResponseWriter, r *http.Request) error {
	var body consentBody
	in, err := decode(r, &body)
	if err != nil {
		return err
	}
	if !in.json {
		body.NoticeVersion, body.Locale = in.form.Get("noticeVersion"), in.form.Get("locale")
		body.Choices = map[string]bool{}
		for _, id := range in.form["decide"] {
			body.Choices[id] = false
		}
		for _, id := range in.form["grant"] {
			body.Choices[id] = true
		}
	}
	loc, err := checkLocale(body.Locale)
	if err != nil {
		return err
	}
	pol := c.Consent.Policy()
	if len(body.Choices) == 0 {
		return tact.Errorf(tact.EINVALID, "choices must decide at least one purpose")
	}
	if len(body.Choices) > maxChoices {
		return tact.Errorf(tact.EINVALID, "choices name more than %d purposes", maxChoices)
	}
	choices := map[string]bool{}
	var separate []string // separately consented purposes being granted
	for id, granted := range body.Choices {
		rule, ok := pol.Purpose(id)
		if !ok {
			return tact.Errorf(tact.EINVALID, "choices names an unknown purpose %q", truncate(id, 40))
		}
		switch {
		case rule.Required && !granted:
			return tact.Errorf(tact.EINVALID, "%s processing cannot be refused", id)
		case rule.Required:
		case rule.SeparateConsent && granted:
			separate = append(separate, id)
		default:
			choices[id] = granted
		}
	}
	if len(choices) == 0 && len(separate) == 0 {
		return tact.Errorf(tact.EINVALID, "choices must decide at least one purpose that can be refused")
	}
	if body.NoticeVersion == "" {
		body.NoticeVersion = pol.NoticeVersion
	}
	if len(body.NoticeVersion) > maxFieldLen {
		return tact.Errorf(tact.EINVALID, "noticeVersion does not name a published notice")
	}
	tok, _, _, err := c.shopper(w, r)
	if err != nil {
		return err
	}

	// A separately consented purpose is granted in a decision of its own
	// (consent.Service refuses it alongside other grants); the switches
	// on the page are separate acts, so each becomes its own receipt.
	slices.Sort(separate)
	batches := []map[string]bool{}
	grants := 0
	for _, g := range choices {
		if g {
			grants++
		}
	}
	switch {
	case len(separate) == 0:
		batches = append(batches, choices)
	case len(separate) == 1 && grants == 0:
		choices[separate[0]] = true
		batches = append(batches, choices)
	default:
		if len(choices) > 0 {
			batches = append(batches, choices)
		}
		for _, id := range separate {
			batches = append(batches, map[string]bool{id: true})
		}
	}

	gpc := r.Header.Get("Sec-GPC") == "1"
	var first string
	var all []string
	var last, rotated *consent.Result
	for _, b := range batches {
		res, err := c.Consent.Record(r.Context(), consent.Caller{}, consent.Request{
			SubjectToken: tok, NoticeVersion: body.NoticeVersion, Choices: b,
			Method: consent.MethodPrivacyCenter, GPC: gpc, Locale: loc,
		})
		if err != nil {
			if rotated != nil {
				// The earlier decisions stand, and rotated the token.
				c.setSubjectCookie(w, rotated.SubjectToken, rotated.TokenExpires)
			}
			return err
		}
		last = res
		if res.SubjectToken != "" {
			tok, rotated = res.SubjectToken, res
		}
		if first == "" {
			first = res.ReceiptID
		}
		all = append(all, res.ReceiptIDs...)
	}
	if rotated != nil {
		c.setSubjectCookie(w, rotated.SubjectToken, rotated.TokenExpires)
	}
	return c.finish(w, r, in, http.StatusCreated,
		map[string]any{"receiptId": first, "receiptIds": all, "state": last.State},
		loc, url.Values{"done": {"consent"}, "receipt": {first}})
}

type categoryBody struct {
	Category string `json:"category"`
	Locale   string `json:"locale,omitempty"`
}

// postDeleteInterest removes a category from the profile and mutes it.
func (c *Center) postDeleteInterest(w http.ResponseWriter, r *http.Request) error {
	var body categoryBody
	in, err := decode(r, &body)
	if err != nil {
		return err
	}
	if !in.json {
		body.Category, body.Locale = in.form.Get("category"), in.form.Get("locale")
	}
	loc, err := checkLocale(body.Locale)
	if err != nil {
		return err
	}
	if c.Personalize == nil {
		return tact.Errorf(tact.ENOTFOUND, "this shop does not personalise")
	}
	category := strings.Trim(strings.TrimSpace(body.Category), "/")
	if category == "" {
		return tact.Errorf(tact.EINVALID, "name the category to delete")
	}
	if len(category) > maxCategoryLen || strings.IndexFunc(category, unicode.IsControl) >= 0 {
		return tact.Errorf(tact.EINVALID, "category is not a category name")
	}
	_, subj, _, err := c.shopper(w, r)
	if err != nil {
		return err
	}
	if err := c.Personalize.DeleteInterest(r.Context(), subj.ID, category); err != nil {
		return err
	}
	return c.finish(w, r, in, http.StatusOK, map[string]any{"deleted": category}, loc, url.Values{"done": {"deleted"}})
}

type localeBody struct {
	Locale string `json:"locale,omitempty"`
}

// postPause pauses or resumes personalisation.
func (c *Center) postPause(w http.ResponseWriter, r *http.Request, paused bool) error {
	var body localeBody
	in, err := decode(r, &body)
	if err != nil {
		return err
	}
	if !in.json {
		body.Locale = in.form.Get("locale")
	}
	loc, err := checkLocale(body.Locale)
	if err != nil {
		return err
	}
	if c.Personalize == nil {
		return tact.Errorf(tact.ENOTFOUND, "this shop does not personalise")
	}
	_, subj, _, err := c.shopper(w, r)
	if err != nil {
		return err
	}
	done := "resumed"
	if paused {
		err, done = c.Personalize.Pause(r.Context(), subj.ID), "paused"
	} else {
		err = c.Personalize.Resume(r.Context(), subj.ID)
	}
	if err != nil {
		return err
	}
	return c.finish(w, r, in, http.StatusOK, map[string]any{"paused": paused}, loc, url.Values{"done": {done}})
}

type requestBody struct {
	Type         string   `json:"type"`
	Purposes     []string `json:"purposes,omitempty"`
	Jurisdiction string   `json:"jurisdiction,omitempty"`
	Locale       string   `json:"locale,omitempty"`
	Confirm      bool     `json:"confirm,omitempty"`
}

// centerTypes are the requests the center files. Rectification is left to
// the email flow: it names corrected data, which an anonymous browser
// profile does not hold.
var centerTypes = []rights.Type{rights.TypeAccess, rights.TypePortability, rights.TypeErasure, rights.TypeRestrict,
	rights.TypeObject, rights.TypeWithdraw, rights.TypeOptOutSale, rights.TypeLimitSensitive, rights.TypeExplain}

// postRequest files a rights request as the browser's own anonymous
// profile: the subject token proves it, as POST /v1/requests accepts.
func (c *Center) postRequest(w http.ResponseWriter, r *http.Request) error {
	var body requestBody
	in, err := decode(r, &body)
	if err != nil {
		return err
	}
	if !in.json {
		body.Type, body.Jurisdiction, body.Locale = in.form.Get("type"), in.form.Get("jurisdiction"), in.form.Get("locale")
		body.Purposes = in.form["purpose"]
		switch in.form.Get("confirm") {
		case "yes", "on", "true":
			body.Confirm = true
		}
	}
	loc, err := checkLocale(body.Locale)
	if err != nil {
		return err
	}
	if c.Rights == nil {
		return tact.Errorf(tact.ENOTFOUND, "rights requests are not handled here")
	}
	typ := rights.Type(body.Type)
	if !slices.Contains(centerTypes, typ) {
		names := make([]string, len(centerTypes))
		for i, t := range centerTypes {
			names[i] = string(t)
		}
		return tact.Errorf(tact.EINVALID, "type must be one of %s (rectification: ask with your email address)", strings.Join(names, ", "))
	}
	if typ == rights.TypeErasure && !body.Confirm {
		return tact.Errorf(tact.EINVALID, "erasure deletes this browser's data for good: confirm it")
	}
	if len(body.Jurisdiction) > maxFieldLen || len(body.Purposes) > maxChoices {
		return tact.Errorf(tact.EINVALID, "jurisdiction or purposes are too long")
	}
	tok, _, _, err := c.shopper(w, r)
	if err != nil {
		return err
	}
	filed, err := c.Rights.File(r.Context(), rights.Caller{}, rights.Filing{
		Type: typ, SubjectToken: tok, Jurisdiction: body.Jurisdiction, Locale: loc, Purposes: body.Purposes,
	})
	if err != nil {
		return err
	}
	ans := map[string]any{"requestId": filed.ID, "status": filed.Status, "dueAt": filed.DueAt.Format(time.RFC3339)}
	if filed.RequestToken != "" {
		// The same answer POST /v1/requests gives the holder of the
		// subject token: app.js uses it to fetch the report.
		ans["requestToken"] = filed.RequestToken
	}
	if len(filed.ReceiptIDs) > 0 {
		ans["receiptIds"] = filed.ReceiptIDs
	}
	return c.finish(w, r, in, http.StatusAccepted, ans, loc,
		url.Values{"done": {"request"}, "request": {filed.ID}, "status": {string(filed.Status)}})
}
