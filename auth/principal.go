// Package auth handles accounts: password hashing, session cookies, API
// tokens, and the middleware that puts the signed-in user on a request's
// context; and the account flows (accounts.go): email verification,
// password reset and change, ending sessions, deleting an account, with
// single-use expiring tokens for what is mailed.
package auth

import (
	"context"
	"net/http"

	"github.com/birjob/birjob/internal/httpx"
)

// Principal is the signed-in user of a request.
type Principal struct {
	UserID int64
	Email  string
	Admin  bool
	// TokenHash names the credential (session cookie or bearer token) the
	// request was signed in with: the hex of its stored hash
	// (storage.HashToken), as the birjob_sessions notification carries it
	// when the credential ends. Empty when not signed in by a credential.
	TokenHash string
	// EmailVerified says the account confirmed its address (see
	// BIRJOB_REQUIRE_EMAIL_VERIFICATION).
	EmailVerified bool
	// SessionID is the public id of that credential's row (0: none), and
	// APIToken says it is an API token rather than a session cookie.
	SessionID int64
	APIToken  bool
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// PrincipalFrom returns the signed-in user of ctx, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

type uncheckedKey struct{}

// Unchecked reports whether the request carried a credential that could
// not be checked (the database was unreachable), so that its anonymity is
// not the client's: answer 503 with Retry-After, not 401.
func Unchecked(ctx context.Context) bool {
	v, _ := ctx.Value(uncheckedKey{}).(bool)
	return v
}

// UncheckedMessage is the answer to a request whose credential could not
// be checked.
const UncheckedMessage = "your sign-in cannot be checked right now (the database is unreachable); try again in a few seconds"

// RequireUser returns the signed-in user, or answers 401 (503 with
// Retry-After when the credential could not be checked) and returns false.
func RequireUser(w http.ResponseWriter, r *http.Request) (Principal, bool) {
	p, ok := PrincipalFrom(r.Context())
	if !ok && Unchecked(r.Context()) {
		httpx.ServiceUnavailable(w, UncheckedMessage)
		return Principal{}, false
	}
	if !ok {
		httpx.Error(w, http.StatusUnauthorized, "sign in first (session cookie or Authorization: Bearer token)")
		return Principal{}, false
	}
	return p, true
}

// RequireAdmin returns the signed-in admin, or answers 401/403 and returns
// false.
func RequireAdmin(w http.ResponseWriter, r *http.Request) (Principal, bool) {
	p, ok := RequireUser(w, r)
	if !ok {
		return p, false
	}
	if !p.Admin {
		httpx.Error(w, http.StatusForbidden, "this needs an admin account")
		return p, false
	}
	return p, true
}
