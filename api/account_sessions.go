package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/storage"
)

// The user's sessions (sign-ins with the cookie) and API tokens, listed
// and revoked. Revoking deletes the auth_tokens row: the credential is
// refused from the next request on (a bearer token with 401), and the
// streams it opened end on every node (migration 007's trigger).

type sessionOut struct {
	ID         string     `json:"id"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  *time.Time `json:"expiresAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	UserAgent  string     `json:"userAgent"`
	Current    bool       `json:"current"`
}

type tokenOut struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	ExpiresAt  *time.Time `json:"expiresAt"`
}

// listSessions answers GET /api/me/sessions, newest first; "current" marks
// the one the request came with.
func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return
	}
	rows, err := s.store.ListSessions(r.Context(), p.UserID, storage.TokenSession)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	out := make([]sessionOut, 0, len(rows))
	for _, t := range rows {
		out = append(out, sessionOut{ID: strconv.FormatInt(t.ID, 10), CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt,
			LastUsedAt: t.LastUsedAt, UserAgent: t.UserAgent, Current: t.ID == p.SessionID && !p.APIToken})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// listTokens answers GET /api/tokens: the API tokens, never their secret.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return
	}
	rows, err := s.store.ListSessions(r.Context(), p.UserID, storage.TokenAPI)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	out := make([]tokenOut, 0, len(rows))
	for _, t := range rows {
		out = append(out, tokenOut{ID: strconv.FormatInt(t.ID, 10), Name: t.Name, CreatedAt: t.CreatedAt,
			LastUsedAt: t.LastUsedAt, ExpiresAt: t.ExpiresAt})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// revokeSession answers DELETE /api/me/sessions/{id} (204). Revoking the
// current session signs this browser out too, and clears its cookie.
func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request) {
	s.revoke(w, r, storage.TokenSession, "session")
}

// revokeToken answers DELETE /api/tokens/{id} (204).
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	s.revoke(w, r, storage.TokenAPI, "API token")
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request, kind, what string) {
	p, id, ok := userAndID(w, r)
	if !ok {
		return
	}
	err := s.store.DeleteSession(r.Context(), p.UserID, kind, id)
	if s.notFound(w, r, err, what) {
		return
	}
	if kind == storage.TokenSession && id == p.SessionID && !p.APIToken {
		auth.ClearSessionCookie(w)
	}
	w.WriteHeader(http.StatusNoContent)
}
