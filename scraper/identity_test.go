package scraper

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/birjob/birjob/demoboard"
	"github.com/birjob/birjob/model"
)

// fillers keep a feed's size steady, so that a posting dropped from it
// does not make the run look suspect.
func fillers(prefix string) []post {
	var out []post
	for _, id := range []string{"1", "2", "3"} {
		out = append(out, post{id: prefix + id, title: "Filler " + prefix + id, company: "F", place: "Baku", posted: ago(time.Hour)})
	}
	return out
}

// TestIdentity_TwoSourcesOneJobOneAlert: one posting listed by two sources
// (one URL, two guids) is one job with both sources, one new-job on
// "jobs" and one on the user's channel; it expires only when both sources
// have dropped it, with one job-expired to each.
func TestIdentity_TwoSourcesOneJobOneAlert(t *testing.T) {
	p := newPipeline(t, testConfig())
	board := newFixtureBoard(t)
	me := p.user("a@example.com", "golang")
	golang := post{id: "g", title: "Golang developer", company: "Acme", place: "Baku", posted: ago(time.Hour)}
	board.set("a", append(fillers("a"), golang)...)
	board.set("b", append(fillers("b"), golang)...)
	a := p.source("board-a", model.SourceRSS, board.URL+"/a.rss")
	b := p.source("board-b", model.SourceRSS, board.URL+"/b.rss")

	if r := p.run(a); r.New != 4 {
		t.Fatalf("run of a = %+v", r)
	}
	if r := p.run(b); r.New != 3 {
		t.Fatalf("run of b = %+v: the shared posting was announced again", r)
	}
	p.expectEvents(me, "new-job Golang developer")
	if n := len(p.events(model.ChannelJobs)); n != 7 {
		t.Errorf("jobs channel has %d events, want 7 (one per posting)", n)
	}
	j := p.oneJob("Golang developer")
	if j.Source != "board-a" || !slices.Equal(sourceNames(j), []string{"board-a live=true", "board-b live=true"}) {
		t.Errorf("job source %q, sources %v", j.Source, sourceNames(j))
	}

	// a drops it: b still lists it, nothing expires.
	board.set("a", fillers("a")...)
	p.run(a)
	p.run(b)
	p.expectEvents(me, "new-job Golang developer")
	if j := p.oneJob("Golang developer"); j.ExpiredAt != nil || !slices.Equal(sourceNames(j), []string{"board-a live=false", "board-b live=true"}) {
		t.Fatalf("after a dropped it: expired %v, sources %v", j.ExpiredAt, sourceNames(j))
	}
	// b drops it too: now it expires, once, for the user told.
	board.set("b", fillers("b")...)
	p.run(b)
	p.expectEvents(me, "new-job Golang developer", "job-expired Golang developer")
	if j := p.oneJob("Golang developer"); j.ExpiredAt == nil {
		t.Fatal("not expired when no source lists it")
	}
	p.run(a)
	p.expectEvents(me, "new-job Golang developer", "job-expired Golang developer")
}

// TestIdentity_Rules: the identity of a posting across sources, through
// Ingest: URL first, then folded title + company + place; never two
// postings of one source; no fingerprint without a company; a URL two
// postings share is no identity; a changed posting is updated, not
// duplicated, and only its primary source rewrites it.
func TestIdentity_Rules(t *testing.T) {
	p := newPipeline(t, testConfig())
	ctx := context.Background()
	src := func(name string) int64 {
		return p.source(name, model.SourceRSS, "https://"+name+".example.com/feed").ID
	}
	a, b, c := src("a"), src("b"), src("c")
	ingest := func(source int64, jobs ...model.Job) IngestResult {
		t.Helper()
		r, err := p.s.Ingest(ctx, source, jobs)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	ra := ingest(a,
		model.Job{ExternalID: "1", Title: "Backend Engineer", Company: "Acme", Location: "Bakı", URL: "https://acme.example.com/jobs/1"},
		model.Job{ExternalID: "2", Title: "Accountant", URL: "https://a.example.com/jobs/2"},
		model.Job{ExternalID: "3", Title: "Designer", Company: "Studio", URL: "https://a.example.com/apply"},
	)
	if ra.New != 3 {
		t.Fatalf("a: %+v", ra)
	}
	backend, designer := ra.Jobs[0].ID, ra.Jobs[2].ID
	rb := ingest(b,
		// the same URL with tracking: canonicalised to a's
		model.Job{ExternalID: "x", Title: "Backend engineer (m/f)", URL: "https://acme.example.com/jobs/1?utm_source=b"},
		// one apply URL for two postings: not an identity; the fingerprint
		// still finds the designer
		model.Job{ExternalID: "y", Title: "DESIGNER", Company: "studio", URL: "https://a.example.com/apply"},
		model.Job{ExternalID: "z", Title: "Illustrator", Company: "Studio", URL: "https://a.example.com/apply"},
	)
	if got := rb.Jobs[0]; got.ID != backend || !got.Merged || got.New {
		t.Errorf("b's backend posting = %+v, want job %d, merged", got, backend)
	}
	if got := rb.Jobs[1]; got.ID != designer || !got.Merged {
		t.Errorf("b's designer = %+v, want job %d by fingerprint", got, designer)
	}
	if got := rb.Jobs[2]; got.ID == designer || !got.New {
		t.Errorf("b's illustrator = %+v, want a new job", got)
	}
	rc := ingest(c,
		// another URL, the same title, company and place, folded: a's job
		model.Job{ExternalID: "1", Title: "BACKEND ENGINEER", Company: "ACME", Location: "Baki", URL: "https://c.example.com/1"},
		// no company: a title alone is no identity
		model.Job{ExternalID: "2", Title: "Accountant", URL: "https://c.example.com/2"},
	)
	if got := rc.Jobs[0]; got.ID != backend || !got.Merged {
		t.Errorf("c's backend = %+v, want job %d by fingerprint", got, backend)
	}
	if got := rc.Jobs[1]; got.ID == ra.Jobs[1].ID || !got.New {
		t.Errorf("c's accountant = %+v, want a new job", got)
	}
	// A second posting of c with a's URL: c already lists that job, so it
	// is another posting.
	if got := ingest(c, model.Job{ExternalID: "9", Title: "Backend Engineer", URL: "https://acme.example.com/jobs/1"}).Jobs[0]; got.ID == backend {
		t.Errorf("a source's second posting joined the job it already lists")
	}
	// The primary source rewrites the job; the others only fill blanks.
	if r := ingest(b, model.Job{ExternalID: "x", Title: "Backend engineer (m/f/d)", Company: "Acme Corp", URL: "https://acme.example.com/jobs/1"}); r.Updated != 1 || r.New != 0 {
		t.Errorf("b's change = %+v, want updated", r)
	}
	if r := ingest(a, model.Job{ExternalID: "1", Title: "Senior Backend Engineer", Company: "Acme", Location: "Bakı", URL: "https://acme.example.com/jobs/1"}); r.Updated != 1 || r.New != 0 || r.Jobs[0].ID != backend {
		t.Errorf("a's change = %+v, want job %d updated", r, backend)
	}
	j, err := p.store.GetJob(ctx, backend)
	if err != nil {
		t.Fatal(err)
	}
	if j.Title != "Senior Backend Engineer" || j.Company != "Acme" || j.Source != "a" || len(j.Sources) != 3 {
		t.Errorf("job = %q %q source %q sources %v", j.Title, j.Company, j.Source, sourceNames(j))
	}
	if n := countRows(t, p.db, `SELECT count(*) FROM job_changes WHERE kind = 'new'`); n != 6 {
		t.Errorf("%d 'new' changes, want 6 (one per job)", n)
	}
}

// TestIdentity_DemoBoardHTMLRSSAndJSON scrapes the demo board as three
// sources at once (html with detail pages, rss, json): one job per
// posting, each with three sources.
func TestIdentity_DemoBoardHTMLRSSAndJSON(t *testing.T) {
	p := newPipeline(t, testConfig())
	now := time.Now().Truncate(time.Second)
	board := demoboard.New(demoboard.Options{Seed: 7, Now: func() time.Time { return now }})
	srv := httptest.NewServer(board)
	defer srv.Close()
	listed := len(board.JobsAt(now))
	srcs := []model.Source{
		{Name: "demo-html", Kind: model.SourceHTML, URL: board.StartURL(srv.URL), Selectors: demoboard.SourceSelectors()},
		{Name: "demo-rss", Kind: model.SourceRSS, URL: board.FeedURL(srv.URL)},
		{Name: "demo-json", Kind: model.SourceJSON, URL: board.APIURL(srv.URL), Selectors: demoboard.JSONSelectors()},
	}
	found := 0
	for _, s := range srcs {
		s.Enabled, s.RespectRobots = true, true
		r := p.run(mustCreate(t, p.db, s))
		found += r.Found
	}
	jobs := countRows(t, p.db, `SELECT count(*) FROM jobs`)
	listings := countRows(t, p.db, `SELECT count(*) FROM job_sources`)
	multi := countRows(t, p.db, `SELECT count(*) FROM (SELECT job_id FROM job_sources GROUP BY job_id HAVING count(*) = 3) x`)
	t.Logf("demo board: %d postings listed; %d found by 3 sources; %d jobs, %d listings, %d jobs on all 3 sources", listed, found, jobs, listings, multi)
	if jobs != listed || listings != found || multi != listed {
		t.Errorf("%d postings listed, %d found by the 3 sources: %d jobs (want %d), %d listings (want %d), %d on all 3 sources",
			listed, found, jobs, listed, listings, found, multi)
	}
	// One new-job per job, but for a posting whose validThrough passed
	// between the board's clock and the ingest (stored expired, announced
	// to nobody: both happen in one transaction, so at one now()). The
	// board lists a posting every few seconds, so how many may have
	// passed depends on how long the crawls took: at most those whose
	// validThrough is already behind us.
	mayHavePassed := 0
	end := time.Now()
	for _, j := range board.JobsAt(now) {
		if !j.ValidThrough.After(end) {
			mayHavePassed++
		}
	}
	announced := countRows(t, p.db, `SELECT count(*) FROM jobs WHERE NOT (expired_reason = 'validThrough' AND expired_at = first_seen_at)`)
	news := 0
	for _, e := range p.events(model.ChannelJobs) {
		if strings.HasPrefix(e, model.EventNewJob+" ") {
			news++
		}
	}
	if news != announced || announced < listed-mayHavePassed {
		t.Errorf("%d new-job events on jobs for %d jobs announced (%d listed, %d of them past their validThrough since)", news, announced, listed, mayHavePassed)
	}
}

// TestIdentity_ConcurrentSources: sources ingesting the same postings at
// the same moment still make one job per posting (the identity locks).
func TestIdentity_ConcurrentSources(t *testing.T) {
	p := newPipeline(t, testConfig())
	const sources, postings = 4, 20
	ids := make([]int64, sources)
	for i := range ids {
		ids[i] = p.source(fmt.Sprintf("s%d", i), model.SourceRSS, fmt.Sprintf("https://s%d.example.com/feed", i)).ID
	}
	jobs := make([]model.Job, postings)
	for k := range jobs {
		jobs[k] = model.Job{ExternalID: fmt.Sprint(k), Title: fmt.Sprintf("Job %d", k), Company: "Acme", URL: fmt.Sprintf("https://acme.example.com/jobs/%d", k)}
	}
	start := make(chan struct{})
	errs := make(chan error, sources)
	for _, id := range ids {
		go func() {
			<-start
			// Each source sees the postings in its own order.
			mine := slices.Clone(jobs)
			slices.Reverse(mine[:int(id)%postings])
			_, err := p.s.Ingest(context.Background(), id, mine)
			errs <- err
		}()
	}
	close(start)
	for range ids {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := countRows(t, p.db, `SELECT count(*) FROM jobs`); n != postings {
		t.Errorf("%d jobs for %d postings listed by %d sources at once", n, postings, sources)
	}
	if n := countRows(t, p.db, `SELECT count(*) FROM job_changes WHERE kind = 'new'`); n != postings {
		t.Errorf("%d 'new' changes, want %d", n, postings)
	}
	if n := countRows(t, p.db, `SELECT count(*) FROM job_sources`); n != sources*postings {
		t.Errorf("%d listings, want %d", n, sources*postings)
	}
}

// BenchmarkIngest_Rerun measures the steady state of a source: a run
// re-ingesting 1,000 postings it listed before (listings found by key,
// jobs refreshed), and the first run of a second source listing the same
// postings (each found as the other source's job by URL).
func BenchmarkIngest_Rerun(b *testing.B) {
	db := newTestDB(b)
	s := NewService(db, testConfig(), testLogger(b))
	ctx := context.Background()
	jobs := make([]model.Job, 1000)
	for k := range jobs {
		jobs[k] = model.Job{ExternalID: fmt.Sprint(k), Title: fmt.Sprintf("Golang developer %d", k), Company: "Acme", Location: "Baku",
			URL: fmt.Sprintf("https://acme.example.com/jobs/%d", k), Description: strings.Repeat("text ", 100)}
	}
	src := mustCreate(b, db, model.Source{Name: "a", Kind: model.SourceRSS, URL: "https://a.example.com/feed"})
	if _, err := s.Ingest(ctx, src.ID, jobs); err != nil {
		b.Fatal(err)
	}
	b.Run("same-source", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Ingest(ctx, src.ID, jobs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("new-source-merging", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			other := mustCreate(b, db, model.Source{Name: fmt.Sprintf("b%d", i), Kind: model.SourceRSS, URL: "https://b.example.com/feed"})
			r, err := s.Ingest(ctx, other.ID, jobs)
			if err != nil || r.Merged != len(jobs) {
				b.Fatalf("%+v %v", r.Merged, err)
			}
		}
	})
}

// sourceUser creates a user with one alert on the named sources only, and
// returns the stored name of the user's channel.
func (p *pipeline) sourceUser(email string, sources ...string) string {
	p.t.Helper()
	ctx := context.Background()
	u, err := p.store.CreateUser(ctx, email, "x", false)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.store.CreateAlert(ctx, model.Alert{UserID: u.ID, Name: "sources", Criteria: model.Criteria{Sources: sources}}); err != nil {
		p.t.Fatal(err)
	}
	return model.UserChannel(u.ID)
}

// TestIdentity_LaterSourceTellsItsAlerts: a live job a second source
// starts listing is announced to the users it now matches through that
// source who were not told (one new-job each), to no one told already and
// not again on "jobs"; its expiry reaches everyone told.
func TestIdentity_LaterSourceTellsItsAlerts(t *testing.T) {
	p := newPipeline(t, testConfig())
	board := newFixtureBoard(t)
	u1 := p.user("u1@example.com", "golang")
	u2 := p.sourceUser("u2@example.com", "board-b")
	golang := post{id: "g", title: "Golang developer", company: "Acme", place: "Baku", posted: ago(time.Hour)}
	board.set("a", append(fillers("a"), golang)...)
	board.set("b", fillers("b")...)
	a := p.source("board-a", model.SourceRSS, board.URL+"/a.rss")
	b := p.source("board-b", model.SourceRSS, board.URL+"/b.rss")

	p.run(a)
	p.run(b)
	p.expectEvents(u1, "new-job Golang developer")
	p.expectEvents(u2, "new-job Filler b1", "new-job Filler b2", "new-job Filler b3")

	board.set("b", append(fillers("b"), golang)...)
	if r := p.run(b); r.New != 0 {
		t.Fatalf("run of b = %+v: the shared posting was announced as new", r)
	}
	p.expectEvents(u1, "new-job Golang developer")
	p.expectEvents(u2, "new-job Filler b1", "new-job Filler b2", "new-job Filler b3", "new-job Golang developer")
	if n := countJobEvents(p.events(model.ChannelJobs), "new-job Golang developer"); n != 1 {
		t.Errorf("jobs channel has %d new-job for the posting, want 1", n)
	}
	p.run(b) // seen again: nothing more
	p.expectEvents(u2, "new-job Filler b1", "new-job Filler b2", "new-job Filler b3", "new-job Golang developer")

	board.set("a", fillers("a")...)
	board.set("b", fillers("b")...)
	p.run(a)
	p.run(b)
	p.expectEvents(u1, "new-job Golang developer", "job-expired Golang developer")
	p.expectEvents(u2, "new-job Filler b1", "new-job Filler b2", "new-job Filler b3",
		"new-job Golang developer", "job-expired Golang developer")
}

// TestIdentity_LaterSourceBacklogTellsNoOne: a source's first (backlog)
// run that lists an old live job of another source tells no one, then or
// on its next runs.
func TestIdentity_LaterSourceBacklogTellsNoOne(t *testing.T) {
	p := newPipeline(t, testConfig())
	board := newFixtureBoard(t)
	u1 := p.user("u1@example.com", "golang")
	u2 := p.sourceUser("u2@example.com", "board-b")
	old := post{id: "g", title: "Golang developer", company: "Acme", place: "Baku", posted: ago(30 * 24 * time.Hour)}
	board.set("a", fillers("a")...)
	a := p.source("board-a", model.SourceRSS, board.URL+"/a.rss")
	p.run(a) // past its backlog
	board.set("a", append(fillers("a"), old)...)
	p.run(a) // an old posting, but new to a past its backlog: announced
	p.expectEvents(u1, "new-job Golang developer")

	board.set("b", append(fillers("b"), old)...)
	b := p.source("board-b", model.SourceRSS, board.URL+"/b.rss")
	p.run(b)
	p.run(b)
	p.expectEvents(u1, "new-job Golang developer")
	p.expectEvents(u2, "new-job Filler b1", "new-job Filler b2", "new-job Filler b3") // news, even in a backlog run
	if got := p.oneJob("Golang developer"); !slices.Equal(sourceNames(got), []string{"board-a live=true", "board-b live=true"}) {
		t.Errorf("sources %v", sourceNames(got))
	}
	if n := countJobEvents(p.events(model.ChannelJobs), "new-job Golang developer"); n != 1 {
		t.Errorf("jobs channel has %d new-job for the posting, want 1", n)
	}
}

func countJobEvents(events []string, e string) int {
	n := 0
	for _, x := range events {
		if x == e {
			n++
		}
	}
	return n
}
