// Package auth handles accounts: password hashing, session cookies, API
// tokens, and the middleware that puts the signed-in user on a request's
// context.
package auth

import "context"

// Principal is the signed-in user of a request.
type Principal struct {
	UserID int64
	Email  string
	Admin  bool
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
