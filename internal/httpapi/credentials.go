package httpapi

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/subjecttoken"
)

// subjectCookie holds the browser's subject token: HttpOnly so no script on
// the shop's page can read it (DESIGN 4).
const subjectCookie = "tact_st"

func isBearer(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// secretFromHeader returns the credential of the Authorization header:
// Basic with the secret as user name (Segment SDKs), or Bearer.
func secretFromHeader(r *http.Request) (secret string, bearer bool, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false, nil
	}
	scheme, value, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil {
			return "", false, tact.Errorf(tact.EUNAUTHORIZED, "malformed Basic credentials")
		}
		user, _, _ := strings.Cut(string(raw), ":")
		return user, false, nil
	case "bearer":
		return strings.TrimSpace(value), true, nil
	}
	return "", false, tact.Errorf(tact.EUNAUTHORIZED, "Authorization must be Basic or Bearer")
}

// writeCredential authenticates an event or consent write: the key from
// Basic auth, or writeKey from the body when there is no Authorization
// header (navigator.sendBeacon cannot set headers). A Bearer header may then
// carry a subject token.
func (s *Server) writeCredential(r *http.Request, bodyKey string) (auth.Principal, string, error) {
	secret, bearer, err := secretFromHeader(r)
	if err != nil {
		return auth.Principal{}, "", err
	}
	token := ""
	if bearer && subjecttoken.LooksLikeToken(secret) {
		token, secret = secret, ""
	}
	if secret == "" {
		secret = bodyKey
	}
	if secret == "" {
		return auth.Principal{}, "", tact.Errorf(tact.EUNAUTHORIZED, "a write key or server key is required (Basic auth, or writeKey in the body)")
	}
	p, err := s.Auth.Authenticate(r.Context(), secret)
	if err != nil {
		return p, "", err
	}
	if p.Kind != auth.KindWrite && p.Kind != auth.KindServer {
		return p, "", tact.Errorf(tact.EFORBIDDEN, "this credential cannot write events or consent")
	}
	return p, token, nil
}

// readCredential authenticates a read: a server key or admin token as
// Bearer (or Basic), or a subject token (Bearer or the HttpOnly cookie).
func (s *Server) readCredential(r *http.Request) (p *auth.Principal, subjectToken string, err error) {
	secret, _, err := secretFromHeader(r)
	if err != nil {
		return nil, "", err
	}
	if secret != "" && subjecttoken.LooksLikeToken(secret) {
		return nil, secret, nil
	}
	if secret != "" {
		pr, err := s.Auth.Authenticate(r.Context(), secret)
		if err != nil {
			return nil, "", err
		}
		return &pr, "", nil
	}
	if c, err := r.Cookie(subjectCookie); err == nil && c.Value != "" {
		return nil, c.Value, nil
	}
	return nil, "", tact.Errorf(tact.EUNAUTHORIZED, "a server key, an admin token or the shopper's subject token is required")
}

func (s *Server) setSubjectCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: subjectCookie, Value: token, Path: "/",
		MaxAge: int(s.TokenTTL.Seconds()), HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}
