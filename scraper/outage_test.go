package scraper

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/birjob/birjob/demoboard"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
)

// signalOn is a slog handler that closes seen at the first record whose
// message is msg.
type signalOn struct {
	msg  string
	seen chan struct{}
	once *sync.Once
}

func (h signalOn) Enabled(context.Context, slog.Level) bool { return true }
func (h signalOn) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() { close(h.seen) })
	}
	return nil
}
func (h signalOn) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalOn) WithGroup(string) slog.Handler      { return h }

// TestRun_DatabaseAwayWhileCrawling: the database goes away while a run
// is crawling and comes back while the run waits: the run stores what it
// found and records itself ok, instead of failing at its first write and
// losing every posting (internal/faulttest stops a real server).
func TestRun_DatabaseAwayWhileCrawling(t *testing.T) {
	db := pgtest.New(t)
	now := time.Now().Truncate(time.Second)
	board := demoboard.New(demoboard.Options{Seed: 7, Now: func() time.Time { return now }})
	asked, release := make(chan struct{}), make(chan struct{})
	var askedOnce sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		askedOnce.Do(func() { close(asked) })
		<-release // the crawl is in flight until the database is away
		board.ServeHTTP(w, r)
	}))
	defer srv.Close()
	want := len(board.JobsAt(now))

	waiting := signalOn{msg: "the database is away; the run waits for it to store what it found", seen: make(chan struct{}), once: &sync.Once{}}
	s := NewService(db, testConfig(), slog.New(waiting))
	src := mustCreate(t, db, model.Source{Name: "demo-rss", Kind: model.SourceRSS, URL: board.FeedURL(srv.URL), Enabled: true})
	_, done, err := s.RunNow(context.Background(), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-asked:
	case <-time.After(30 * time.Second):
		t.Fatal("the run never asked the board")
	}
	restore := pgtest.Outage(t, db)
	close(release)
	select {
	case <-waiting.seen:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not wait for the database")
	}
	restore()
	select {
	case run := <-done:
		if run.Status != StatusOK || run.New != want {
			t.Fatalf("run %s, %d new (errors %v); want ok, %d new", run.Status, run.New, run.Errors, want)
		}
	case <-time.After(time.Minute):
		t.Fatal("the run did not finish")
	}
	if n := countRows(t, db, `SELECT count(*) FROM jobs`); n != want {
		t.Errorf("%d jobs stored, want %d", n, want)
	}
}
