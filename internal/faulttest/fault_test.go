package faulttest

import (
	"testing"
	"time"
)

// outage is how long PostgreSQL stays away in the restart tests: long
// enough that every reconnect loop of a node has backed off several times.
const outage = 8 * time.Second

// firstEventSince waits for the first event of the public channel created
// (on the database's clock, the same host's) at or after since, with id
// above after.
func (r *rig) firstEventSince(after int64, since time.Time, d time.Duration) logEvent {
	r.t.Helper()
	var ev logEvent
	waitFor(r.t, d, "an event committed after the outage", func() bool {
		for _, e := range jobsLog(r.t, r.pool, after) {
			if !e.created.Before(since) {
				ev = e
				return true
			}
		}
		return false
	})
	return ev
}

// TestFault_PostgresRestartDuringDelivery stops PostgreSQL for 8 s under
// two nodes delivering a steady stream of jobs to 90 clients, then starts
// it again on the same port. Streams stay open through the outage, posts
// are refused with 503 while it lasts, and once the database is back the
// jobs posted are matched and delivered: every client ends with every
// event of the log, once, in order.
func TestFault_PostgresRestartDuringDelivery(t *testing.T) {
	needFault(t)
	r := newRig(t, "pgrestart", 2)
	r.addClients(90)
	g := r.startIngest(100 * time.Millisecond)
	g.waitAccepted(10, time.Minute)
	r.waitDelivered(lastJobsEvent(t, r.pool, r.base), time.Minute)
	last := lastJobsEvent(t, r.pool, r.base)

	r.pg.stop()
	stopped := time.Now()
	<-time.After(outage) // the fault's length, not a synchronisation
	_, refused := g.count()
	back := r.pg.start()

	ev := r.firstEventSince(last, stopped, time.Minute)
	r.waitDelivered(ev.id, time.Minute)
	accepted := g.firstAcceptedAfter(stopped) // none is, while the database is away
	g.waitAccepted(20, time.Minute)
	log := r.finish()
	checkRetries(t, r.nodes...)
	drops := 0
	for _, c := range r.clients {
		drops += c.drops
	}
	t.Logf("PostgreSQL away %s; %d posts refused meanwhile; back (ready to accept connections, in its log) at +0: first post accepted +%s, first event committed +%s, first delivered +%s",
		back.Sub(stopped).Round(time.Millisecond), refused, accepted.Sub(back).Round(time.Millisecond),
		ev.created.Sub(back).Round(time.Millisecond), r.firstArrival(ev.id).Sub(back).Round(time.Millisecond))
	t.Logf("%d clients (%s) on 2 nodes, %d events each, streams dropped by the outage: %d", len(r.clients), r.clientsByTransport(), len(log), drops)
}
