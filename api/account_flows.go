package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/storage"
)

// The account flows: confirming the address, resetting a forgotten
// password by mail, changing the password, deleting the account. Tokens,
// their lifetimes and what each flow ends are package auth's (accounts.go);
// the mails go through the AccountMailer the app passes (WithAccounts).

// mailTimeout bounds one account mail sent in the background, and
// signupMailTimeout the one a signup waits for.
const (
	mailTimeout       = time.Minute
	signupMailTimeout = 15 * time.Second
)

// requireVerified returns the signed-in user, or answers 401/503 like
// RequireUser, or 403 when addresses must be confirmed
// (BIRJOB_REQUIRE_EMAIL_VERIFICATION) and this one is not yet.
func (s *Server) requireVerified(w http.ResponseWriter, r *http.Request) (auth.Principal, bool) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return p, false
	}
	if s.requireVerification && !p.EmailVerified {
		httpx.Errorf(w, http.StatusForbidden,
			"confirm your email address first: open the link we mailed to %s, or ask for a new mail (POST /api/me/verification)", p.Email)
		return p, false
	}
	return p, true
}

// mailVerification mails u a confirmation link as part of signup: the
// answer means the mail is on its way (or in the outbox). A mail that
// cannot be sent does not undo the signup: it is logged, and the page
// asks for another (POST /api/me/verification).
func (s *Server) mailVerification(ctx context.Context, u storage.User) {
	if s.mailer == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), signupMailTimeout)
	defer cancel()
	tok, err := s.auth.IssueVerification(ctx, u)
	if err == nil {
		err = s.mailer.MailVerification(ctx, u.Email, tok)
	}
	if err != nil {
		slog.Warn("verification mail at signup not sent", "user_id", u.ID, "err", err)
	}
}

// noMailer answers 503 when this node sends no account mail.
func (s *Server) noMailer(w http.ResponseWriter) bool {
	if s.mailer != nil {
		return false
	}
	httpx.Error(w, http.StatusServiceUnavailable, "this birjob sends no account mail; ask its operator")
	return true
}

// resendVerification answers POST /api/me/verification: a new
// confirmation mail (202), 409 when the address is confirmed already, 429
// when the last one went out less than a minute ago (or 5 went this hour).
func (s *Server) resendVerification(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireUser(w, r)
	if !ok || s.noMailer(w) {
		return
	}
	if err := s.auth.AllowAction(r.Context(), "verify-mail", auth.ClientIP(r)); err != nil {
		limitedOrFailed(w, r, err)
		return
	}
	u, err := s.store.UserByID(r.Context(), p.UserID)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	tok, err := s.auth.IssueVerification(r.Context(), u)
	var soon *auth.TooSoonError
	switch {
	case errors.Is(err, auth.ErrAlreadyVerified):
		httpx.Error(w, http.StatusConflict, err.Error())
		return
	case errors.As(err, &soon):
		tooMany(w, soon.Wait)
		return
	case err != nil:
		httpx.ServerError(w, r, err)
		return
	}
	if err := s.mailer.MailVerification(r.Context(), u.Email, tok); err != nil {
		slog.Warn("verification mail not sent", "user_id", u.ID, "err", err)
		httpx.Error(w, http.StatusBadGateway, "the mail could not be sent just now; try again in a minute")
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, map[string]bool{"sent": true})
}

type tokenBody struct {
	Token    string `json:"token"`
	Password string `json:"password,omitempty"`
}

// verify answers POST /api/verify {"token"}: the account, its address
// confirmed; 400 saying why when the token is used, expired or unknown.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Token string `json:"token"`
	}
	if !httpx.DecodeObject(w, r, &b) {
		return
	}
	u, err := s.auth.Verify(r.Context(), strings.TrimSpace(b.Token))
	if s.accountError(w, r, err) {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, account(u))
}

// forgotPassword answers POST /api/password/forgot {"email"}: always 202
// {"sent":true}, at once, whether the account exists or not, and whether
// or not a mail was sent moments ago (at most one a minute and 5 an hour
// per account go out); the token and the mail are made in the background,
// so the answer's timing tells nothing either.
func (s *Server) forgotPassword(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Email string `json:"email"`
	}
	if !httpx.DecodeObject(w, r, &b) || s.noMailer(w) {
		return
	}
	email := strings.TrimSpace(b.Email)
	if err := auth.ValidateCredentials(email, strings.Repeat("x", auth.MinPasswordLen)); err != nil {
		httpx.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	// Per address too (the per-account limit is IssueReset's): one
	// address cannot send reset mails to a whole list of accounts.
	if err := s.auth.AllowAction(r.Context(), "forgot", auth.ClientIP(r)); err != nil {
		limitedOrFailed(w, r, err)
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), mailTimeout)
		defer cancel()
		u, tok, err := s.auth.IssueReset(ctx, email)
		if err == nil {
			err = s.mailer.MailPasswordReset(ctx, u.Email, tok)
		}
		var soon *auth.TooSoonError
		if err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.As(err, &soon) {
			slog.Warn("password reset mail not sent", "err", err)
		}
	}()
	httpx.WriteJSON(w, http.StatusAccepted, map[string]bool{"sent": true})
}

// resetPassword answers POST /api/password/reset {"token","password"}: the
// password is set, every session of the account ends, and this browser is
// signed in with a fresh cookie.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	var b tokenBody
	if !httpx.DecodeObject(w, r, &b) {
		return
	}
	u, err := s.auth.ResetPassword(r.Context(), strings.TrimSpace(b.Token), b.Password)
	if s.accountError(w, r, err) {
		return
	}
	s.signedIn(w, r, u, http.StatusOK)
}

// changePassword answers PUT /api/me/password
// {"currentPassword","newPassword"}: 403 when the current one is wrong;
// else every other session ends (its streams close), this one stays.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return
	}
	var b struct {
		Current string `json:"currentPassword"`
		New     string `json:"newPassword"`
	}
	if !httpx.DecodeObject(w, r, &b) {
		return
	}
	if !s.allowPasswordCheck(w, r, p) {
		return
	}
	u, err := s.auth.ChangePassword(r.Context(), p, b.Current, b.New)
	if s.accountError(w, r, err) {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, account(u))
}

// deleteAccount answers DELETE /api/me {"password"}: the account and all
// that is its own go, its streams close, the cookie is cleared (204); 403
// when the password is wrong.
func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return
	}
	var b struct {
		Password string `json:"password"`
	}
	if !httpx.DecodeObject(w, r, &b) {
		return
	}
	if !s.allowPasswordCheck(w, r, p) {
		return
	}
	if s.accountError(w, r, s.auth.DeleteAccount(r.Context(), p.UserID, b.Password)) {
		return
	}
	slog.Info("account deleted", "user_id", p.UserID)
	auth.ClearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
}

// allowPasswordCheck counts a check of the account's password by a
// signed-in client (change, delete) against the per-action limit, keyed
// by the account: a stolen session cannot be used to guess the password
// faster than sign-in could. It answers 429 (or 503) when not.
func (s *Server) allowPasswordCheck(w http.ResponseWriter, r *http.Request, p auth.Principal) bool {
	if err := s.auth.AllowAction(r.Context(), "password-check", "user:"+strconv.FormatInt(p.UserID, 10)); err != nil {
		limitedOrFailed(w, r, err)
		return false
	}
	return true
}

// accountError answers an error of the account flows; it returns true
// when it answered.
func (s *Server) accountError(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, auth.ErrWrongPassword):
		httpx.Error(w, http.StatusForbidden, "the password is not right")
	case errors.As(err, new(*auth.InvalidError)):
		httpx.Error(w, http.StatusBadRequest, err.Error())
	default:
		httpx.ServerError(w, r, err)
	}
	return true
}
