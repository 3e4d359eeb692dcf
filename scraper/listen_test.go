package scraper

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/internal/logtest"
	"github.com/birjob/birjob/internal/pgtest"
)

// listenerPIDs returns the backends of db's database named app that
// have run LISTEN to the end (a backend shows up as soon as it connects).
func listenerPIDs(db *pgxpool.Pool, app string) []int32 {
	rows, err := db.Query(context.Background(),
		`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1
			AND state = 'idle' AND query LIKE 'LISTEN%'`, app)
	if err != nil {
		return nil
	}
	pids, _ := pgx.CollectRows(rows, pgx.RowTo[int32])
	return pids
}

// TestScheduler_ListenReconnectAfterOutage: an outage pushes the LISTEN
// reconnect backoff up; once the database is back and the listener has
// reconnected, losing the listening connection again delays a source
// change by less than a second.
func TestScheduler_ListenReconnectAfterOutage(t *testing.T) {
	db := newTestDB(t)
	log, retries := logtest.Durations("retry_in")
	s := NewService(db, testConfig(), log)
	reloads := make(chan int, 100)
	s.afterReload = func(n int) {
		select {
		case reloads <- n:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the listener", func() bool { return len(listenerPIDs(db, ListenAppName)) == 1 })

	restore := pgtest.Outage(t, db)
	logtest.WaitAtLeast(t, retries, listenRetryMax)
	restore()
	waitFor(t, "the listener to reconnect", func() bool { return len(listenerPIDs(db, ListenAppName)) == 1 })

	pids := listenerPIDs(db, ListenAppName)
	if _, err := db.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, pids[0]); err != nil {
		t.Fatal(err)
	}
	for len(reloads) > 0 {
		<-reloads
	}
	start := time.Now()
	mustCreate(t, db, boardSource("https://board.example/"))
	deadline := time.After(30 * time.Second)
	for {
		select {
		case n := <-reloads:
			if n != 1 {
				continue
			}
			if el := time.Since(start); el > time.Second {
				t.Fatalf("the new source was scheduled after %s; want under a second", el)
			}
			return
		case <-deadline:
			t.Fatal("the new source was never scheduled")
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
