package storage

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// User is an account.
type User struct {
	ID           int64     `json:"id"`
	Email        string    `json:"email"`
	Admin        bool      `json:"admin"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"createdAt"`
}

const userCols = "id, email, is_admin, password_hash, created_at"

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.Admin, &u.PasswordHash, &u.CreatedAt)
	return u, notFound(err)
}

// CreateUser inserts a user; ErrConflict when the email is taken.
func (s *Store) CreateUser(ctx context.Context, email, passwordHash string, admin bool) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx,
		`INSERT INTO users (email, password_hash, is_admin) VALUES ($1, $2, $3) RETURNING `+userCols,
		email, passwordHash, admin))
	if isUniqueViolation(err) {
		return User{}, fmt.Errorf("create user %s: %w", email, ErrConflict)
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// UpsertAdmin creates the admin with this email, or makes the existing
// account an admin with this password.
func (s *Store) UpsertAdmin(ctx context.Context, email, passwordHash string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `
		INSERT INTO users (email, password_hash, is_admin) VALUES ($1, $2, true)
		ON CONFLICT (lower(email)) DO UPDATE SET password_hash = EXCLUDED.password_hash, is_admin = true
		RETURNING `+userCols, email, passwordHash))
	if err != nil {
		return User{}, fmt.Errorf("upsert admin: %w", err)
	}
	return u, nil
}

// UserByEmail finds a user by email, case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE lower(email) = lower($1)`, email))
	if err != nil {
		return User{}, fmt.Errorf("user by email: %w", err)
	}
	return u, nil
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

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
	_, err := s.pool.Exec(ctx,
		`INSERT INTO auth_tokens (token_hash, user_id, kind, name, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		HashToken(token), userID, kind, name, expires)
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

// UserByToken resolves an unexpired token to its user.
func (s *Store) UserByToken(ctx context.Context, token string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `
		SELECT u.id, u.email, u.is_admin, u.password_hash, u.created_at
		FROM auth_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > now())`, HashToken(token)))
	if err != nil {
		return User{}, fmt.Errorf("user by token: %w", err)
	}
	return u, nil
}

// DeleteToken revokes a token.
func (s *Store) DeleteToken(ctx context.Context, token string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM auth_tokens WHERE token_hash = $1`, HashToken(token)); err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	return nil
}

// DeleteExpiredTokens removes expired sessions.
func (s *Store) DeleteExpiredTokens(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM auth_tokens WHERE expires_at < now()`)
	if err != nil {
		return 0, fmt.Errorf("delete expired tokens: %w", err)
	}
	return tag.RowsAffected(), nil
}
