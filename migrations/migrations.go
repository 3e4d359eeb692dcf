// Package migrations holds birjob's schema as numbered, append-only .sql
// files embedded in the binary, and applies them with tern at start.
//
// Rules: never edit a migration that has landed; add the next number. Each
// file runs in its own transaction. A database whose schema is newer than the
// code is refused rather than guessed at.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed *.sql
var files embed.FS

// VersionTable is the table tern records the applied version in.
const VersionTable = "birjob_schema_version"

// ErrSchemaTooNew is returned when the database was migrated by a newer birjob.
var ErrSchemaTooNew = errors.New("database schema is newer than this birjob")

func newMigrator(ctx context.Context, conn *pgx.Conn) (*migrate.Migrator, error) {
	m, err := migrate.NewMigrator(ctx, conn, VersionTable)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	if err := m.LoadMigrations(files); err != nil {
		return nil, fmt.Errorf("migrations: load: %w", err)
	}
	return m, nil
}

// Latest is the version of the newest embedded migration.
func Latest() int32 {
	entries, _ := fs.Glob(files, "*.sql")
	return int32(len(entries))
}

// Migrate brings the database behind conn to the latest schema. Concurrent
// callers (several nodes starting at once) are serialised by tern's advisory
// lock.
func Migrate(ctx context.Context, conn *pgx.Conn) error {
	m, err := newMigrator(ctx, conn)
	if err != nil {
		return err
	}
	cur, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrations: current version: %w", err)
	}
	if cur > int32(len(m.Migrations)) {
		return fmt.Errorf("%w: database at version %d, this binary knows %d", ErrSchemaTooNew, cur, len(m.Migrations))
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// Current returns the version the database is at (0 before any migration).
func Current(ctx context.Context, conn *pgx.Conn) (int32, error) {
	m, err := newMigrator(ctx, conn)
	if err != nil {
		return 0, err
	}
	return m.GetCurrentVersion(ctx)
}
