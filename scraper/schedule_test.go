package scraper

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/birjob/birjob/model"
)

func TestParseSchedule(t *testing.T) {
	good := []string{"*/5 * * * *", "0 */5 * * * *", "@hourly", "@every 10s", "@every 1h30m", "CRON_TZ=Asia/Baku 0 9 * * *", "TZ=UTC */1 * * * *"}
	for _, g := range good {
		if _, err := ParseSchedule(g); err != nil {
			t.Errorf("%q: %v", g, err)
		}
	}
	bad := []string{"", "CRON_TZ=", "CRON_TZ= ", "TZ=", "CRON_TZ=Asia/Baku", "* * *", "61 * * * *", "@every", "@every -1s", "@every 0s", "@weekly-ish", "0 0 30 2 *", "CRON_TZ=Nowhere/Land * * * * *"}
	for _, b := range bad {
		if _, err := ParseSchedule(b); err == nil {
			t.Errorf("%q accepted", b)
		}
	}
	// @every ticks fall on wall-clock multiples of the interval.
	s, _ := ParseSchedule("@every 10s")
	next := s.Next(time.Date(2026, 1, 1, 12, 0, 3, 5e8, time.UTC))
	if !next.Equal(time.Date(2026, 1, 1, 12, 0, 10, 0, time.UTC)) {
		t.Errorf("next = %v", next)
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"CRON_TZ=", "@every 1s", "*/5 * * * *", "TZ=UTC 0 0 * * *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		sch, err := ParseSchedule(spec) // must not panic
		if err == nil {
			sch.Next(time.Now())
		}
	})
}

// TestScheduler_TwoNodesOncePerTick runs two schedulers against one
// database: every tick of the source is run by exactly one of them.
func TestScheduler_TwoNodesOncePerTick(t *testing.T) {
	db := newTestDB(t)
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		fetches.Add(1)
		fmt.Fprint(w, `<div class="job" data-id="1"><a href="/jobs/1">One</a></div>`)
	}))
	defer srv.Close()
	src := boardSource(srv.URL + "/")
	src.Schedule = "@every 1s"
	src = mustCreate(t, db, src)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 2)
	for _, node := range []string{"node-a", "node-b"} {
		cfg := testConfig()
		cfg.Node = node
		s := NewService(db, cfg, testLogger(t))
		go func() { done <- s.Run(ctx) }()
	}
	const want = 4
	deadline := time.Now().Add(60 * time.Second)
	for countRows(t, db, `SELECT count(*) FROM scrape_runs WHERE status <> 'running'`) < want {
		if time.Now().After(deadline) {
			t.Fatal("the schedulers did not run the source")
		}
		time.Sleep(50 * time.Millisecond) // polling the database for a condition, not synchronising
	}
	cancel()
	for i := 0; i < 2; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	}
	runs := countRows(t, db, `SELECT count(*) FROM scrape_runs WHERE source_id = $1`, src.ID)
	ticks := countRows(t, db, `SELECT count(DISTINCT tick) FROM scrape_runs WHERE source_id = $1`, src.ID)
	if runs != ticks {
		t.Errorf("%d runs for %d ticks", runs, ticks)
	}
	// Every run that ended ok fetched the list page once; a run the cancel
	// interrupted may have claimed its tick and stopped before its fetch
	// (a tick can fire between the last counted run and the cancel), so
	// only more fetches than runs means a tick ran twice.
	ok := countRows(t, db, `SELECT count(*) FROM scrape_runs WHERE source_id = $1 AND status = $2`, src.ID, StatusOK)
	if got := fetches.Load(); got > int64(runs) || got < int64(ok) {
		t.Errorf("the list page was fetched %d times for %d runs (%d ok): a tick ran twice, or an ok run fetched nothing", got, runs, ok)
	}
	if n := countRows(t, db, `SELECT count(*) FROM scrape_runs WHERE tick <> date_trunc('second', tick)`); n != 0 {
		t.Errorf("%d ticks are not whole seconds", n)
	}
}

// TestScheduler_ReloadsOnChange: a source created, edited or disabled
// while the scheduler runs takes effect without a restart.
func TestScheduler_ReloadsOnChange(t *testing.T) {
	db := newTestDB(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<div class="job" data-id="1"><a href="/jobs/1">One</a></div>`)
	}))
	defer srv.Close()
	cfg := testConfig()
	cfg.ReloadInterval = time.Hour // only notifications can trigger the reloads
	s := NewService(db, cfg, testLogger(t))
	scheduled := make(chan int, 100)
	s.afterReload = func(n int) { scheduled <- n }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	waitFor := func(want int) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case n := <-scheduled:
				if n == want {
					return
				}
			case <-timeout:
				t.Fatalf("never saw %d scheduled sources", want)
			}
		}
	}
	waitFor(0)
	src := boardSource(srv.URL + "/")
	src.Schedule = "@every 1s"
	src = mustCreate(t, db, src)
	waitFor(1)
	deadline := time.Now().Add(30 * time.Second)
	for countRows(t, db, `SELECT count(*) FROM scrape_runs WHERE source_id = $1`, src.ID) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the new source never ran")
		}
		time.Sleep(50 * time.Millisecond)
	}
	src.Enabled = false
	if _, err := s.UpdateSource(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	waitFor(0)
	other := mustCreate(t, db, model.Source{Name: "feed", Kind: "rss", URL: srv.URL + "/f", Schedule: "@every 1h", Enabled: true})
	waitFor(1)
	if err := s.DeleteSource(context.Background(), other.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(0)
}
