package storage

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The auth_tokens table holds sessions (cookies) and API tokens, hashed.

// Token kinds.
const (
	TokenSession = "session"
	TokenAPI     = "api"
)

// HashToken is how tokens are stored: a leaked table holds no working
// credential.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateToken stores a token (hashed) for the user.
func (s *Store) CreateToken(ctx context.Context, userID int64, token, kind, name string, expires *time.Time) error {
	_, err := s.db.Exec(ctx,
		`INSERT INTO auth_tokens (token_hash, user_id, kind, name, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		HashToken(token), userID, kind, name, expires)
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

// UserByToken resolves an unexpired token to its user.
func (s *Store) UserByToken(ctx context.Context, token string) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `
		SELECT u.id, u.email, u.is_admin, u.password_hash, u.created_at
		FROM auth_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > now())`, HashToken(token)))
	if err != nil {
		return User{}, fmt.Errorf("user by token: %w", err)
	}
	return u, nil
}

// LiveTokens returns those of hashes (as HashToken makes them) whose token
// still exists and has not expired: one indexed lookup for all of them.
// Deleting a token row notifies birjob_sessions (migration 007); this is
// how a reader that may have missed the notification checks.
func (s *Store) LiveTokens(ctx context.Context, hashes [][]byte) ([][]byte, error) {
	rows, err := s.db.Query(ctx, `
		SELECT token_hash FROM auth_tokens
		WHERE token_hash = ANY($1) AND (expires_at IS NULL OR expires_at > now())`, hashes)
	if err != nil {
		return nil, fmt.Errorf("live tokens: %w", err)
	}
	live, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("live tokens: %w", err)
	}
	return live, nil
}

// DeleteToken revokes a token.
func (s *Store) DeleteToken(ctx context.Context, token string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM auth_tokens WHERE token_hash = $1`, HashToken(token)); err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	return nil
}

// DeleteExpiredTokens removes expired sessions.
func (s *Store) DeleteExpiredTokens(ctx context.Context) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM auth_tokens WHERE expires_at < now()`)
	if err != nil {
		return 0, fmt.Errorf("delete expired tokens: %w", err)
	}
	return tag.RowsAffected(), nil
}
