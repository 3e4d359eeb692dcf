package storage

import (
	"context"
	"fmt"
)

// A user's time zone (users.time_zone), kept apart from users.go: only the
// courier's digest and its settings route use it.

// UserTimeZone returns the user's IANA time zone name.
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
