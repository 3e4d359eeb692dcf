package scraper

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/auth"
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
// delay so fixture crawls are quick.
func testConfig() Config {
	return Config{AllowPrivate: true, Node: "test", DomainInterval: -1, DomainParallelism: 4,
		RequestTimeout: 10 * time.Second, RunTimeout: 30 * time.Second}
}

func newTestService(t testing.TB) (*Service, *pgxpool.Pool) {
	t.Helper()
	db := pgtest.New(t)
	return NewService(db, testConfig(), testLogger(t)), db
}

// apiServer serves s.Routes with every request signed in as an admin
// (admin=true) or as a plain user.
func apiServer(t testing.TB, s *Service, admin bool) *httptest.Server {
	mux := http.NewServeMux()
	s.Routes(mux)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UserID: 1, Email: "a@example.com", Admin: admin}))
		mux.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// call sends a JSON request and decodes a JSON answer into out (if not nil).
func call(t testing.TB, method, url string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", method, url, b, err)
		}
	}
	return resp.StatusCode
}

func mustCreate(t testing.TB, db *pgxpool.Pool, s model.Source) model.Source {
	t.Helper()
	if s.Schedule == "" {
		s.Schedule = "@every 1h"
	}
	out, err := CreateSource(context.Background(), db, s)
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
