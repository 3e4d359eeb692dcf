package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/storage"
)

// Defaults.
const (
	// CookieName is the session cookie.
	CookieName = "birjob_session"
	// SessionTTL is how long a sign-in lasts.
	SessionTTL = 30 * 24 * time.Hour
	// DefaultHashCost makes one bcrypt hash take tens of milliseconds: slow
	// for an attacker with a stolen table, fine for a person signing in.
	DefaultHashCost = 11
	// MinPasswordLen is the shortest password accepted.
	MinPasswordLen = 8
)

// ErrBadCredentials is returned for a wrong email or password (one error
// for both, so that accounts cannot be probed).
var ErrBadCredentials = errors.New("wrong email or password")

// Service is the account system: it hashes passwords, issues and resolves
// session cookies and API tokens, and limits sign-in attempts (limiter.go).
// The account API on top of it is served by package api (accounts.go).
type Service struct {
	store    *storage.Store
	hashCost int
	now      func() time.Time // nil: time.Now (accounts.go)
	log      *slog.Logger

	limits *Limiter
}

// Option configures a Service.
type Option func(*Service)

// WithHashCost sets the bcrypt cost (tests use bcrypt.MinCost).
func WithHashCost(cost int) Option { return func(s *Service) { s.hashCost = cost } }

// WithLimits sets the sign-in limits (default DefaultLimits).
func WithLimits(l Limits) Option {
	return func(s *Service) { s.limits = NewLimiter(s.store, l, s.log) }
}

// NewService returns the account service.
func NewService(store *storage.Store, log *slog.Logger, opts ...Option) *Service {
	s := &Service{store: store, hashCost: DefaultHashCost, log: log}
	for _, o := range opts {
		o(s)
	}
	if s.limits == nil {
		s.limits = NewLimiter(store, DefaultLimits(), log)
	}
	return s
}

// HashPassword hashes a password with bcrypt.
func (s *Service) HashPassword(pw string) (string, error) {
	if len(pw) > 72 {
		return "", invalid("password must be at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), s.hashCost)
	return string(h), err
}

// InvalidError says what is wrong with user input; handlers answer it with
// 400 and its message.
type InvalidError struct{ Msg string }

func (e *InvalidError) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &InvalidError{Msg: fmt.Sprintf(format, args...)}
}

// ValidateCredentials checks the shape of an email and password.
func ValidateCredentials(email, pw string) error {
	if email == "" {
		return invalid("email is required")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 {
		return invalid("%q is not an email address", email)
	}
	if len(pw) < MinPasswordLen {
		return invalid("password must have at least %d characters", MinPasswordLen)
	}
	if len(pw) > 72 {
		return invalid("password must be at most 72 bytes")
	}
	return nil
}

// BootstrapAdmin creates or updates the admin account from configuration.
func (s *Service) BootstrapAdmin(ctx context.Context, email, pw string) (storage.User, error) {
	if err := ValidateCredentials(email, pw); err != nil {
		return storage.User{}, fmt.Errorf("admin: %w", err)
	}
	h, err := s.HashPassword(pw)
	if err != nil {
		return storage.User{}, err
	}
	return s.store.UpsertAdmin(ctx, email, h)
}

// Signup creates a (non-admin) account.
func (s *Service) Signup(ctx context.Context, email, pw string) (storage.User, error) {
	if err := ValidateCredentials(email, pw); err != nil {
		return storage.User{}, err
	}
	h, err := s.HashPassword(pw)
	if err != nil {
		return storage.User{}, err
	}
	return s.store.CreateUser(ctx, email, h, false)
}

// Authenticate checks an email and password.
func (s *Service) Authenticate(ctx context.Context, email, pw string) (storage.User, error) {
	u, err := s.store.UserByEmail(ctx, email)
	if errors.Is(err, storage.ErrNotFound) {
		// Spend the same time as a real check, so timing does not tell
		// which emails have accounts.
		_ = bcrypt.CompareHashAndPassword([]byte("$2a$11$C6UzMDM.H6dfI/f/IKxGhu6EnsSO3h6c6dOBSb2Ue8t2XfxGSP6Lm"), []byte(pw))
		return storage.User{}, ErrBadCredentials
	}
	if err != nil {
		return storage.User{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pw)) != nil {
		return storage.User{}, ErrBadCredentials
	}
	return u, nil
}

// NewToken returns a random token with a prefix saying what it is.
func NewToken(prefix string) string {
	var b [32]byte
	rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// StartSession creates a session for the user and returns its token.
func (s *Service) StartSession(ctx context.Context, userID int64) (string, time.Time, error) {
	tok := NewToken("bjs_")
	exp := time.Now().Add(SessionTTL)
	if err := s.store.CreateToken(ctx, userID, tok, storage.TokenSession, "", &exp); err != nil {
		return "", exp, err
	}
	return tok, exp, nil
}

// CreateAPIToken creates a bearer token for scripts.
func (s *Service) CreateAPIToken(ctx context.Context, userID int64, name string) (string, error) {
	tok := NewToken("bjt_")
	if err := s.store.CreateToken(ctx, userID, tok, storage.TokenAPI, name, nil); err != nil {
		return "", err
	}
	return tok, nil
}

// Credential returns the token a request carries: a bearer token, else the
// session cookie.
func Credential(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok), true
		}
	}
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

// Middleware resolves the request's credential and puts the user on its
// context. Requests without one pass through anonymous, and so do those
// whose credential cannot be checked because the database is unreachable
// (marked: Unchecked; RequireUser answers them 503 with Retry-After, not
// 401, which would sign the page out); a bearer token that
// resolves to nobody is refused with 401, so a script with a revoked token
// learns it at once. Cross-origin state-changing browser requests are
// refused by http.CrossOriginProtection (Origin / Sec-Fetch-Site), so
// same-origin pages and non-browser clients need no CSRF token.
func (s *Service) Middleware(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.Error(w, http.StatusForbidden, "cross-origin request refused (CSRF protection); send it from the birjob page or without browser Origin headers")
	}))
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := Credential(r)
		if ok {
			u, sess, err := s.store.SessionByToken(r.Context(), tok)
			switch {
			case err == nil:
				s.touch(r.Context(), sess)
				p := Principal{UserID: u.ID, Email: u.Email, Admin: u.Admin, TokenHash: hex.EncodeToString(sess.Hash),
					EmailVerified: u.EmailVerified(), SessionID: sess.ID, APIToken: sess.Kind == storage.TokenAPI}
				r = r.WithContext(WithPrincipal(r.Context(), p))
			case errors.Is(err, storage.ErrNotFound):
				if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
					httpx.Error(w, http.StatusUnauthorized, "the bearer token is unknown, revoked or expired")
					return
				}
				// A stale cookie: forget it and go on anonymous.
				ClearSessionCookie(w)
			case httpx.Unavailable(err):
				// The database is down: go on anonymous, marked, so that
				// what needs a user answers 503 (RequireUser) and the
				// rest (the page, public lists and streams) still serves.
				s.log.Warn("auth: credential not checked, database unreachable", "err", err)
				r = r.WithContext(context.WithValue(r.Context(), uncheckedKey{}, true))
			default:
				httpx.ServerError(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
	return cop.Handler(inner)
}

// SignIn checks an email and password for a client at addr (ClientIP)
// within the sign-in limits (limiter.go): a *LimitedError when the
// attempt is refused, ErrBadCredentials when the email or password is
// wrong, the database's error when it cannot be reached.
func (s *Service) SignIn(ctx context.Context, addr, email, pw string) (storage.User, error) {
	att, err := s.limits.Attempt(ctx, addr, email)
	if err != nil {
		return storage.User{}, err
	}
	if att.Delay > 0 {
		t := time.NewTimer(att.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return storage.User{}, ctx.Err()
		case <-t.C:
		}
	}
	u, err := s.Authenticate(ctx, email, pw)
	if err != nil {
		return storage.User{}, err
	}
	if err := att.Succeeded(ctx); err != nil {
		// The sign-in stands; only its count stays, until the window ends.
		s.log.Warn("auth: sign-in count not taken back", "err", err)
	}
	return u, nil
}

// AllowAction counts an account action (such as "signup") from addr
// (ClientIP) and returns a *LimitedError when that address has made too
// many in the window (Limits.PerAddressAction), or the database's error.
func (s *Service) AllowAction(ctx context.Context, action, addr string) error {
	return s.limits.Action(ctx, action, addr)
}

// ClientIP is the address sign-in attempts are counted by: the client's
// address as TrustProxies resolved it (behind a trusted proxy, the
// forwarded one), else the TCP peer.
func ClientIP(r *http.Request) string {
	if a := ClientAddr(r); a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}

// SetSessionCookie sets the session cookie (HttpOnly, SameSite=Lax, Secure
// when the client used HTTPS: TLS to birjob, or a trusted proxy's say, see
// IsHTTPS) for tok until exp.
func SetSessionCookie(w http.ResponseWriter, r *http.Request, tok string, exp time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: tok, Path: "/", Expires: exp, MaxAge: int(time.Until(exp).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: IsHTTPS(r),
	})
}

// ClearSessionCookie tells the browser to forget the session cookie.
func ClearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// EndSession ends the session or token the request carries, if any: its
// row goes, and with it (through the trigger of migration 007) every stream
// it opened, on every node.
func (s *Service) EndSession(ctx context.Context, r *http.Request) error {
	tok, ok := Credential(r)
	if !ok {
		return nil
	}
	return s.store.DeleteToken(ctx, tok)
}
