package storage

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// The sentinel errors of storage. Callers test them with errors.Is; every
// error a method returns wraps one of them or a database error.
var (
	// ErrNotFound is returned when the requested row does not exist, or
	// belongs to another user: the caller cannot tell the two apart, so an
	// id guessed from another account reveals nothing.
	ErrNotFound = errors.New("not found")

	// ErrConflict is returned when a unique value (an email, a feed name, a
	// source name) is already taken.
	ErrConflict = errors.New("already exists")

	// ErrBadEvent is returned by AppendEvents for an event without a
	// channel or a type, or whose data is not valid JSON; nothing is
	// written.
	ErrBadEvent = errors.New("event needs a channel and a type")
)

// isUniqueViolation reports whether err is PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
