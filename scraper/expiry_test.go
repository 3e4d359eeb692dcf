package scraper

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/birjob/birjob/model"
)

// TestBacklog_FirstRunIsNotNews: a new source's first run lists its old
// postings (new-job on "jobs") without alerting anyone; a posting dated
// within the backlog age, or undated and new to birjob, still alerts; the
// next run's new posting alerts. Disabling and re-enabling the source
// makes its next run a backlog run again.
func TestBacklog_FirstRunIsNotNews(t *testing.T) {
	p := newPipeline(t, testConfig())
	board := newFixtureBoard(t)
	me := p.user("a@example.com", "golang")
	old := []post{
		{id: "1", title: "Golang developer 1", company: "Acme", place: "Baku", posted: ago(10 * 24 * time.Hour)},
		{id: "2", title: "Golang developer 2", company: "Acme", place: "Baku", posted: ago(72 * time.Hour)},
		{id: "3", title: "Golang developer 3", company: "Acme", place: "Baku", posted: ago(30 * 24 * time.Hour)},
	}
	fresh := post{id: "4", title: "Golang developer 4", company: "Acme", place: "Baku", posted: ago(2 * time.Hour)}
	undated := post{id: "5", title: "Golang developer 5", company: "Acme", place: "Baku"}
	board.set("a", append(old, fresh, undated)...)
	src := p.source("board", model.SourceRSS, board.URL+"/a.rss")

	if r := p.run(src); r.New != 5 {
		t.Fatalf("first run = %+v", r)
	}
	if n := len(p.events(model.ChannelJobs)); n != 5 {
		t.Errorf("jobs channel: %d new-job events, want 5 (the list shows the backlog)", n)
	}
	p.expectEvents(me, "new-job Golang developer 4", "new-job Golang developer 5")

	// The next run is not a backlog run: a new posting alerts, however
	// old its date.
	late := post{id: "6", title: "Golang developer 6", company: "Acme", place: "Baku", posted: ago(5 * 24 * time.Hour)}
	board.set("a", append(old, fresh, undated, late)...)
	p.run(src)
	p.expectEvents(me, "new-job Golang developer 4", "new-job Golang developer 5", "new-job Golang developer 6")

	// Disabled: every job expires, for "jobs" and for the user told.
	ctx := context.Background()
	src.Enabled = false
	if _, err := p.s.UpdateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	p.drain()
	told := []string{"new-job Golang developer 4", "new-job Golang developer 5", "new-job Golang developer 6",
		"job-expired Golang developer 4", "job-expired Golang developer 5", "job-expired Golang developer 6"}
	p.expectEvents(me, told...)
	if n := countRows(t, p.db, `SELECT count(*) FROM jobs WHERE expired_at IS NULL`); n != 0 {
		t.Errorf("%d jobs live after the source was disabled", n)
	}
	// Re-enabled: its jobs are listed again, and the run is a backlog run:
	// only the recent ones alert again.
	src.Enabled = true
	if _, err := p.s.UpdateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	p.run(src)
	if n := countRows(t, p.db, `SELECT count(*) FROM jobs WHERE expired_at IS NULL`); n != 6 {
		t.Errorf("%d jobs live after the source was re-enabled, want 6", n)
	}
	p.expectEvents(me, append(told, "new-job Golang developer 4")...)
}

// TestBacklog_MaxAgeConfigurable: Config.BacklogMaxAge
// (BIRJOB_BACKLOG_MAX_AGE) sets how old a dated posting of a backlog run
// may be and still alert: with four days, a posting of three days ago
// alerts (the default two days would list it quietly), one of five days
// ago does not; a json source follows the same rule.
func TestBacklog_MaxAgeConfigurable(t *testing.T) {
	cfg := testConfig()
	cfg.BacklogMaxAge = 96 * time.Hour
	p := newPipeline(t, cfg)
	board := newFixtureBoard(t)
	me := p.user("a@example.com", "golang")
	board.set("a",
		post{id: "1", title: "Golang three days", company: "Acme", place: "Baku", posted: ago(72 * time.Hour)},
		post{id: "2", title: "Golang five days", company: "Acme", place: "Baku", posted: ago(120 * time.Hour)},
	)
	board.set("b",
		post{id: "3", title: "Golang api three days", company: "Beta", place: "Baku", posted: ago(72 * time.Hour)},
		post{id: "4", title: "Golang api five days", company: "Beta", place: "Baku", posted: ago(120 * time.Hour)},
	)
	p.run(p.source("board-a", model.SourceRSS, board.URL+"/a.rss"))
	p.run(p.sourceWith("board-b", model.SourceJSON, board.URL+"/b.json", apiSelectors))
	p.expectEvents(me, "new-job Golang three days", "new-job Golang api three days")
	if n := len(p.events(model.ChannelJobs)); n != 4 {
		t.Errorf("jobs channel: %d new-job events, want 4 (the list shows the backlog)", n)
	}
}

// TestExpiry_DeleteSource: deleting a source expires the jobs no other
// source lists, with job-expired to "jobs" and to the user told; a job
// another source lists stays live under that source.
func TestExpiry_DeleteSource(t *testing.T) {
	p := newPipeline(t, testConfig())
	board := newFixtureBoard(t)
	me := p.user("a@example.com", "golang")
	only := post{id: "1", title: "Golang only on a", company: "Acme", place: "Baku", posted: ago(time.Hour)}
	shared := post{id: "2", title: "Golang on both", company: "Acme", place: "Baku", posted: ago(time.Hour)}
	board.set("a", only, shared)
	board.set("b", shared)
	a := p.source("board-a", model.SourceRSS, board.URL+"/a.rss")
	b := p.source("board-b", model.SourceRSS, board.URL+"/b.rss")
	p.run(a)
	p.run(b)
	p.expectEvents(me, "new-job Golang only on a", "new-job Golang on both")

	if err := p.s.DeleteSource(context.Background(), a.ID); err != nil {
		t.Fatal(err)
	}
	p.drain()
	p.expectEvents(me, "new-job Golang only on a", "new-job Golang on both", "job-expired Golang only on a")
	p.expectEvents(model.ChannelJobs, "new-job Golang only on a", "new-job Golang on both", "job-expired Golang only on a")
	gone := p.oneJob("Golang only on a")
	if gone.ExpiredAt == nil || gone.Source != "board-a" {
		t.Errorf("the deleted source's job: expired %v, source %q", gone.ExpiredAt, gone.Source)
	}
	kept := p.oneJob("Golang on both")
	if kept.ExpiredAt != nil || kept.Source != "board-b" || kept.SourceID != b.ID || len(kept.Sources) != 1 {
		t.Errorf("the shared job: expired %v, source %q (%d), sources %v", kept.ExpiredAt, kept.Source, kept.SourceID, sourceNames(kept))
	}
	// It still expires when b drops it.
	board.set("b", post{id: "3", title: "Other", company: "X", place: "Baku", posted: ago(time.Hour)})
	p.run(b)
	p.expectEvents(me, "new-job Golang only on a", "new-job Golang on both", "job-expired Golang only on a", "job-expired Golang on both")
}

// TestExpiry_JobPageGone: a job whose own page answers 404 or 410 expires,
// for every kind of source whose runs do not fetch job pages (rss, jsonld,
// json, html without detail pages), checked in bounded batches, least
// recently checked first, within robots.txt.
func TestExpiry_JobPageGone(t *testing.T) {
	for _, kind := range []string{model.SourceRSS, model.SourceJSONLD, model.SourceJSON, model.SourceHTML} {
		t.Run(kind, func(t *testing.T) {
			cfg := testConfig()
			cfg.URLChecksPerRun = 2
			cfg.URLCheckInterval = time.Nanosecond // due at once: no waiting in a test
			p := newPipeline(t, cfg)
			board := newFixtureBoard(t)
			me := p.user("a@example.com", "golang")
			posts := []post{
				{id: "1", title: "Golang one", company: "Acme", place: "Baku", posted: ago(time.Hour)},
				{id: "2", title: "Golang two", company: "Acme", place: "Baku", posted: ago(time.Hour)},
				{id: "3", title: "Golang three", company: "Acme", place: "Baku", posted: ago(time.Hour)},
				{id: "4", title: "Golang private", company: "Acme", place: "Baku", posted: ago(time.Hour), path: "/private/4"},
			}
			board.set("a", posts...)
			var src model.Source
			switch kind {
			case model.SourceRSS:
				src = p.source("board", kind, board.URL+"/a.rss")
			case model.SourceJSONLD:
				src = p.source("board", kind, board.URL+"/a.html")
			case model.SourceJSON:
				src = p.sourceWith("board", kind, board.URL+"/a.json", apiSelectors)
			case model.SourceHTML:
				src = p.sourceWith("board", kind, board.URL+"/list/a", listSelectors)
			}
			p.run(src)
			checked := func() int {
				return board.count("/jobs/1") + board.count("/jobs/2") + board.count("/jobs/3")
			}
			if n := checked(); n != 2 {
				t.Fatalf("first run checked %d job pages, want 2 (the batch)", n)
			}
			// The third and the private one are next (robots.txt forbids
			// the private one: it counts as checked); then the first two
			// again.
			board.setStatus("/jobs/1", http.StatusNotFound)
			board.setStatus("/jobs/3", http.StatusGone)
			p.run(src)
			p.run(src)
			if board.count("/private/4") != 0 {
				t.Error("a page robots.txt disallows was fetched")
			}
			if n := checked(); n != 5 {
				t.Errorf("three runs checked %d job pages, want 2+1+2", n)
			}
			p.expectEvents(me, "new-job Golang one", "new-job Golang two", "new-job Golang three", "new-job Golang private",
				"job-expired Golang three", "job-expired Golang one")
			if j := p.oneJob("Golang one"); j.ExpiredAt == nil {
				t.Error("a job whose page answers 404 is live")
			}
			if j := p.oneJob("Golang two"); j.ExpiredAt != nil {
				t.Error("a job whose page answers 200 expired")
			}
			// The feed still lists the gone jobs: they stay expired.
			p.run(src)
			if n := countRows(t, p.db, `SELECT count(*) FROM jobs WHERE expired_at IS NULL`); n != 2 {
				t.Errorf("%d live jobs, want 2", n)
			}
		})
	}
}

// TestExpiry_JobPageCheckHonoursRetryAfter: a job page answering 429
// with Retry-After pauses its host for the cluster, as a list page's
// would: the check expires nothing, and no later request reaches the host
// before the time (the next run is refused at once).
func TestExpiry_JobPageCheckHonoursRetryAfter(t *testing.T) {
	cfg := testConfig()
	cfg.URLChecksPerRun = 1
	cfg.URLCheckInterval = time.Nanosecond
	p := newPipeline(t, cfg)
	board := newFixtureBoard(t)
	board.set("a", post{id: "1", title: "Golang one", company: "Acme", place: "Baku", posted: ago(time.Hour)})
	board.setStatus("/jobs/1", http.StatusTooManyRequests)
	src := p.source("board", model.SourceRSS, board.URL+"/a.rss")
	p.run(src)
	if n := board.count("/jobs/1"); n != 1 {
		t.Fatalf("the job page was asked %d times, want once", n)
	}
	if j := p.oneJob("Golang one"); j.ExpiredAt != nil {
		t.Error("a job whose page answered 429 expired")
	}
	h, err := p.store.GetHostState(context.Background(), urlHost(board.URL))
	if err != nil {
		t.Fatal(err)
	}
	if !h.Paused() || h.PausedUntil.Sub(h.Now) < 59*time.Minute || !strings.Contains(h.Reason, "429") {
		t.Fatalf("host state after a job page's 429 with Retry-After 3600: %+v", h)
	}
	feed := board.count("/a.rss")
	r := runOnce(t, p.s, src.ID)
	if r.Status == StatusOK || board.count("/a.rss") != feed || board.count("/jobs/1") != 1 {
		t.Errorf("the run after: %+v; feed asked %d more times, job page %d times", r, board.count("/a.rss")-feed, board.count("/jobs/1"))
	}
}

// TestExpiry_DisableSourceByName: the app's way of switching the demo
// source off expires its jobs like an admin's disable.
func TestExpiry_DisableSourceByName(t *testing.T) {
	p := newPipeline(t, testConfig())
	board := newFixtureBoard(t)
	me := p.user("a@example.com", "golang")
	board.set("a", post{id: "1", title: "Golang one", company: "Acme", place: "Baku", posted: ago(time.Hour)})
	src := p.source("demo", model.SourceRSS, board.URL+"/a.rss")
	p.run(src)
	ctx := context.Background()
	if ok, err := p.s.DisableSourceByName(ctx, "demo"); err != nil || !ok {
		t.Fatalf("disable = %v, %v", ok, err)
	}
	if ok, err := p.s.DisableSourceByName(ctx, "demo"); err != nil || ok {
		t.Fatalf("disabling it again = %v, %v; want false", ok, err)
	}
	if ok, err := p.s.DisableSourceByName(ctx, "no such source"); err != nil || ok {
		t.Fatalf("disabling a missing source = %v, %v; want false", ok, err)
	}
	p.drain()
	p.expectEvents(me, "new-job Golang one", "job-expired Golang one")
	p.expectEvents(model.ChannelJobs, "new-job Golang one", "job-expired Golang one")
}
