package scraper

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// mutableBoard serves one list page whose postings the test changes
// between runs, and can be switched to failing.
type mutableBoard struct {
	mu     sync.Mutex
	jobs   map[string]string // id → title
	status int
}

func (b *mutableBoard) set(jobs map[string]string, status int) {
	b.mu.Lock()
	b.jobs, b.status = jobs, status
	b.mu.Unlock()
}

func (b *mutableBoard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.URL.Path == "/robots.txt" {
		http.NotFound(w, r)
		return
	}
	if b.status != 200 {
		w.WriteHeader(b.status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, "<html><body>")
	for id, title := range b.jobs {
		fmt.Fprintf(w, `<div class="job" data-id="%s"><a href="/jobs/%s">%s</a></div>`, id, id, title)
	}
	fmt.Fprint(w, "</body></html>")
}

func boardSource(url string) model.Source {
	return model.Source{Name: "board", Kind: "html", URL: url, Schedule: "@every 1h", Enabled: true,
		Selectors: map[string]string{"item": "div.job", "title": "a", "url": "a@href", "externalId": "@data-id"}}
}

func runOnce(t *testing.T, s *Service, id int64) storage.Run {
	t.Helper()
	_, done, err := s.RunNow(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		return r
	case <-time.After(60 * time.Second):
		t.Fatal("run did not finish")
	}
	return storage.Run{}
}

func TestRun_DedupeUpdateAndExpiry(t *testing.T) {
	s, db := newTestService(t)
	board := &mutableBoard{}
	srv := httptest.NewServer(board)
	defer srv.Close()
	src := mustCreate(t, db, boardSource(srv.URL+"/"))
	outbox := func(kind string) int {
		return countRows(t, db, `SELECT count(*) FROM job_changes WHERE kind = $1`, kind)
	}

	board.set(map[string]string{"1": "Go dev", "2": "SQL dev", "3": "Ops", "4": "QA"}, 200)
	r := runOnce(t, s, src.ID)
	if r.Status != StatusOK || r.Found != 4 || r.New != 4 || outbox("new") != 4 {
		t.Fatalf("run 1 = %+v, outbox %d", r, outbox("new"))
	}
	// A changed posting is updated, not duplicated, not announced again.
	board.set(map[string]string{"1": "Senior Go dev", "2": "SQL dev", "3": "Ops", "4": "QA"}, 200)
	r = runOnce(t, s, src.ID)
	if r.Status != StatusOK || r.New != 0 || r.Updated != 1 || outbox("new") != 4 {
		t.Fatalf("run 2 = %+v", r)
	}
	if n := countRows(t, db, `SELECT count(*) FROM jobs WHERE source_id = $1`, src.ID); n != 4 {
		t.Fatalf("jobs = %d", n)
	}
	// Missing once: kept (N = 2).
	board.set(map[string]string{"1": "Senior Go dev", "2": "SQL dev", "3": "Ops"}, 200)
	r = runOnce(t, s, src.ID)
	if r.Expired != 0 || outbox("expired") != 0 {
		t.Fatalf("run 3 expired after one miss: %+v", r)
	}
	// The board fails: nothing expires, however many runs.
	board.set(nil, 503)
	for i := 0; i < 3; i++ {
		r = runOnce(t, s, src.ID)
		if r.Status != StatusFailed || r.Expired != 0 || r.ErrorCount == 0 || len(r.Errors) == 0 {
			t.Fatalf("failing run = %+v", r)
		}
	}
	// The board answers but with far fewer jobs: suspect, nothing expires.
	board.set(map[string]string{"1": "Senior Go dev"}, 200)
	r = runOnce(t, s, src.ID)
	if r.Status != StatusSuspect || r.Expired != 0 || outbox("expired") != 0 {
		t.Fatalf("suspect run = %+v", r)
	}
	if n := countRows(t, db, `SELECT count(*) FROM jobs WHERE expired_at IS NOT NULL`); n != 0 {
		t.Fatalf("%d jobs expired by unhealthy runs", n)
	}
	// Missing from a second healthy run: job 4 expires, with its outbox row.
	board.set(map[string]string{"1": "Senior Go dev", "2": "SQL dev", "3": "Ops"}, 200)
	r = runOnce(t, s, src.ID)
	if r.Status != StatusOK || r.Expired != 1 || outbox("expired") != 1 {
		t.Fatalf("run after = %+v, expired outbox %d", r, outbox("expired"))
	}
	var reason string
	if err := db.QueryRow(context.Background(), `SELECT expired_reason FROM jobs WHERE dedupe_key = 'id:4'`).Scan(&reason); err != nil || reason != "missing" {
		t.Fatalf("job 4: %q %v", reason, err)
	}
	// It comes back: live again and announced again (users were told it
	// had gone).
	board.set(map[string]string{"1": "Senior Go dev", "2": "SQL dev", "3": "Ops", "4": "QA"}, 200)
	r = runOnce(t, s, src.ID)
	if r.New != 1 || outbox("new") != 5 {
		t.Fatalf("revival = %+v", r)
	}
	runs, err := storage.New(db).ListRuns(context.Background(), src.ID, 100)
	if err != nil || len(runs) != 9 || runs[0].FinishedAt == nil {
		t.Fatalf("runs = %d %v", len(runs), err)
	}
}

func TestIngest_BatchAndValidThrough(t *testing.T) {
	s, db := newTestService(t)
	src := mustCreate(t, db, model.Source{Name: "b", Kind: "rss", URL: "https://example.com/f", Schedule: "@every 1h"})
	past := time.Now().Add(-time.Hour)
	future := time.Now().Add(time.Hour)
	jobs := []model.Job{
		{Title: "A", URL: "https://example.com/a"},
		{Title: "B", URL: "https://example.com/b", ValidThrough: &future},
		{Title: "C", URL: "https://example.com/c", ValidThrough: &past},
		{Title: "", URL: "https://example.com/d"},
		{Title: "A again", URL: "https://example.com/a?utm_source=x"},
	}
	res, err := s.Ingest(context.Background(), src.ID, jobs)
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 2 || res.Skipped != 2 || res.Jobs[3].Error == "" || res.Jobs[0].Error == "" {
		t.Fatalf("res = %+v", res)
	}
	if n := countRows(t, db, `SELECT count(*) FROM job_changes`); n != 2 {
		t.Fatalf("outbox = %d, want 2 (the already-past job is stored expired, unannounced)", n)
	}
	// B's deadline passes: the sweep expires it with an outbox row.
	if _, err := db.Exec(context.Background(), `UPDATE jobs SET valid_through = now() - interval '1 second' WHERE title = 'B'`); err != nil {
		t.Fatal(err)
	}
	n, err := storage.New(db).ExpireValidThrough(context.Background(), 0)
	if err != nil || n != 1 {
		t.Fatalf("sweep = %d %v", n, err)
	}
	if n := countRows(t, db, `SELECT count(*) FROM job_changes WHERE kind = 'expired'`); n != 1 {
		t.Fatalf("expired outbox = %d", n)
	}
}

func TestRun_HungServerCannotHangRun(t *testing.T) {
	db := newTestDB(t)
	cfg := testConfig()
	// The deadline must leave room for robots.txt and the list page on a
	// busy machine under -race (with 2 s a slow start would find no list
	// fields): the test is about the detail pages that hang.
	cfg.RunTimeout = 10 * time.Second
	cfg.RequestTimeout = time.Minute // longer than the run: the run deadline must win
	s := NewService(db, cfg, testLogger(t))
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/robots.txt":
			http.NotFound(w, r)
		case r.URL.Path == "/":
			fmt.Fprint(w, `<div class="job" data-id="1"><a href="/slow/1">One</a></div><div class="job" data-id="2"><a href="/slow/2">Two</a></div>`)
		default:
			// Detail pages send headers and a first byte, then hang.
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>"))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	defer close(release)
	src := boardSource(srv.URL + "/")
	src.Selectors["detail"] = "true"
	src = mustCreate(t, db, src)
	// A healthy history, so that expiry would happen if the run were
	// trusted.
	if _, err := s.Ingest(context.Background(), src.ID, []model.Job{{Title: "Old", URL: srv.URL + "/old"}}); err != nil {
		t.Fatal(err)
	}
	r := runOnce(t, s, src.ID)
	// The deadline is named first, whichever of it and the cancelled
	// requests' errors the crawl saw first.
	if r.Status != StatusSuspect || r.Expired != 0 || len(r.Errors) == 0 || !strings.Contains(r.Errors[0], "(the run deadline)") {
		t.Fatalf("run = %+v", r)
	}
	if r.Found != 2 || r.New != 2 {
		t.Errorf("the list fields were lost: %+v", r)
	}
}
