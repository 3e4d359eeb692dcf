package storage

import (
	"context"
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
	u, err := scanUser(s.db.QueryRow(ctx,
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
	u, err := scanUser(s.db.QueryRow(ctx, `
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
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE lower(email) = lower($1)`, email))
	if err != nil {
		return User{}, fmt.Errorf("user by email: %w", err)
	}
	return u, nil
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return User{}, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}
