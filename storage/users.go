package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/birjob/birjob/model"
)

// User is an account.
type User struct {
	ID           int64     `json:"id"`
	Email        string    `json:"email"`
	Admin        bool      `json:"admin"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"createdAt"`
	// EmailVerifiedAt is when the account confirmed its address (nil: not
	// yet).
	EmailVerifiedAt *time.Time `json:"emailVerifiedAt,omitempty"`
}

// EmailVerified reports whether the account confirmed its address.
func (u User) EmailVerified() bool { return u.EmailVerifiedAt != nil }

const userCols = "id, email, is_admin, password_hash, created_at, email_verified_at"

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.Admin, &u.PasswordHash, &u.CreatedAt, &u.EmailVerifiedAt)
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
// account an admin with this password. The operator vouches for the
// address: it counts as verified.
func (s *Store) UpsertAdmin(ctx context.Context, email, passwordHash string) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `
		INSERT INTO users (email, password_hash, is_admin, email_verified_at) VALUES ($1, $2, true, now())
		ON CONFLICT (lower(email)) DO UPDATE SET password_hash = EXCLUDED.password_hash, is_admin = true,
			email_verified_at = coalesce(users.email_verified_at, now())
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

// MarkEmailVerified records that the user confirmed email, if that is
// still the account's address; it returns the user as it is now.
func (s *Store) MarkEmailVerified(ctx context.Context, id int64, email string) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `
		UPDATE users SET email_verified_at = coalesce(email_verified_at, now())
		WHERE id = $1 AND lower(email) = lower($2) RETURNING `+userCols, id, email))
	if err != nil {
		return User{}, fmt.Errorf("verify user %d: %w", id, err)
	}
	return u, nil
}

// SetPasswordHash replaces the user's password hash.
func (s *Store) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	tag, err := s.db.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, id, hash)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set password of user %d: %w", id, ErrNotFound)
	}
	return nil
}

// DeleteUser deletes the account and everything that is its own: its
// sessions and tokens (whose deletion ends their streams on every node,
// migration 007), alerts, push subscriptions, queued mails and pushes,
// mail settings (columns of users and alerts), its place in the stored
// audiences of jobs (so no later expiry writes to its channel) and the
// events of its personal channel.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	return s.Tx(ctx, func(tx *Store) error {
		tag, err := tx.db.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete user %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("delete user %d: %w", id, ErrNotFound)
		}
		if err := tx.ForgetUserAudiences(ctx, id); err != nil {
			return err
		}
		return tx.DeleteChannelEvents(ctx, model.UserChannel(id))
	})
}

// UserTimeZone returns the user's IANA time zone name (users.time_zone: the
// courier's digest hour and its settings route read it).
func (s *Store) UserTimeZone(ctx context.Context, userID int64) (string, error) {
	var tz string
	if err := s.db.QueryRow(ctx, `SELECT time_zone FROM users WHERE id = $1`, userID).Scan(&tz); err != nil {
		return "", fmt.Errorf("time zone of user %d: %w", userID, notFound(err))
	}
	return tz, nil
}

// SetUserTimeZone sets the user's time zone; the caller checks the name.
func (s *Store) SetUserTimeZone(ctx context.Context, userID int64, tz string) error {
	tag, err := s.db.Exec(ctx, `UPDATE users SET time_zone = $2 WHERE id = $1`, userID, tz)
	if err != nil {
		return fmt.Errorf("time zone of user %d: %w", userID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("time zone of user %d: %w", userID, ErrNotFound)
	}
	return nil
}
