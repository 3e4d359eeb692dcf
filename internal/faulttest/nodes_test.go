package faulttest

import (
	"testing"
	"time"
)

// TestFault_NodeKilled kills one of two nodes with SIGKILL while jobs are
// posted and 300 clients follow the channel, half of them on that node.
// Its clients resume on the other node from their last id, the jobs the
// dead node had claimed are matched by the other, and every client ends
// with every event, once, in order.
func TestFault_NodeKilled(t *testing.T) {
	needFault(t)
	r := newRig(t, "kill", 2)
	r.addClients(300)
	g := r.startIngest(100 * time.Millisecond)
	g.waitAccepted(20, time.Minute)

	killed := time.Now()
	r.nodes[1].kill()
	// Every client is subscribed again, on the node left.
	waitFor(t, time.Minute, "every client subscribed again", func() bool {
		for _, c := range r.clients {
			if !c.isUp() {
				return false
			}
		}
		return true
	})
	allUp := time.Since(killed)
	g.waitAccepted(30, time.Minute)
	log := r.finish()
	n, p50, p99, worst := r.reconnects()
	if n < len(r.clients)/2 {
		t.Errorf("%d reconnections; want one for each of the %d clients of the killed node at least", n, len(r.clients)/2)
	}
	_, refused := g.count()
	t.Logf("one of 2 nodes killed (SIGKILL) under %d clients (%s): %d reconnected to the other (streams ended: %s), all subscribed again %s after the kill; time from a stream's end to the next subscription p50 %s, p99 %s, max %s; %d posts refused by the dead node; %d events each",
		len(r.clients), r.clientsByTransport(), n, r.dropsByTransport(), allUp.Round(time.Millisecond), p50.Round(time.Millisecond), p99.Round(time.Millisecond), worst.Round(time.Millisecond), refused, len(log))
}

// TestFault_RollingRestart restarts two nodes one after the other
// (SIGTERM, wait for the exit, start again on the same port, wait for
// /readyz) under 1,000 clients spread over SSE, WebSocket and long poll
// and over both nodes, while jobs are posted. The clients of the node
// going down resume on the other one; 30 clients that arrive afterwards
// on the restarted nodes replay the run from its first id; every client
// ends with every event, once, in order.
func TestFault_RollingRestart(t *testing.T) {
	needFault(t)
	r := newRig(t, "rolling", 2)
	r.addClients(1000)
	g := r.startIngest(200 * time.Millisecond)
	g.waitAccepted(10, time.Minute)

	var restarts []time.Duration
	for _, n := range r.nodes {
		start := time.Now()
		n.stop()
		n.start()
		restarts = append(restarts, time.Since(start))
		// Both nodes serve again: a job posted now reaches every client.
		g.waitAccepted(5, time.Minute)
		r.waitDelivered(lastJobsEvent(t, r.pool, r.base), 2*time.Minute)
	}
	// Latecomers on both restarted nodes, from the first id: the whole
	// run replayed from the log, then live.
	r.addClients(30)
	g.waitAccepted(10, time.Minute)
	log := r.finish()
	n, p50, p99, worst := r.reconnects()
	if n < 1000 {
		t.Errorf("%d reconnections; want at least one for each of the 1,000 clients", n)
	}
	t.Logf("rolling restart of 2 nodes (stop to ready: %v) under 1,000 clients, then 30 latecomers (%s): %d reconnections (streams ended: %s), time from a stream's end to the next subscription p50 %s, p99 %s, max %s; %d events each",
		roundAll(restarts), r.clientsByTransport(), n, r.dropsByTransport(), p50.Round(time.Millisecond), p99.Round(time.Millisecond), worst.Round(time.Millisecond), len(log))
}
