package main

import (
	"context"
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The append measurement writes what it counts, with the commit-order lock
// switched off and on again in its database.
func TestAppendRun_WritesWhatItCounts(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	for _, locked := range []bool{false, true} {
		if err := setLock(ctx, pool, locked); err != nil {
			t.Fatal(err)
		}
	}
	var enabled string
	if err := pool.QueryRow(ctx, `SELECT tgenabled FROM pg_trigger WHERE tgname = 'events_lock_writers'`).Scan(&enabled); err != nil || enabled != "O" {
		t.Fatalf("commit-order trigger after setLock(true): %q, %v", enabled, err)
	}
	r, err := appendRun(ctx, pool, 3, 5, 300*time.Millisecond, sampleEventData())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if r.calls == 0 || n != r.calls*5 || len(r.lat) != r.calls {
		t.Fatalf("%d calls of 5 events counted, %d latencies, %d events in the log", r.calls, len(r.lat), n)
	}
}

// The start-up fixtures: n alerts of n/3 users, and the criteria-change
// trigger on again afterwards (a node's matcher relies on it).
func TestLoadAlerts(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	if err := loadAlerts(ctx, pool, 31, 1); err != nil {
		t.Fatal(err)
	}
	var alerts, users, changes int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM alerts), (SELECT count(DISTINCT user_id) FROM alerts),
		(SELECT count(*) FROM criteria_changes)`).Scan(&alerts, &users, &changes); err != nil {
		t.Fatal(err)
	}
	if alerts != 31 || users != 11 || changes != 0 {
		t.Fatalf("%d alerts of %d users, %d criteria changes; want 31 of 11, 0", alerts, users, changes)
	}
	if _, err := pool.Exec(ctx, `UPDATE alerts SET paused = true WHERE id = (SELECT min(id) FROM alerts)`); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM criteria_changes`).Scan(&changes); err != nil || changes != 1 {
		t.Fatalf("criteria changes after an update: %d, %v; the trigger was left off", changes, err)
	}
}
