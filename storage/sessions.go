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

// Session is one row of auth_tokens as its owner sees it: a sign-in
// (kind session) or an API token (kind api). The token itself is never
// stored; Hash names it (HashToken) and is never shown.
type Session struct {
	ID         int64      `json:"id,string"`
	Kind       string     `json:"-"`
	Name       string     `json:"name,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  *time.Time `json:"expiresAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	UserAgent  string     `json:"userAgent,omitempty"`
	Hash       []byte     `json:"-"`
}

const sessionCols = "id, kind, name, created_at, expires_at, last_used_at, user_agent, token_hash"

func scanSession(row pgx.Row) (Session, error) {
	var t Session
	err := row.Scan(&t.ID, &t.Kind, &t.Name, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.UserAgent, &t.Hash)
	return t, notFound(err)
}

// CreateToken stores a token (hashed) for the user.
func (s *Store) CreateToken(ctx context.Context, userID int64, token, kind, name string, expires *time.Time) error {
	_, err := s.CreateSession(ctx, userID, token, kind, name, "", expires)
	return err
}

// CreateSession stores a token (hashed) for the user, with the User-Agent
// of the client it was made for, and returns its row.
func (s *Store) CreateSession(ctx context.Context, userID int64, token, kind, name, userAgent string, expires *time.Time) (Session, error) {
	t, err := scanSession(s.db.QueryRow(ctx, `
		INSERT INTO auth_tokens (token_hash, user_id, kind, name, user_agent, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING `+sessionCols, HashToken(token), userID, kind, name, userAgent, expires))
	if err != nil {
		return Session{}, fmt.Errorf("create token: %w", err)
	}
	return t, nil
}

// UserByToken resolves an unexpired token to its user.
func (s *Store) UserByToken(ctx context.Context, token string) (User, error) {
	u, _, err := s.SessionByToken(ctx, token)
	return u, err
}

// SessionByToken resolves an unexpired token to its user and its row.
func (s *Store) SessionByToken(ctx context.Context, token string) (User, Session, error) {
	var u User
	var t Session
	err := s.db.QueryRow(ctx, `
		SELECT u.id, u.email, u.is_admin, u.password_hash, u.created_at, u.email_verified_at,
			t.id, t.kind, t.name, t.created_at, t.expires_at, t.last_used_at, t.user_agent, t.token_hash
		FROM auth_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > now())`, HashToken(token)).Scan(
		&u.ID, &u.Email, &u.Admin, &u.PasswordHash, &u.CreatedAt, &u.EmailVerifiedAt,
		&t.ID, &t.Kind, &t.Name, &t.CreatedAt, &t.ExpiresAt, &t.LastUsedAt, &t.UserAgent, &t.Hash)
	if err = notFound(err); err != nil {
		return User{}, Session{}, fmt.Errorf("user by token: %w", err)
	}
	return u, t, nil
}

// TouchToken records that the token of hash was used now, unless that was
// recorded less than every ago: a write per token per interval, not per
// request.
func (s *Store) TouchToken(ctx context.Context, hash []byte, every time.Duration) error {
	_, err := s.db.Exec(ctx, `
		UPDATE auth_tokens SET last_used_at = now()
		WHERE token_hash = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2))`, hash, every.Seconds())
	if err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	return nil
}

// ListSessions returns the user's unexpired tokens of kind, newest first.
func (s *Store) ListSessions(ctx context.Context, userID int64, kind string) ([]Session, error) {
	rows, err := s.db.Query(ctx, `SELECT `+sessionCols+` FROM auth_tokens
		WHERE user_id = $1 AND kind = $2 AND (expires_at IS NULL OR expires_at > now())
		ORDER BY id DESC`, userID, kind)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) { return scanSession(r) })
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// DeleteSession revokes the user's token of kind with this id;
// ErrNotFound when the user has no such token. Its streams end on every
// node (the trigger of migration 007).
func (s *Store) DeleteSession(ctx context.Context, userID int64, kind string, id int64) error {
	tag, err := s.db.Exec(ctx, `DELETE FROM auth_tokens WHERE user_id = $1 AND kind = $2 AND id = $3`, userID, kind, id)
	if err != nil {
		return fmt.Errorf("delete session %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete session %d: %w", id, ErrNotFound)
	}
	return nil
}

// DeleteSessionsExcept revokes every token of kind the user has, except
// the one whose hash is keep (nil: none kept), and returns how many went.
func (s *Store) DeleteSessionsExcept(ctx context.Context, userID int64, kind string, keep []byte) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM auth_tokens WHERE user_id = $1 AND kind = $2 AND token_hash IS DISTINCT FROM $3`,
		userID, kind, keep)
	if err != nil {
		return 0, fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	return tag.RowsAffected(), nil
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
