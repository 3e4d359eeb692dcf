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
// reconnected, losing the listening connection again waits only the
// shortest delay (listenRetryMin) before reconnecting, and a source
// change made meanwhile is scheduled.
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

	for len(retries) > 0 { // the delays logged while the database was away
		<-retries
	}
	pids := listenerPIDs(db, ListenAppName)
	if _, err := db.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, pids[0]); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// The wait before reconnecting is the reset one, not the outage's
	// grown one: judged by the delay the listener logs, not by the wall
	// clock (a busy machine under -race can take a second to reconnect
	// and reload however short the wait).
	select {
	case d := <-retries:
		if d != listenRetryMin {
			t.Fatalf("the listener waits %s to reconnect after a healthy connection was lost; want %s", d, listenRetryMin)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the listener never noticed its connection was lost")
	}
	for len(reloads) > 0 {
		<-reloads
	}
	mustCreate(t, db, boardSource("https://board.example/"))
	deadline := time.After(30 * time.Second)
	for {
		select {
		case n := <-reloads:
			if n != 1 {
				continue
			}
			// The measure, from the kill: the change reaches its
			// destination within a second (a wall clock; the logged delay above is
			// the mechanism).
			el := time.Since(killed)
			t.Logf("the new source scheduled after the kill: %s", el)
			if el > time.Second {
				t.Errorf("a lost LISTEN connection delayed scheduling by %s; want under a second", el)
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
