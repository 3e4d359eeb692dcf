package matcher

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/birjob/birjob/internal/logtest"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
)

// listenerPIDs returns the matcher's listening backends once they ran their
// last LISTEN to the end (a backend shows up as soon as it connects).
func (f *fixture) listenerPIDs() []int32 {
	rows, err := f.pool.Query(context.Background(),
		`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1
			AND state = 'idle' AND query = 'LISTEN ' || $2`, ListenAppName, pgx.Identifier{ChannelAlertsNotify}.Sanitize())
	if err != nil {
		return nil
	}
	pids, _ := pgx.CollectRows(rows, pgx.RowTo[int32])
	return pids
}

// TestWorker_ListenReconnectAfterOutage: an outage pushes the reconnect
// backoff up; once the database is back and the worker has reconnected,
// losing the listening connection again (pg_terminate_backend) is retried
// after the shortest delay (retryMin), and a new job then reaches the
// alert.
func TestWorker_ListenReconnectAfterOutage(t *testing.T) {
	f := newFixture(t)
	ann := f.user("ann@x")
	f.alert(ann, model.Criteria{Query: "scala"})
	log, retries := logtest.Durations("retry_in")
	w := NewWorker(f.pool, log, WithPollInterval(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-w.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("worker not ready")
	}

	restore := pgtest.Outage(t, f.pool)
	logtest.WaitAtLeast(t, retries, retryMax)
	restore()
	f.waitFor("the listener to reconnect", func() bool { return len(f.listenerPIDs()) == 1 })
	// Reconnected and caught up: the outage is over. (An empty outbox
	// proves nothing here, it was empty all along: the session must have
	// matched a job, or a kill during its first catch-up would find it not
	// yet healthy and rightly keep the grown delay.)
	told := func(job int64) func() bool {
		return func() bool {
			for _, e := range f.events() {
				if e.JobID == job && e.Channel == model.UserChannel(ann) {
					return true
				}
			}
			return false
		}
	}
	f.waitFor("a caught-up worker", told(f.job(model.Job{Title: "Scala engineer", URL: "https://x/0"})))

	for len(retries) > 0 { // the delays logged during the outage
		<-retries
	}
	if _, err := f.pool.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, f.listenerPIDs()[0]); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// The session that had caught up retries after the shortest delay, not
	// the outage's grown one: judged by the delay the worker logs, not by
	// the wall clock (a busy machine under -race can take a second to
	// reconnect, catch up and match however short the wait).
	select {
	case d := <-retries:
		if d != retryMin {
			t.Fatalf("the worker waits %s to reconnect after a healthy session was lost; want %s", d, retryMin)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker never noticed its listening connection was lost")
	}
	job := f.job(model.Job{Title: "Scala developer", URL: "https://x/1"})
	f.waitFor("the alert", told(job))
	// The measure, from the kill: the change reaches its
	// destination within a second (a wall clock; the logged delay above is
	// the mechanism).
	el := time.Since(killed)
	t.Logf("the alert after the kill: %s", el)
	if el > time.Second {
		t.Errorf("a lost LISTEN connection delayed the alert by %s; want under a second", el)
	}
}
