// Package storage persists the records that the API owns: users and their
// credentials, saved alerts and public feeds, and the read side of jobs for
// the job list. The pipeline stages own their own tables (the scraper writes
// jobs and scrape runs, the matcher writes events, notify reads them).
//
// Every method takes ctx first and wraps errors with %w; a missing row is
// ErrNotFound, never (nil, nil).
package storage

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sentinel errors.
var (
	// ErrNotFound is returned when the requested row does not exist (or
	// belongs to another user).
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a unique value (an email, a feed name) is
	// taken.
	ErrConflict = errors.New("already exists")
)

// Store is birjob's API storage on a pgx pool.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Pool returns the underlying pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }
