package migrations

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// MigrateTo brings an empty or older database to version v, so that a test
// can put data in the shape an older birjob wrote and check its migration.
func MigrateTo(ctx context.Context, conn *pgx.Conn, v int32) error {
	m, err := newMigrator(ctx, conn)
	if err != nil {
		return err
	}
	return m.MigrateTo(ctx, v)
}
