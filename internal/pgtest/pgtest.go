// Package pgtest gives tests a real, migrated PostgreSQL database of their
// own.
//
// The server is DATABASE_URL's when that is set; otherwise one throwaway
// embedded cluster (see pgembed) is started per test binary, in a temporary
// folder, and stopped by Main. Each call to New creates a fresh database
// from a migrated template (fast: a file copy), so tests are isolated and may
// run in parallel, and drops it when the test ends.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/internal/pgembed"
	"github.com/birjob/birjob/migrations"
)

var (
	mu       sync.Mutex
	server   string // URL of a database on the server, used for CREATE DATABASE
	template string
	cluster  *pgembed.Cluster
	tmpDir   string
	setupErr error
)

// Main runs the tests and then stops the throwaway cluster, if one was
// started, and drops the template database.
func Main(m *testing.M) {
	code := m.Run()
	Shutdown()
	os.Exit(code)
}

// Shutdown drops the template and stops the throwaway cluster.
func Shutdown() {
	mu.Lock()
	defer mu.Unlock()
	if template != "" && server != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if conn, err := pgx.Connect(ctx, server); err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{template}.Sanitize()+" WITH (FORCE)")
			conn.Close(ctx)
		}
		cancel()
		template = ""
	}
	if cluster != nil {
		_ = cluster.Stop()
		cluster = nil
	}
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
		tmpDir = ""
	}
}

func randName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// ServerURL returns the URL of a maintenance database on the test server,
// starting the throwaway cluster if needed.
func ServerURL(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("pgtest: needs PostgreSQL; skipped with -short")
	}
	mu.Lock()
	defer mu.Unlock()
	if err := setupLocked(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return server
}

// StartCluster starts a separate throwaway cluster in a temporary folder (for
// tests that stop or restart their server) and stops it when the test ends.
func StartCluster(t testing.TB) *pgembed.Cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "birjob-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgembed.Start(ctx, pgembed.Options{Dir: dir + "/pg", Fast: true})
	if err != nil {
		t.Fatalf("pgtest: start cluster: %v", err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

func setupLocked() error {
	if setupErr != nil || server != "" {
		return setupErr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if u := os.Getenv("DATABASE_URL"); u != "" {
		server = u
	} else {
		dir, err := os.MkdirTemp("", "birjob-pgtest-")
		if err != nil {
			setupErr = err
			return err
		}
		os.Chmod(dir, 0o755)
		tmpDir = dir
		c, err := pgembed.Start(ctx, pgembed.Options{Dir: dir + "/pg", Fast: true, Database: "postgres"})
		if err != nil {
			setupErr = err
			return err
		}
		cluster = c
		server = c.URL()
	}
	// Build a migrated template once per test binary.
	name := randName("birjob_tmpl_")
	if err := createDB(ctx, server, name, ""); err != nil {
		setupErr = err
		return err
	}
	tmplURL, err := pgembed.WithDatabase(server, name)
	if err != nil {
		setupErr = err
		return err
	}
	conn, err := pgx.Connect(ctx, tmplURL)
	if err != nil {
		setupErr = err
		return err
	}
	defer conn.Close(ctx)
	if err := migrations.Migrate(ctx, conn); err != nil {
		setupErr = fmt.Errorf("migrate template: %w", err)
		return setupErr
	}
	template = name
	return nil
}

func createDB(ctx context.Context, serverURL, name, tmpl string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(ctx)
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if tmpl != "" {
		sql += " TEMPLATE " + pgx.Identifier{tmpl}.Sanitize()
	}
	// CREATE DATABASE ... TEMPLATE fails while another session uses the
	// template; parallel tests only read it through this path, so retry.
	for i := 0; ; i++ {
		_, err = conn.Exec(ctx, sql)
		if err == nil || i == 50 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// NewURL creates a fresh migrated database and returns its URL; it is
// dropped when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	srv := ServerURL(t)
	mu.Lock()
	tmpl := template
	mu.Unlock()
	name := randName("birjob_test_")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mu.Lock() // one CREATE DATABASE ... TEMPLATE at a time per binary
	err := createDB(ctx, srv, name, tmpl)
	mu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, srv)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	u, err := pgembed.WithDatabase(srv, name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// New creates a fresh migrated database and returns a pool on it, closed
// when the test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	u := NewURL(t)
	pool, err := pgxpool.New(context.Background(), u)
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Outage refuses new connections to db's database and ends its open ones
// (a database that went away), until the returned restore is called (also
// called when the test ends).
func Outage(t testing.TB, db *pgxpool.Pool) (restore func()) {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	name := db.Config().ConnConfig.Database
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore = func() {
		if restored {
			return
		}
		restored = true
		if _, err := admin.Exec(ctx, "ALTER DATABASE "+ident+" ALLOW_CONNECTIONS true"); err != nil {
			t.Error(err)
		}
		admin.Close(ctx)
	}
	t.Cleanup(restore)
	return restore
}
