package scraper

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/matcher"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// This file holds the fixtures of the tests that follow a posting from a
// board through the scraper and the matcher to the events people get: a
// board whose feeds and job pages the test changes between runs, and a
// pipeline of a scraper and a matcher on one database. The matcher is
// drained after each step (no background loops), so the events are read
// when every change has been matched.

// post is one posting of a fixtureBoard.
type post struct {
	id, title, company, place string
	path                      string     // its page on the board, "/jobs/<id>" by default
	posted                    *time.Time // nil: undated
}

func (p post) link() string {
	if p.path != "" {
		return p.path
	}
	return "/jobs/" + p.id
}

// fixtureBoard serves feeds of postings the test sets per feed name:
// /<name>.rss (RSS 2.0), /<name>.html (a page of inline JSON-LD
// JobPostings), /<name>.json (an API answer: {"jobs": [...]}, read with
// apiSelectors) and /list/<name> (an HTML list, read with listSelectors),
// each posting's own page (200 unless set to another status; a 429 says
// Retry-After: 3600), and a
// robots.txt disallowing /private/. It counts requests per path.
type fixtureBoard struct {
	*httptest.Server
	mu     sync.Mutex
	feeds  map[string][]post
	status map[string]int
	hits   map[string]int
}

func newFixtureBoard(t *testing.T) *fixtureBoard {
	b := &fixtureBoard{feeds: map[string][]post{}, status: map[string]int{}, hits: map[string]int{}}
	b.Server = httptest.NewServer(b)
	t.Cleanup(b.Close)
	return b
}

func (b *fixtureBoard) set(feed string, posts ...post) {
	b.mu.Lock()
	b.feeds[feed] = posts
	b.mu.Unlock()
}

func (b *fixtureBoard) setStatus(path string, status int) {
	b.mu.Lock()
	b.status[path] = status
	b.mu.Unlock()
}

func (b *fixtureBoard) count(path string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits[path]
}

func (b *fixtureBoard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hits[r.URL.Path]++
	if r.URL.Path == "/robots.txt" {
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
		return
	}
	if name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".rss"); ok {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0" xmlns:job="https://example.com/job"><channel><title>t</title>`)
		for _, p := range b.feeds[name] {
			fmt.Fprintf(w, `<item><title>%s</title><link>%s</link><guid isPermaLink="false">%s-%s</guid>`,
				html.EscapeString(p.title), b.URL+p.link(), name, p.id)
			if p.posted != nil {
				fmt.Fprintf(w, `<pubDate>%s</pubDate>`, p.posted.Format(time.RFC1123Z))
			}
			fmt.Fprintf(w, `<job:company>%s</job:company><job:location>%s</job:location></item>`, html.EscapeString(p.company), html.EscapeString(p.place))
		}
		fmt.Fprint(w, `</channel></rss>`)
		return
	}
	if name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".html"); ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head>`)
		for _, p := range b.feeds[name] {
			ld := map[string]any{"@context": "https://schema.org", "@type": "JobPosting", "title": p.title, "url": b.URL + p.link(),
				"identifier": p.id, "hiringOrganization": map[string]any{"name": p.company},
				"jobLocation": map[string]any{"address": map[string]any{"addressLocality": p.place}}}
			if p.posted != nil {
				ld["datePosted"] = p.posted.Format(time.RFC3339)
			}
			js, _ := json.Marshal(ld)
			fmt.Fprintf(w, `<script type="application/ld+json">%s</script>`, js)
		}
		fmt.Fprint(w, `</head><body>jobs</body></html>`)
		return
	}
	if name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".json"); ok {
		jobs := []map[string]any{}
		for _, p := range b.feeds[name] {
			j := map[string]any{"id": p.id, "title": p.title, "link": b.URL + p.link(), "employer": p.company, "city": p.place}
			if p.posted != nil {
				j["published"] = p.posted.Format(time.RFC3339)
			}
			jobs = append(jobs, j)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"jobs": jobs})
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, "/list/"); ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><body><ul>`)
		for _, p := range b.feeds[name] {
			fmt.Fprintf(w, `<li class="job" data-id="%s"><a href="%s">%s</a> <span class="co">%s</span> <span class="city">%s</span></li>`,
				html.EscapeString(p.id), html.EscapeString(p.link()), html.EscapeString(p.title), html.EscapeString(p.company), html.EscapeString(p.place))
		}
		fmt.Fprint(w, `</ul></body></html>`)
		return
	}
	if st, ok := b.status[r.URL.Path]; ok && st != http.StatusOK {
		if st == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "3600")
		}
		w.WriteHeader(st)
		return
	}
	fmt.Fprint(w, "<html><body>a job page</body></html>")
}

// pipeline is a scraper and a matcher on one fresh database.
type pipeline struct {
	t     *testing.T
	s     *Service
	db    *pgxpool.Pool
	store *storage.Store
	w     *matcher.Worker
}

func newPipeline(t *testing.T, cfg Config) *pipeline {
	t.Helper()
	db := newTestDB(t)
	return &pipeline{t: t, s: NewService(db, cfg, testLogger(t)), db: db, store: storage.New(db),
		w: matcher.NewWorker(db, testLogger(t))}
}

// drain matches every pending job change.
func (p *pipeline) drain() {
	p.t.Helper()
	if _, err := p.w.Drain(context.Background()); err != nil {
		p.t.Fatal(err)
	}
}

// user creates a user with one alert for query, and returns the stored
// name of the user's channel.
func (p *pipeline) user(email, query string) string {
	p.t.Helper()
	ctx := context.Background()
	u, err := p.store.CreateUser(ctx, email, "x", false)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.store.CreateAlert(ctx, model.Alert{UserID: u.ID, Name: query, Criteria: model.Criteria{Query: query}}); err != nil {
		p.t.Fatal(err)
	}
	return model.UserChannel(u.ID)
}

// source creates an enabled source of the kind on url, each missed run
// counting (expireAfterMissing 1).
func (p *pipeline) source(name, kind, url string) model.Source {
	p.t.Helper()
	return mustCreate(p.t, p.db, model.Source{Name: name, Kind: kind, URL: url, Enabled: true, RespectRobots: true,
		Settings: json.RawMessage(`{"expireAfterMissing": 1}`)})
}

// apiSelectors read a fixtureBoard's /<name>.json.
var apiSelectors = map[string]string{"items": "jobs", "title": "title", "url": "link", "company": "employer",
	"location": "city", "postedAt": "published", "externalId": "id"}

// listSelectors read a fixtureBoard's /list/<name> (no detail pages).
var listSelectors = map[string]string{"item": "li.job", "title": "a", "url": "a", "company": ".co",
	"location": ".city", "externalId": "@data-id"}

// sourceWith is source with selectors (json and html kinds).
func (p *pipeline) sourceWith(name, kind, url string, selectors map[string]string) model.Source {
	p.t.Helper()
	return mustCreate(p.t, p.db, model.Source{Name: name, Kind: kind, URL: url, Enabled: true, RespectRobots: true,
		Selectors: selectors, Settings: json.RawMessage(`{"expireAfterMissing": 1}`)})
}

// run runs the source once and matches what it changed; the run must be
// healthy.
func (p *pipeline) run(src model.Source) storage.Run {
	p.t.Helper()
	r := runOnce(p.t, p.s, src.ID)
	if r.Status != StatusOK {
		p.t.Fatalf("run of %s = %+v", src.Name, r)
	}
	p.drain()
	return r
}

// events returns a channel's events so far as "type title".
func (p *pipeline) events(channel string) []string {
	p.t.Helper()
	out := []string{}
	_, err := p.store.ChannelEvents(context.Background(), []string{channel}, 0, math.MaxInt64, 10000,
		func(id int64, ch, typ string, at time.Time, data []byte) error {
			var j model.JobEvent
			if err := json.Unmarshal(data, &j); err != nil {
				return err
			}
			out = append(out, typ+" "+j.Title)
			return nil
		})
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

// expectEvents checks a channel's events so far.
func (p *pipeline) expectEvents(channel string, want ...string) {
	p.t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := p.events(channel); !slices.Equal(got, want) {
		p.t.Errorf("events of %s:\n got %q\nwant %q", channel, got, want)
	}
}

// jobsTitled returns the stored jobs with the title, expired or not.
func (p *pipeline) jobsTitled(title string) []model.Job {
	p.t.Helper()
	jobs, _, err := p.store.ListJobs(context.Background(), storage.JobQuery{IncludeExpired: true, Limit: 200})
	if err != nil {
		p.t.Fatal(err)
	}
	var out []model.Job
	for _, j := range jobs {
		if j.Title == title {
			out = append(out, j)
		}
	}
	return out
}

// oneJob returns the one stored job with the title.
func (p *pipeline) oneJob(title string) model.Job {
	p.t.Helper()
	js := p.jobsTitled(title)
	if len(js) != 1 {
		p.t.Fatalf("%d jobs titled %q, want 1: %+v", len(js), title, js)
	}
	return js[0]
}

func sourceNames(j model.Job) []string {
	var out []string
	for _, s := range j.Sources {
		out = append(out, fmt.Sprintf("%s live=%v", s.Name, s.Live))
	}
	return out
}

func ago(d time.Duration) *time.Time {
	t := time.Now().Add(-d).Truncate(time.Second)
	return &t
}
