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
// connection (pg_terminate_backend) delays a push by less than a second,
// as for the scheduler, the matcher and the hub.
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

	var pid int32
	err := f.pool.QueryRow(context.Background(), `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND state = 'idle' AND query LIKE 'LISTEN %'`).Scan(&pid)
	if err != nil {
		t.Fatalf("the courier's listening backend: %v", err)
	}
	if _, err := f.pool.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f.match(ann, job(1, "Go developer", a))
	recv(t, ps.Messages, 30*time.Second, "push after the listener was killed")
	if el := time.Since(start); el > time.Second {
		t.Fatalf("the push came %s after the match; want under a second", el)
	}
}
