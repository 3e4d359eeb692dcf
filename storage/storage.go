// Package storage is the one home of birjob's SQL: every table's queries,
// beside the scan of its rows, one file per table: sources.go, runs.go
// (scrape_runs), jobs.go, job_sources.go (a job's listings, and the
// scraper's job writes), outbox.go (job_changes), audience.go
// (job_audience), events.go (events, event_retention), criteria_changes.go,
// users.go, sessions.go (auth_tokens), account_tokens.go (mailed verify
// and reset tokens), alerts.go, feeds.go, job_marks.go (a user's saved
// and hidden jobs), and the
// courier's: courier.go (courier_cursors, courier_queue), courier_keys.go,
// push.go (push_subscriptions), mail.go (mail_outbox); signin_attempts.go holds the sign-in limits' counters
// (auth/limiter.go); stats_samples.go, the nodes' counters for the admin
// page. The pipeline stages meet in PostgreSQL and call
// storage for every read and write; they keep their decisions and their
// transactions. Outside this package and migrations/ the only SQL is
// LISTEN.
//
// # Transactions
//
// A Store runs its statements on a DB: a *pgxpool.Pool or a pgx.Tx, which
// both satisfy it. A stage that needs several statements to commit together
// calls Store.Tx (or Store.Snapshot) and uses the Store it is handed, so the
// same methods serve both.
//
// # Errors
//
// Every method takes ctx first and wraps its errors with %w. A missing row
// is ErrNotFound, never (nil, nil); the sentinel errors are in errors.go.
package storage

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what storage needs of a connection: both *pgxpool.Pool and pgx.Tx
// satisfy it (and *pgx.Conn).
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Store runs birjob's queries on a DB.
type Store struct {
	db DB
}

// New returns a Store on db (a pool, or a transaction).
func New(db DB) *Store { return &Store{db: db} }

// DB returns the connection the store runs on.
func (s *Store) DB() DB { return s.db }

// Tx runs fn in a transaction: fn's Store runs every statement in it. The
// transaction commits when fn returns nil and rolls back otherwise. On a
// Store that is itself in a transaction, Tx opens a savepoint.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error { return fn(New(tx)) })
}

// Snapshot runs fn in a read-only REPEATABLE READ transaction, so every
// read of fn sees the database as of one moment. On a Store that is already
// in a transaction, fn runs in that one.
func (s *Store) Snapshot(ctx context.Context, fn func(tx *Store) error) error {
	b, ok := s.db.(interface {
		BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
	})
	if !ok {
		return fn(s)
	}
	return pgx.BeginTxFunc(ctx, b, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(New(tx)) })
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// notFound turns pgx's no-rows error into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
