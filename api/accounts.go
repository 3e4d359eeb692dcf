package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/storage"
)

// The account API: sign up, sign in, sign out, who am I, bearer tokens
// (this file); email verification, password reset, change and account
// deletion (account_flows.go); the lists of sessions and API tokens and
// their revocation (account_sessions.go). Passwords, sessions, mailed
// tokens and the sign-in limits are package auth's; these handlers only
// speak HTTP for it. The contract the page is built against is the README's
// API section.

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// meResponse is the account as signup, login, GET /api/me, verify and the
// password routes answer it. The session token stays in its HttpOnly
// cookie, never in a body a script could read: a script that wants a
// bearer token asks POST /api/tokens for one of its own.
type meResponse struct {
	ID            int64     `json:"id"`
	Email         string    `json:"email"`
	Admin         bool      `json:"admin"`
	EmailVerified bool      `json:"emailVerified"`
	CreatedAt     time.Time `json:"createdAt"`
}

func account(u storage.User) meResponse {
	return meResponse{ID: u.ID, Email: u.Email, Admin: u.Admin, EmailVerified: u.EmailVerified(), CreatedAt: u.CreatedAt}
}

// AccountMailer sends the mails of the account flows: the link that
// confirms an address and the one that resets a password (the app passes
// courier's AccountMailer: SMTP, or the admin's outbox).
type AccountMailer interface {
	MailVerification(ctx context.Context, to, token string) error
	MailPasswordReset(ctx context.Context, to, token string) error
}

// WithAccounts sets the mailer of the account flows (nil: no mails; the
// routes that only send one answer 503) and whether an account must
// confirm its address before it may create or change alerts and push
// subscriptions (BIRJOB_REQUIRE_EMAIL_VERIFICATION).
func (s *Server) WithAccounts(m AccountMailer, requireVerification bool) *Server {
	s.mailer, s.requireVerification = m, requireVerification
	return s
}

func (s *Server) accountRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/signup", s.signup)
	mux.HandleFunc("POST /api/login", s.login)
	mux.HandleFunc("POST /api/logout", s.logout)
	mux.HandleFunc("GET /api/me", s.me)
	mux.HandleFunc("DELETE /api/me", s.deleteAccount)
	mux.HandleFunc("POST /api/me/verification", s.resendVerification)
	mux.HandleFunc("POST /api/verify", s.verify)
	mux.HandleFunc("POST /api/password/forgot", s.forgotPassword)
	mux.HandleFunc("POST /api/password/reset", s.resetPassword)
	mux.HandleFunc("PUT /api/me/password", s.changePassword)
	mux.HandleFunc("GET /api/me/sessions", s.listSessions)
	mux.HandleFunc("DELETE /api/me/sessions/{id}", s.revokeSession)
	mux.HandleFunc("GET /api/tokens", s.listTokens)
	mux.HandleFunc("POST /api/tokens", s.createToken)
	mux.HandleFunc("DELETE /api/tokens/{id}", s.revokeToken)
}

func (s *Server) signup(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if !httpx.DecodeJSON(w, r, &c) {
		return
	}
	c.Email = strings.TrimSpace(c.Email)
	if err := s.auth.AllowAction(r.Context(), "signup", auth.ClientIP(r)); err != nil {
		limitedOrFailed(w, r, err)
		return
	}
	u, err := s.auth.Signup(r.Context(), c.Email, c.Password)
	switch {
	case errors.Is(err, storage.ErrConflict):
		httpx.Error(w, http.StatusConflict, "an account with this email exists; sign in instead")
		return
	case errors.As(err, new(*auth.InvalidError)):
		httpx.Error(w, http.StatusBadRequest, err.Error())
		return
	case err != nil:
		httpx.ServerError(w, r, err)
		return
	}
	s.mailVerification(r.Context(), u)
	s.signedIn(w, r, u, http.StatusCreated)
}

func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
	httpx.Errorf(w, http.StatusTooManyRequests, "too many attempts; try again in %d seconds", int(wait.Seconds())+1)
}

// limitedOrFailed answers an error of the sign-in limits: 429 with
// Retry-After when the attempt was refused, else as httpx.ServerError (503
// with Retry-After when the database is away); nothing when the client
// left while its sign-in was slowed down.
func limitedOrFailed(w http.ResponseWriter, r *http.Request, err error) {
	var le *auth.LimitedError
	switch {
	case errors.As(err, &le):
		tooMany(w, le.Wait)
	case r.Context().Err() != nil:
	default:
		httpx.ServerError(w, r, err)
	}
}

func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, u storage.User, status int) {
	tok, exp, err := s.auth.StartSessionFor(r.Context(), u.ID, r.UserAgent())
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	auth.SetSessionCookie(w, r, tok, exp)
	httpx.WriteJSON(w, status, account(u))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if !httpx.DecodeJSON(w, r, &c) {
		return
	}
	c.Email = strings.TrimSpace(c.Email)
	u, err := s.auth.SignIn(r.Context(), auth.ClientIP(r), c.Email, c.Password)
	if errors.Is(err, auth.ErrBadCredentials) {
		httpx.Error(w, http.StatusUnauthorized, err.Error())
		return
	}
	if err != nil {
		limitedOrFailed(w, r, err)
		return
	}
	s.signedIn(w, r, u, http.StatusOK)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.auth.EndSession(r.Context(), r); err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	auth.ClearSessionCookie(w)
	httpx.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return
	}
	u, err := s.store.UserByID(r.Context(), p.UserID)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, account(u))
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return
	}
	var body struct {
		Name string `json:"name"`
	}
	if r.ContentLength != 0 && !httpx.DecodeJSON(w, r, &body) {
		return
	}
	if len(body.Name) > 100 {
		httpx.Error(w, http.StatusBadRequest, "name must be at most 100 characters")
		return
	}
	tok, row, err := s.auth.NewAPIToken(r.Context(), p.UserID, body.Name)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{"id": strconv.FormatInt(row.ID, 10), "token": tok,
		"name": body.Name, "type": "Bearer", "createdAt": row.CreatedAt})
}
