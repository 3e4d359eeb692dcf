package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The account_tokens table: single-use tokens sent by mail, to confirm an
// address (verify) or set a new password (reset). Only a hash of the token
// is stored (HashToken).

// Account token purposes.
const (
	PurposeVerify = "verify"
	PurposeReset  = "reset"
)

// AccountToken is what a mailed token was issued for, and its state.
type AccountToken struct {
	UserID    int64
	Email     string
	ExpiresAt time.Time
	UsedAt    *time.Time
	// Spent is true when this call spent the token: it was unused and
	// unexpired, and is used now.
	Spent bool
}

// CreateAccountToken stores a token (hashed) of purpose for the user, sent
// to email, valid until expires.
func (s *Store) CreateAccountToken(ctx context.Context, userID int64, purpose, email, token string, expires time.Time) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO account_tokens (token_hash, user_id, purpose, email, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		HashToken(token), userID, purpose, email, expires)
	if err != nil {
		return fmt.Errorf("create %s token: %w", purpose, err)
	}
	return nil
}

// SpendAccountToken uses the token of purpose, once: when it is unused and
// expires after now, it is marked used and returned with Spent set. A
// token that was used or has expired is returned as it is, Spent false;
// an unknown one is ErrNotFound. The mark is one UPDATE, so of two
// concurrent uses one wins. The loser reads the token in a statement of
// its own: within the UPDATE's statement its snapshot predates the
// winner's commit, and it would see the token unused yet not spent
// (TestStore_AccountTokenSpentOnce caught that once in eight).
func (s *Store) SpendAccountToken(ctx context.Context, purpose, token string, now time.Time) (AccountToken, error) {
	t := AccountToken{Spent: true}
	hash := HashToken(token)
	err := s.db.QueryRow(ctx, `
		UPDATE account_tokens SET used_at = $3
		WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
		RETURNING user_id, email, expires_at, used_at`,
		hash, purpose, now).Scan(&t.UserID, &t.Email, &t.ExpiresAt, &t.UsedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		t.Spent = false
		err = s.db.QueryRow(ctx, `
			SELECT user_id, email, expires_at, used_at FROM account_tokens
			WHERE token_hash = $1 AND purpose = $2`,
			hash, purpose).Scan(&t.UserID, &t.Email, &t.ExpiresAt, &t.UsedAt)
	}
	if err = notFound(err); err != nil {
		return AccountToken{}, fmt.Errorf("spend %s token: %w", purpose, err)
	}
	return t, nil
}

// SpendAccountTokens marks every unused token of purpose of the user used
// (a new password voids the reset links mailed before it).
func (s *Store) SpendAccountTokens(ctx context.Context, userID int64, purpose string, now time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE account_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`,
		userID, purpose, now)
	if err != nil {
		return fmt.Errorf("void %s tokens of user %d: %w", purpose, userID, err)
	}
	return nil
}

// RecentAccountTokens counts the tokens of purpose issued to the user
// within window (by the database's clock, the same for every node), and
// says how long ago the newest and the oldest of them were issued (0 when
// none): how often mails were asked for.
func (s *Store) RecentAccountTokens(ctx context.Context, userID int64, purpose string, window time.Duration) (n int, newest, oldest time.Duration, err error) {
	var newSec, oldSec float64
	err = s.db.QueryRow(ctx, `
		SELECT count(*), coalesce(extract(epoch FROM now() - max(created_at)), 0)::float8,
			coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
		FROM account_tokens
		WHERE user_id = $1 AND purpose = $2 AND created_at > now() - make_interval(secs => $3)`,
		userID, purpose, window.Seconds()).Scan(&n, &newSec, &oldSec)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("count %s tokens of user %d: %w", purpose, userID, err)
	}
	return n, time.Duration(newSec * float64(time.Second)), time.Duration(oldSec * float64(time.Second)), nil
}

// DeleteOldAccountTokens removes the tokens that expired before, used or
// not (the purge; they are refused anyway).
func (s *Store) DeleteOldAccountTokens(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM account_tokens WHERE expires_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("purge account tokens: %w", err)
	}
	return tag.RowsAffected(), nil
}
