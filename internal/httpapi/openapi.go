package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPI documents the /v1 routes; a test keeps it in sync with routes().
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request) error {
	s.allowOrigin(w, r, nil)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(openAPI)
	return err
}

// Patterns lists the method-and-path patterns of every route handle
// registered, in order (for the OpenAPI sync test).
func (s *Server) Patterns() []string { return s.patterns }
