package scraper

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("SCRAPER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testConfig allows httptest's loopback servers and drops the politeness
// delay so fixture crawls are quick; a failing fixture board backs off for
// milliseconds, not seconds (the back-off tests set their own).
func testConfig() Config {
	return Config{AllowPrivate: true, Node: "test", DomainInterval: -1, DomainParallelism: 4,
		RequestTimeout: 10 * time.Second, RunTimeout: 30 * time.Second,
		BackoffBase: time.Millisecond, BackoffMax: 50 * time.Millisecond}
}

func newTestService(t testing.TB) (*Service, *pgxpool.Pool) {
	t.Helper()
	db := pgtest.New(t)
	return NewService(db, testConfig(), testLogger(t)), db
}

func mustCreate(t testing.TB, db *pgxpool.Pool, s model.Source) model.Source {
	t.Helper()
	if s.Schedule == "" {
		s.Schedule = "@every 1h"
	}
	out, err := NewService(db, testConfig(), testLogger(t)).CreateSource(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func countRows(t testing.TB, db *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func newTestDB(t testing.TB) *pgxpool.Pool { return pgtest.New(t) }

var fixedNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
