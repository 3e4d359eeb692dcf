package courier

import (
	"context"
	"testing"
	"time"

	"github.com/birjob/birjob/internal/logtest"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/internal/pushtest"
)

// TestCourier_ListenReconnectAfterOutage: an outage pushes the courier's
// reconnect backoff up; once it leads again, losing its listening
// connection (pg_terminate_backend) is retried after the shortest delay,
// not the outage's grown one, as for the scheduler, the matcher and the
// hub, and a match then reaches the push service.
func TestCourier_ListenReconnectAfterOutage(t *testing.T) {
	f := newFixture(t)
	ps := pushtest.New(t)
	sub := ps.Subscribe(t)
	ann := f.user("ann@example.com")
	a := f.alert(ann, "Go", "off", false)
	f.subscribe(ann, sub.Endpoint, sub.P256dh, sub.Auth)
	cfg := testConfig()
	cfg.PollInterval = time.Hour // only a notification wakes it
	log, retries := logtest.Durations("retry_in")
	r := f.start(cfg, func(c *Courier) { c.log = log })
	leads := func(what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !r.Leader() {
			if time.Now().After(deadline) {
				t.Fatalf("the courier does not lead %s", what)
			}
			time.Sleep(20 * time.Millisecond) // polling a flag the courier sets; bounded above
		}
	}
	leads("at start")

	restore := pgtest.Outage(t, f.pool)
	logtest.WaitAtLeast(t, retries, time.Second) // the cap
	restore()
	leads("after the outage")

	for len(retries) > 0 { // the delays logged during the outage
		<-retries
	}
	var pid int32
	err := f.pool.QueryRow(context.Background(), `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND state = 'idle' AND query LIKE 'LISTEN %'`).Scan(&pid)
	if err != nil {
		t.Fatalf("the courier's listening backend: %v", err)
	}
	if _, err := f.pool.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// The session that had led retries after the shortest delay, not the
	// outage's grown one: judged by the delay the courier logs, not by the
	// wall clock (a busy machine under -race can take a second to
	// reconnect and send however short the wait).
	if d := recv(t, retries, 30*time.Second, "retry after the listener was killed"); d >= time.Second {
		t.Fatalf("the courier waits %s to reconnect after leading; want the reset delay (100ms)", d)
	}
	f.match(ann, job(1, "Go developer", a))
	recv(t, ps.Messages, 30*time.Second, "push after the listener was killed")
	// The measure, from the kill: the change reaches its
	// destination within a second (a wall clock; the logged delay above is
	// the mechanism).
	el := time.Since(killed)
	t.Logf("the push after the kill: %s", el)
	if el > time.Second {
		t.Errorf("a lost LISTEN connection delayed the push by %s; want under a second", el)
	}
}
