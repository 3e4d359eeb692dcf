package faulttest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// listeners returns the backends that hold a LISTEN: the matchers' and the
// schedulers' (named by application_name), and the hubs', whose last
// statement is LISTEN or their read of the event log after a wake-up
// (storage.EventsAfter; the pool's replays read through another
// statement). It counts the hubs' apart from the named ones.
func listeners(t *testing.T, pool *pgxpool.Pool) (pids []int32, named, followers int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := pool.Query(ctx, `SELECT pid, application_name <> '' FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND (
			application_name IN ('birjob-matcher', 'birjob-scheduler')
			OR query LIKE 'LISTEN %'
			OR query LIKE '%FROM events%WHERE id > $1 ORDER BY id LIMIT $2')`)
	if err != nil {
		t.Fatalf("find the LISTEN backends: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int32
		var isNamed bool
		if err := rows.Scan(&pid, &isNamed); err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
		if isNamed {
			named++
		} else {
			followers++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return pids, named, followers
}

// TestFault_ListenBackendKilled kills every LISTEN backend of two nodes
// (pg_terminate_backend from a connection of the test's own) four times
// while jobs are posted and 60 clients follow the channel: each time the
// listeners come back, the jobs posted meanwhile are matched and
// delivered, and every client ends with every event, once, in order. The
// courier is off: its listener would read the log as a hub's does, and the
// two hubs' listeners would not be told from it (courier/listen_test.go
// kills the courier's).
func TestFault_ListenBackendKilled(t *testing.T) {
	needFault(t)
	r := newRig(t, "listen", 2, "BIRJOB_COURIER=false")
	r.addClients(60)
	g := r.startIngest(100 * time.Millisecond)
	g.waitAccepted(5, time.Minute)

	var pids []int32
	waitFor(t, time.Minute, "the LISTEN backends of both nodes", func() bool {
		var named, followers int
		pids, named, followers = listeners(t, r.pool)
		return named == 4 && followers == 2
	})
	var backs, delivered []time.Duration
	for round := range 4 {
		last := lastJobsEvent(t, r.pool, r.base)
		killed := time.Now()
		for _, pid := range pids {
			if _, err := r.pool.Exec(context.Background(), "SELECT pg_terminate_backend($1)", pid); err != nil {
				t.Fatalf("round %d: terminate %d: %v", round, pid, err)
			}
		}
		old := pids
		waitFor(t, time.Minute, "new LISTEN backends", func() bool {
			var named, followers int
			pids, named, followers = listeners(t, r.pool)
			for _, p := range pids {
				if slices.Contains(old, p) {
					return false
				}
			}
			return named == 4 && followers == 2
		})
		backs = append(backs, time.Since(killed))
		ev := r.firstEventSince(last, killed, time.Minute)
		r.waitDelivered(ev.id, time.Minute)
		var slowest time.Time
		for _, c := range r.clients {
			if a := c.arrival(ev.id); a.After(slowest) {
				slowest = a
			}
		}
		delivered = append(delivered, slowest.Sub(killed))
	}
	// Each hub's own count says its LISTEN connection was among the killed.
	for _, n := range r.nodes {
		if got := n.metric(t, "birjob_notify_listen_reconnects_total"); got < 4 {
			t.Errorf("%s: the hub reconnected its listener %v times, want 4 or more", n.name, got)
		}
	}
	g.waitAccepted(10, time.Minute)
	log := r.finish()
	t.Logf("LISTEN backends (%d) killed 4 times: listening again after %v; first event committed after the kill at every client after %v; %d clients (%s), %d events each",
		len(pids), roundAll(backs), roundAll(delivered), len(r.clients), r.clientsByTransport(), len(log))
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}
