package httpapi_test

import (
	"context"
	"testing"

	"github.com/tact-cdp/tact/internal/vault"
)

func TestInterestProfileTheShopperControls(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		browser := func(choices map[string]any) (anon, token string) {
			out := e.decide(201, map[string]any{"choices": choices}, basic(e.writeKey))
			return out["anonymousId"].(string), out["subjectToken"].(string)
		}
		anon, tok := browser(map[string]any{"analytics": true, "personalization": true})
		_, other := browser(map[string]any{"personalization": true})
		view := func(cat string) map[string]any {
			return productViewed(map[string]any{"anonymousId": anon}, map[string]any{"properties": map[string]any{"product_id": "p-" + cat, "category": cat}})
		}
		e.batch(e.writeKey, []map[string]any{view("Home/Lamps"), view("Home/Lamps"), view("Toys"), view("Health/Vitamins"),
			{"type": "track", "event": "Order Completed", "anonymousId": anon, "messageId": nextMessageID(),
				"properties": map[string]any{"order_id": "o1", "products": []any{map[string]any{"product_id": "l1", "category": "Home/Lamps"}}}}})
		if err := e.app.Interests.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		get := func(token string) map[string]any {
			t.Helper()
			code, out, _ := e.do("GET", "/v1/interests", nil, bearer(token))
			if code != 200 {
				t.Fatalf("GET /v1/interests: %d %v", code, out)
			}
			return out
		}
		cats := func(out map[string]any) []string {
			var c []string
			for _, in := range out["interests"].([]any) {
				c = append(c, in.(map[string]any)["category"].(string))
			}
			return c
		}
		got := cats(get(tok))
		if len(got) != 2 || got[0] != "Home/Lamps" || got[1] != "Toys" {
			t.Fatalf("profile %v, want [Home/Lamps Toys] (strongest first; the sensitive Health never learnt)", got)
		}
		// Another shopper's token reads and changes only their own.
		if c := cats(get(other)); len(c) != 0 {
			t.Errorf("another shopper sees %v", c)
		}
		for _, r := range []struct{ method, path string }{
			{"DELETE", "/v1/interests/Home/Lamps"}, {"POST", "/v1/interests/pause"},
		} {
			if code, _, _ := e.do(r.method, r.path, nil, bearer(other)); code/100 != 2 {
				t.Errorf("%s %s with another token: %d", r.method, r.path, code)
			}
		}
		if got := get(tok); len(cats(got)) != 2 || got["paused"] != false {
			t.Errorf("another shopper's token changed this profile: %v", got)
		}
		if code, _, _ := e.do("GET", "/v1/interests", nil); code != 401 {
			t.Errorf("without a token: %d", code)
		}
		if code, _, _ := e.do("GET", "/v1/interests", nil, bearer(e.server)); code != 401 {
			t.Errorf("with a server key: %d (the profile is the shopper's)", code)
		}

		// Delete a category; pause (nothing learnt while paused); resume.
		if code, _, _ := e.do("DELETE", "/v1/interests/Toys", nil, bearer(tok)); code != 204 {
			t.Fatalf("DELETE: %d", code)
		}
		e.do("POST", "/v1/interests/pause", nil, bearer(tok))
		e.batch(e.writeKey, []map[string]any{view("Garden")})
		e.app.Interests.Flush(ctx)
		out := get(tok)
		if c := cats(out); len(c) != 1 || c[0] != "Home/Lamps" || out["paused"] != true || out["personalized"] != false {
			t.Errorf("after delete and pause: %v", out)
		}
		e.do("POST", "/v1/interests/resume", nil, bearer(tok))
		if out := get(tok); out["paused"] != false {
			t.Errorf("after resume: %v", out)
		}

		// Withdrawing personalisation empties it at once; the strip job
		// deletes it.
		e.decide(201, map[string]any{"anonymousId": anon, "subjectToken": tok, "choices": map[string]any{"personalization": false}}, basic(e.writeKey))
		if c := cats(get(tok)); len(c) != 0 {
			t.Errorf("after the withdrawal: %v", c)
		}
		e.strip()
		sh, err := e.app.Consent.Store().Identity(ctx, anonPseudonym(e, anon))
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := e.app.Store.Interests().Interests(ctx, sh.SubjectID); len(p.Interests) != 0 {
			t.Errorf("the strip job left the profile: %v", p.Interests)
		}
	})
}

func TestHowItWorks(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, loc := range []string{"en", "zh-CN"} {
			code, out, _ := e.do("GET", "/v1/personalize/how-it-works?locale="+loc, nil)
			if code != 200 || out["locale"] != loc || len(out["sections"].([]any)) < 4 {
				t.Errorf("%s: %d %v", loc, code, out)
			}
		}
	})
}

func anonPseudonym(e *env, anon string) vault.Pseudonym {
	return e.app.Vault.Pseudonym(vault.UseIdentity, vault.KindAnonymousID, anon)
}

// The landing choice is personal only with consent and enough signal.
func TestLandingChoice(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		landing := func(q string, opt reqOpt) map[string]any {
			t.Helper()
			code, out, _ := e.do("GET", "/v1/personalize/landing"+q, nil, opt)
			if code != 200 {
				t.Fatalf("landing %s: %d %v", q, code, out)
			}
			return out
		}
		// Unknown shopper: the shop's default, never an error.
		if out := landing("?userId=nobody", bearer(e.server)); out["section"] != nil || out["personalized"] != false {
			t.Errorf("unknown shopper: %v", out)
		}
		e.grant("max-1", map[string]any{"personalization": true})
		view := func(cat string) map[string]any {
			return productViewed(map[string]any{"userId": "max-1"}, map[string]any{"properties": map[string]any{"product_id": "p", "category": cat}})
		}
		e.batch(e.server, []map[string]any{view("Menswear/Shirts")})
		e.app.Interests.Flush(ctx)
		if out := landing("?userId=max-1", bearer(e.server)); out["section"] != nil {
			t.Errorf("one view is not enough signal: %v", out)
		}
		e.batch(e.server, []map[string]any{view("Menswear/Shoes"), view("Menswear/Shirts"), view("Home/Lamps")})
		e.app.Interests.Flush(ctx)
		out := landing("?userId=max-1&locale=en", bearer(e.server))
		reason, _ := out["reason"].(map[string]any)
		if out["section"] != "Menswear" || out["personalized"] != true || reason["code"] != "interest" || out["confidence"].(float64) < 0.7 {
			t.Errorf("landing: %v", out)
		}
		e.grant("max-1", map[string]any{"personalization": false})
		if out := landing("?userId=max-1", bearer(e.server)); out["section"] != nil || out["personalized"] != false {
			t.Errorf("after the withdrawal: %v", out)
		}
		if code, _, _ := e.do("GET", "/v1/personalize/landing?userId=max-1&anonymousId=a", nil, bearer(e.server)); code != 400 {
			t.Errorf("two identifiers: %d", code)
		}
		if code, _, _ := e.do("GET", "/v1/personalize/landing?userId=max-1", nil, bearer(e.admin)); code != 403 {
			t.Errorf("an admin token: %d", code)
		}
	})
}
