package migrations_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// pgtest's databases are migrated already; start from an empty one.
func emptyDB(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	srv, err := pgx.Connect(ctx, pgtest.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(ctx)
	name := "birjob_migrations_" + strings.ToLower(t.Name())
	if _, err := srv.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	cfg, _ := pgx.ParseConfig(pgtest.ServerURL(t))
	cfg.Database = name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close(ctx)
		if srv, err := pgx.Connect(ctx, pgtest.ServerURL(t)); err == nil {
			srv.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			srv.Close(ctx)
		}
	})
	return conn
}

func TestMigrate_FromEmptyIdempotent(t *testing.T) {
	ctx := context.Background()
	conn := emptyDB(t)
	if v, err := migrations.Current(ctx, conn); err != nil || v != 0 {
		t.Fatalf("empty database at version %d, %v", v, err)
	}
	if err := migrations.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if err := migrations.Migrate(ctx, conn); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	v, err := migrations.Current(ctx, conn)
	if err != nil || v != migrations.Latest() || v < 1 {
		t.Fatalf("version %d (%v), want %d", v, err, migrations.Latest())
	}
	for _, table := range []string{"users", "auth_tokens", "sources", "jobs", "job_changes", "alerts", "feeds", "events", "scrape_runs"} {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok); err != nil || !ok {
			t.Errorf("table %s missing after migrate", table)
		}
	}
}

func TestMigrate_RefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	conn := emptyDB(t)
	if err := migrations.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "UPDATE "+migrations.VersionTable+" SET version = version + 1"); err != nil {
		t.Fatal(err)
	}
	err := migrations.Migrate(ctx, conn)
	if !errors.Is(err, migrations.ErrSchemaTooNew) {
		t.Fatalf("err = %v, want ErrSchemaTooNew", err)
	}
}

// The event log hands out ids in commit order: a writer that started first
// but commits last gets the larger id.
func TestEvents_IDsFollowCommitOrder(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	first, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx)
	var a int64
	if err := first.QueryRow(ctx, `INSERT INTO events (channel, type, data) VALUES ('jobs', 'new-job', '{}') RETURNING id`).Scan(&a); err != nil {
		t.Fatal(err)
	}
	// A second writer blocks until the first commits, then gets a larger id.
	done := make(chan int64, 1)
	go func() {
		var b int64
		if err := pool.QueryRow(ctx, `INSERT INTO events (channel, type, data) VALUES ('jobs', 'new-job', '{}') RETURNING id`).Scan(&b); err != nil {
			t.Error(err)
		}
		done <- b
	}()
	var waiting bool
	deadline := time.Now().Add(30 * time.Second)
	for !waiting { // wait until the second writer is blocked on the lock (in this database: other packages' tests share the server)
		if time.Now().After(deadline) {
			t.Fatal("the second writer never waited for the first")
		}
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if b := <-done; b <= a {
		t.Fatalf("second writer got id %d, not after the first's %d", b, a)
	}
}

// TestMigrate_006KeepsWhoWasTold: deliveries written by a birjob before 006
// (one row per job and channel) become one job_audience row per job with
// the same users, alerts and feeds, so that a job announced before the
// upgrade still expires for exactly the users told about it.
func TestMigrate_006KeepsWhoWasTold(t *testing.T) {
	ctx := context.Background()
	conn := emptyDB(t)
	if err := migrations.MigrateTo(ctx, conn, 5); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`INSERT INTO sources (name, kind) VALUES ('s', 'manual')`,
		`INSERT INTO jobs (source_id, dedupe_key, url, title, content_hash)
			SELECT id, k, 'https://x/' || k, 't', '\x00' FROM sources, unnest(ARRAY['a', 'b', 'c']) k`,
		`INSERT INTO job_deliveries (job_id, channel, alert_ids)
			SELECT j.id, d.channel, d.alerts FROM jobs j JOIN (VALUES
				('a', 'user:10', '{7,3}'::bigint[]), ('a', 'user:9', '{5}'), ('a', 'baku', '{}'),
				('b', 'user:2', '{1}'),
				('c', 'remote', '{}'), ('c', 'baku', '{}')) d(k, channel, alerts) ON d.k = j.dedupe_key`,
		`INSERT INTO events (channel, type, data) VALUES ('jobs', 'new-job', '{"id": 1}')`,
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := migrations.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `
		SELECT j.dedupe_key, a.users::text, a.alert_ids::text, a.feeds::text
		FROM job_audience a JOIN jobs j ON j.id = a.job_id ORDER BY j.dedupe_key`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var k, u, al, f string
		if err := rows.Scan(&k, &u, &al, &f); err != nil {
			t.Fatal(err)
		}
		got = append(got, k+" "+u+" "+al+" "+f)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"a {9,10,10} {5,3,7} {baku}",
		"b {2} {1} {}",
		"c {} {} {baku,remote}",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("job_audience after 006:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The event payload survives the change of column type byte for byte.
	var data string
	if err := conn.QueryRow(ctx, `SELECT data FROM events`).Scan(&data); err != nil || data != `{"id": 1}` {
		t.Fatalf("event data after 006 = %q, %v", data, err)
	}
}

// TestMigrate_008ListsTodaysJobs: each job of before 008 becomes its own
// source's listing (ended when it had expired), so that dedupe and expiry
// carry on; sources that have had a healthy run are past their backlog,
// the others are not; re-enabling a source, or moving it to another URL,
// makes its next run a backlog run again.
func TestMigrate_008ListsTodaysJobs(t *testing.T) {
	ctx := context.Background()
	conn := emptyDB(t)
	if err := migrations.MigrateTo(ctx, conn, 7); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`INSERT INTO sources (name, kind, enabled) VALUES ('ran', 'rss', true), ('new', 'rss', true), ('off', 'rss', false)`,
		`INSERT INTO scrape_runs (source_id, status) SELECT id, 'ok' FROM sources WHERE name IN ('ran', 'off')`,
		`INSERT INTO jobs (source_id, dedupe_key, url, title, content_hash, expired_at, expired_reason)
			SELECT s.id, k, 'https://x/' || k, 't', '\x00', CASE WHEN k = 'b' THEN now() END, CASE WHEN k = 'b' THEN 'missing' ELSE '' END
			FROM sources s, unnest(ARRAY['a', 'b']) k WHERE s.name = 'ran'`,
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := migrations.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	var got string
	err := conn.QueryRow(ctx, `
		SELECT string_agg(l.dedupe_key || ':' || (l.job_id = j.id)::text || ':' || (l.ended_at IS NOT NULL)::text || ':' || l.ended_reason, ' ' ORDER BY l.dedupe_key)
		FROM job_sources l JOIN jobs j ON j.source_id = l.source_id AND j.dedupe_key = l.dedupe_key`).Scan(&got)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a:true:false: b:true:true:missing"; got != want {
		t.Errorf("listings = %q, want %q", got, want)
	}
	backlog := func() string {
		var s string
		if err := conn.QueryRow(ctx, `SELECT string_agg(name || '=' || backlog::text, ' ' ORDER BY name) FROM sources`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got, want := backlog(), "new=true off=false ran=false"; got != want {
		t.Errorf("backlog = %q, want %q", got, want)
	}
	if _, err := conn.Exec(ctx, `UPDATE sources SET enabled = true WHERE name = 'off'; UPDATE sources SET url = 'https://y/' WHERE name = 'ran'`); err != nil {
		t.Fatal(err)
	}
	if got, want := backlog(), "new=true off=true ran=true"; got != want {
		t.Errorf("after re-enabling and moving: backlog = %q, want %q", got, want)
	}
}
