package pgtest_test

import (
	"context"
	"testing"

	"github.com/birjob/birjob/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestNew_IsolatedMigratedDatabases(t *testing.T) {
	ctx := context.Background()
	a, b := pgtest.New(t), pgtest.New(t)
	if _, err := a.Exec(ctx, "INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x')"); err != nil {
		t.Fatalf("insert into migrated schema: %v", err)
	}
	var n int
	if err := b.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("second database sees %d users of the first; want isolation", n)
	}
}
