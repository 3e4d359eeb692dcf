package faulttest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/birjob/birjob/demoboard"
)

// gatedBoard serves the demo job board and holds its feed's answer until
// released, so that a scrape is known to be in flight.
type gatedBoard struct {
	board   http.Handler
	asked   chan struct{} // closed at the first feed request
	release chan struct{}
	once    sync.Once
}

func (g *gatedBoard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/feed.rss" {
		g.once.Do(func() { close(g.asked) })
		select {
		case <-g.release:
		case <-r.Context().Done():
			return
		}
	}
	g.board.ServeHTTP(w, r)
}

// TestFault_PostgresRestartDuringScrape stops PostgreSQL while a scrape
// of the demo board (its RSS feed, about 120 postings) is in flight and
// lets the board answer while the database is away, then starts the
// database again. The run is not lost: its postings are stored once the
// database is back, and their events reach every client, once, in order.
func TestFault_PostgresRestartDuringScrape(t *testing.T) {
	needFault(t)
	now := time.Now() // the board's clock stands still: it lists the same postings throughout
	board := demoboard.New(demoboard.Options{Seed: 7, Now: func() time.Time { return now }})
	gate := &gatedBoard{board: board, asked: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(gate)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-gate.release:
		default:
			close(gate.release)
		}
	})
	listed := len(board.JobsAt(now))

	r := newRig(t, "pgscrape", 1)
	r.addClients(60)
	src := fmt.Sprintf(`{"name":"gated demo board","kind":"rss","url":%q,"schedule":"0 0 1 1 *","enabled":true,"respectRobots":false}`, srv.URL+"/feed.rss")
	var out []byte
	if err := r.call(r.nodes[0], "POST", "/api/sources", src, 201, &out); err != nil {
		t.Fatalf("create source: %v", err)
	}
	var created struct{ ID int64 }
	json.Unmarshal(out, &created)
	if err := r.call(r.nodes[0], "POST", fmt.Sprintf("/api/sources/%d/run", created.ID), "", 202, nil); err != nil {
		t.Fatalf("run the source: %v", err)
	}
	select {
	case <-gate.asked:
	case <-time.After(time.Minute):
		t.Fatal("the scrape never asked the board for its feed")
	}

	// The scrape is in flight: the database goes away, the board answers.
	last := lastJobsEvent(t, r.pool, r.base)
	r.pg.stop()
	stopped := time.Now()
	close(gate.release)
	<-time.After(outage) // the fault's length, not a synchronisation
	back := r.pg.start()

	ev := r.firstEventSince(last, stopped, time.Minute)
	var log []logEvent
	waitFor(t, 2*time.Minute, fmt.Sprintf("events of the %d postings of the feed", listed), func() bool {
		log = jobsLog(t, r.pool, r.base)
		return len(log) >= listed
	})
	r.waitDelivered(log[len(log)-1].id, time.Minute)
	log = r.finish()
	checkRetries(t, r.nodes...)
	// The run itself is recorded as it went: ok, every posting new.
	if err := r.call(r.nodes[0], "GET", fmt.Sprintf("/api/sources/%d/runs", created.ID), "", 200, &out); err != nil {
		t.Fatalf("runs: %v", err)
	}
	var runs struct {
		Runs []struct {
			Status     string
			Found, New int
			Errors     []string
		}
	}
	json.Unmarshal(out, &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].Status != "ok" || runs.Runs[0].New != listed {
		t.Errorf("runs of the source: %+v; want one, ok, with %d new", runs.Runs, listed)
	}
	t.Logf("a scrape in flight while PostgreSQL was away %s: after it came back, first event committed +%s, first delivered +%s; %d postings, %d events to each of %d clients (%s)",
		back.Sub(stopped).Round(time.Millisecond), ev.created.Sub(back).Round(time.Millisecond), r.firstArrival(ev.id).Sub(back).Round(time.Millisecond),
		listed, len(log), len(r.clients), r.clientsByTransport())
}
