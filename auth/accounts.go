package auth

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/storage"
)

// Accounts people can own: email verification, password reset and change,
// sessions and API tokens that can be listed and revoked, deletion.
//
// Mailed tokens (verify, reset) are random, stored only as a SHA-256 hash
// (storage/account_tokens.go), single-use and expiring: a verify token
// after VerifyTTL, a reset token after ResetTTL. Spending one is the same
// statement that checks it, inside the transaction of what it does, so it
// works once even when two requests race, and is not spent when what it
// does fails. The expiry is read against the Service's clock (WithClock).
//
// Ending sessions deletes their auth_tokens rows; the trigger of migration
// 007 then ends the streams they opened, on every node. A password change
// ends every other session of the user (API tokens stay: they are listed
// and revocable); a reset ends every session and the caller signs the
// browser in afresh.

// Lifetimes and limits of mailed tokens.
const (
	// VerifyTTL is how long a verification link works.
	VerifyTTL = 48 * time.Hour
	// ResetTTL is how long a password-reset link works: short, since it
	// is as good as the password.
	ResetTTL = time.Hour
	// MailSpacing is the least time between two mails of one kind to one
	// account, and MailsPerHour the most mails of one kind an hour.
	MailSpacing  = time.Minute
	MailsPerHour = 5
	// TouchEvery is how often a token's last_used_at is written at most.
	TouchEvery = time.Minute
)

// Errors of the account flows.
var (
	// ErrAlreadyVerified: the address is confirmed already.
	ErrAlreadyVerified = errors.New("your email address is already confirmed")
	// ErrWrongPassword: the current password given to confirm a change
	// is not the account's.
	ErrWrongPassword = errors.New("the password is not right")
)

// TooSoonError is a mail asked for again too soon; Wait says when to ask.
type TooSoonError struct{ Wait time.Duration }

func (e *TooSoonError) Error() string {
	return fmt.Sprintf("a mail was sent moments ago; ask again in %d seconds", int(e.Wait.Seconds())+1)
}

// WithClock sets the clock mailed tokens are issued and checked by (tests
// move it past an expiry).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

func (s *Service) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// touch records the token's use, at most once every TouchEvery: a failure
// is logged, never the request's.
func (s *Service) touch(ctx context.Context, t storage.Session) {
	if t.LastUsedAt != nil && time.Since(*t.LastUsedAt) < TouchEvery {
		return
	}
	if err := s.store.TouchToken(ctx, t.Hash, TouchEvery); err != nil && ctx.Err() == nil && !httpx.Unavailable(err) {
		s.log.Warn("auth: record token use", "err", err)
	}
}

// StartSessionFor creates a session for the user, remembering the
// client's User-Agent so that the sessions list tells them apart.
func (s *Service) StartSessionFor(ctx context.Context, userID int64, userAgent string) (string, time.Time, error) {
	tok := NewToken("bjs_")
	exp := time.Now().Add(SessionTTL)
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	if _, err := s.store.CreateSession(ctx, userID, tok, storage.TokenSession, "", userAgent, &exp); err != nil {
		return "", exp, err
	}
	return tok, exp, nil
}

// NewAPIToken creates a bearer token for scripts and returns it with its
// row (id, created).
func (s *Service) NewAPIToken(ctx context.Context, userID int64, name string) (string, storage.Session, error) {
	tok := NewToken("bjt_")
	row, err := s.store.CreateSession(ctx, userID, tok, storage.TokenAPI, name, "", nil)
	return tok, row, err
}

// ValidatePassword checks a new password's length.
func ValidatePassword(pw string) error {
	if len(pw) < MinPasswordLen {
		return invalid("password must have at least %d characters", MinPasswordLen)
	}
	if len(pw) > 72 {
		return invalid("password must be at most 72 bytes")
	}
	return nil
}

// mailAllowed says whether another mail of purpose may go to the user now.
func (s *Service) mailAllowed(ctx context.Context, userID int64, purpose string) error {
	n, newest, oldest, err := s.store.RecentAccountTokens(ctx, userID, purpose, time.Hour)
	if err != nil {
		return err
	}
	switch {
	case n > 0 && newest < MailSpacing:
		return &TooSoonError{Wait: MailSpacing - newest}
	case n >= MailsPerHour:
		return &TooSoonError{Wait: time.Hour - oldest}
	}
	return nil
}

// IssueVerification makes a verification token for the user's address;
// the caller mails it. ErrAlreadyVerified when confirmed, *TooSoonError
// when asked too often.
func (s *Service) IssueVerification(ctx context.Context, u storage.User) (string, error) {
	if u.EmailVerified() {
		return "", ErrAlreadyVerified
	}
	if err := s.mailAllowed(ctx, u.ID, storage.PurposeVerify); err != nil {
		return "", err
	}
	tok := NewToken("bjv_")
	if err := s.store.CreateAccountToken(ctx, u.ID, storage.PurposeVerify, u.Email, tok, s.clock().Add(VerifyTTL)); err != nil {
		return "", err
	}
	return tok, nil
}

// spend uses a mailed token inside tx, or says (as an *InvalidError) why
// it cannot be used.
func (s *Service) spend(ctx context.Context, tx *storage.Store, purpose, token string) (storage.AccountToken, error) {
	what := map[string]string{storage.PurposeVerify: "confirmation", storage.PurposeReset: "password reset"}[purpose]
	if token == "" {
		return storage.AccountToken{}, invalid("token is required: the code of the %s link", what)
	}
	t, err := tx.SpendAccountToken(ctx, purpose, token, s.clock())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return t, invalid("this %s link is not valid (mistyped, or not from this site); ask for a new one", what)
	case err != nil:
		return t, err
	case t.UsedAt != nil && !t.Spent:
		return t, invalid("this %s link was already used; ask for a new one if you need it again", what)
	case !t.Spent:
		return t, invalid("this %s link has expired; ask for a new one", what)
	}
	return t, nil
}

// Verify spends a verification token and confirms the address it was sent
// to; it returns the account as it is now.
func (s *Service) Verify(ctx context.Context, token string) (storage.User, error) {
	var u storage.User
	err := s.store.Tx(ctx, func(tx *storage.Store) error {
		t, err := s.spend(ctx, tx, storage.PurposeVerify, token)
		if err != nil {
			return err
		}
		u, err = tx.MarkEmailVerified(ctx, t.UserID, t.Email)
		if errors.Is(err, storage.ErrNotFound) {
			return invalid("this confirmation link is for an address the account no longer has")
		}
		return err
	})
	return u, err
}

// IssueReset makes a password-reset token for the account of email; the
// caller mails it to the returned user's address. An unknown email is
// storage.ErrNotFound and a mail asked for too often *TooSoonError: the
// caller answers both like a success, so that nobody learns which
// addresses have accounts.
func (s *Service) IssueReset(ctx context.Context, email string) (storage.User, string, error) {
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil {
		return u, "", err
	}
	if err := s.mailAllowed(ctx, u.ID, storage.PurposeReset); err != nil {
		return u, "", err
	}
	tok := NewToken("bjr_")
	if err := s.store.CreateAccountToken(ctx, u.ID, storage.PurposeReset, u.Email, tok, s.clock().Add(ResetTTL)); err != nil {
		return u, "", err
	}
	return u, tok, nil
}

// ResetPassword spends a reset token and sets the password; every session
// of the user ends (their streams close) and the other reset links stop
// working. The address counts as confirmed: the link reached it. The
// caller signs the browser in afresh.
func (s *Service) ResetPassword(ctx context.Context, token, pw string) (storage.User, error) {
	if err := ValidatePassword(pw); err != nil {
		return storage.User{}, err
	}
	h, err := s.HashPassword(pw)
	if err != nil {
		return storage.User{}, err
	}
	var u storage.User
	err = s.store.Tx(ctx, func(tx *storage.Store) error {
		t, err := s.spend(ctx, tx, storage.PurposeReset, token)
		if err != nil {
			return err
		}
		if err := tx.SetPasswordHash(ctx, t.UserID, h); err != nil {
			return err
		}
		if err := tx.SpendAccountTokens(ctx, t.UserID, storage.PurposeReset, s.clock()); err != nil {
			return err
		}
		if _, err := tx.DeleteSessionsExcept(ctx, t.UserID, storage.TokenSession, nil); err != nil {
			return err
		}
		if u, err = tx.MarkEmailVerified(ctx, t.UserID, t.Email); errors.Is(err, storage.ErrNotFound) {
			u, err = tx.UserByID(ctx, t.UserID) // the address changed since: not confirmed by this link
		}
		return err
	})
	return u, err
}

// checkPassword returns the user when pw is theirs, else ErrWrongPassword.
func (s *Service) checkPassword(ctx context.Context, userID int64, pw string) (storage.User, error) {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return u, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(pw)) != nil {
		return u, ErrWrongPassword
	}
	return u, nil
}

// ChangePassword sets a new password for the signed-in p after checking
// the current one (ErrWrongPassword). Every other session of the user
// ends, with its streams; the one p signed in with stays, and so do API
// tokens. Reset links mailed before stop working.
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string) (storage.User, error) {
	if err := ValidatePassword(next); err != nil {
		return storage.User{}, err
	}
	u, err := s.checkPassword(ctx, p.UserID, current)
	if err != nil {
		return u, err
	}
	h, err := s.HashPassword(next)
	if err != nil {
		return u, err
	}
	var keep []byte
	if !p.APIToken && p.TokenHash != "" {
		keep = hashOf(p)
	}
	err = s.store.Tx(ctx, func(tx *storage.Store) error {
		if err := tx.SetPasswordHash(ctx, u.ID, h); err != nil {
			return err
		}
		if err := tx.SpendAccountTokens(ctx, u.ID, storage.PurposeReset, s.clock()); err != nil {
			return err
		}
		_, err := tx.DeleteSessionsExcept(ctx, u.ID, storage.TokenSession, keep)
		return err
	})
	return u, err
}

// DeleteAccount deletes the signed-in user's account after checking the
// password (ErrWrongPassword): its sessions and tokens (their streams
// close on every node), alerts, push subscriptions, mail settings and
// personal events go.
func (s *Service) DeleteAccount(ctx context.Context, userID int64, pw string) error {
	if _, err := s.checkPassword(ctx, userID, pw); err != nil {
		return err
	}
	return s.store.DeleteUser(ctx, userID)
}

// hashOf is the stored hash of the credential p signed in with.
func hashOf(p Principal) []byte {
	b, _ := hex.DecodeString(p.TokenHash)
	return b
}
