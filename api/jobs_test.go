package api_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/birjob/birjob/matcher"
	"github.com/birjob/birjob/storage"
)

// insertJobs stores jobs with these titles (company Acme), oldest first,
// from a manual source "t", and returns their ids.
func insertJobs(t *testing.T, e *env, titles ...string) []int64 {
	t.Helper()
	ctx := context.Background()
	pool := e.store.DB()
	var src int64
	if err := pool.QueryRow(ctx, `INSERT INTO sources (name, kind) VALUES ('t', 'manual') RETURNING id`).Scan(&src); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(titles))
	for i, title := range titles {
		if err := pool.QueryRow(ctx, `INSERT INTO jobs (source_id, dedupe_key, url, title, company, content_hash)
			VALUES ($1, $2, $3, $4, 'Acme', '\x00') RETURNING id`, src, fmt.Sprint("k", i), fmt.Sprint("https://example.com/", i), title).Scan(&ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func TestJobs_ListPagesNewestFirst(t *testing.T) {
	e := newEnv(t)
	insertJobs(t, e, "Job 0", "Job 1", "Job 2", "Senior Golang Developer", "Job 4", "Job 5", "Job 6")
	c := e.client()
	var titles []string
	cursor := ""
	for page := 0; page < 10; page++ {
		out := c.mustDo("GET", "/api/jobs?limit=3"+cursor, nil, 200)
		for _, j := range out["jobs"].([]any) {
			titles = append(titles, j.(map[string]any)["title"].(string))
		}
		next, _ := out["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = "&cursor=" + next
	}
	want := "Job 6,Job 5,Job 4,Senior Golang Developer,Job 2,Job 1,Job 0"
	if strings.Join(titles, ",") != want {
		t.Fatalf("pages gave %v", titles)
	}
	found := c.mustDo("GET", "/api/jobs?q=golang", nil, 200)["jobs"].([]any)
	if len(found) != 1 || found[0].(map[string]any)["source"] != "t" {
		t.Fatalf("search = %v", found)
	}
	c.mustDo("GET", "/api/jobs?cursor=xyz", nil, 400)
	c.mustDo("GET", "/api/jobs?q="+strings.Repeat("a", 600), nil, 400)
}

// TestJobs_SearchFoldsLikeAlerts: GET /api/jobs?q= uses the alerts' query
// language with their folding, so Azerbaijani and Russian words match in
// any case and spelling the matcher accepts, which the database's ILIKE
// under the C locale would not; a query that cannot parse is a 400 that
// says why; a search reads a bounded number of rows and gives a cursor to
// continue.
func TestJobs_SearchFoldsLikeAlerts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	titles := []string{
		"BAKI OFİSİ ÜÇÜN MÜHƏNDİS", // 1
		"Инженер-программист",      // 2
		"Senior Golang Developer",  // 3
		"PHP and Golang developer", // 4
		"Mühasib",                  // 5
	}
	insertJobs(t, e, titles...)
	c := e.client()
	search := func(q string) string {
		t.Helper()
		var got []string
		for _, j := range c.mustDo("GET", "/api/jobs?q="+url.QueryEscape(q), nil, 200)["jobs"].([]any) {
			got = append(got, j.(map[string]any)["title"].(string))
		}
		return strings.Join(got, "|")
	}
	for q, want := range map[string]string{
		"bakı mühəndis": titles[0],
		"baki muhendis": titles[0],
		"ИНЖЕНЕР":       titles[1],
		"golang -php":   titles[2],
		`"php and"`:     titles[3],
		"mühasib OR инженер-программист": titles[4] + "|" + titles[1],
	} {
		if got := search(q); got != want {
			t.Errorf("q=%q: %q, want %q", q, got, want)
		}
	}
	out := c.mustDo("GET", "/api/jobs?q="+url.QueryEscape(`golang "unclosed`), nil, 400)
	if msg, _ := out["error"].(string); !strings.Contains(msg, "q:") {
		t.Errorf("bad query: error %q should name the parameter", msg)
	}

	// The scan budget: 2 rows per call, newest first. Page one reads jobs 5
	// and 4 (4 matches), page two 3 and 2 (3 matches), page three job 1,
	// the end.
	m, err := matcher.Search("developer")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	before, calls := int64(0), 0
	for {
		jobs, next, err := e.store.ListJobs(ctx, storage.JobQuery{Match: m, ScanBudget: 2, Before: before, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		calls++
		for _, j := range jobs {
			got = append(got, j.Title)
		}
		if next == 0 {
			break
		}
		before = next
	}
	if strings.Join(got, "|") != titles[3]+"|"+titles[2] || calls != 3 {
		t.Fatalf("budgeted search: %q in %d calls, want %q in 3", got, calls, titles[3]+"|"+titles[2])
	}
}

// TestJobs_ListsCarryTheLogCursor: GET /api/jobs and GET /api/alerts say
// which event their answer reflects ("lastEventId", the log's end in the
// snapshot the rows came from): "0" on an empty log, the newest committed
// id after that, and neither the rows nor the cursor of a writer that has
// not committed yet, so a page resuming from the cursor gets that writer's
// event live.
func TestJobs_ListsCarryTheLogCursor(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pool := e.store.DB()
	c := e.client()
	c.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "password1"}, 201)
	cursors := func() (jobs, alerts string) {
		t.Helper()
		jobs, _ = c.mustDo("GET", "/api/jobs", nil, 200)["lastEventId"].(string)
		alerts, _ = c.mustDo("GET", "/api/alerts", nil, 200)["lastEventId"].(string)
		return jobs, alerts
	}
	if j, a := cursors(); j != "0" || a != "0" {
		t.Fatalf("empty log: cursors %q %q, want \"0\" both", j, a)
	}
	insertJobs(t, e, "Job one")
	var first int64
	if err := pool.QueryRow(ctx, `INSERT INTO events (channel, type, data) VALUES ('jobs', 'new-job', '{}') RETURNING id`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(first)
	if j, a := cursors(); j != want || a != want {
		t.Fatalf("cursors %q %q, want %q", j, a, want)
	}

	// A writer in flight: its job and its event are invisible, and so is
	// its id (it is taken in commit order, so it is above the cursor).
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var src int64
	if err := tx.QueryRow(ctx, `SELECT id FROM sources WHERE name = 't'`).Scan(&src); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO jobs (source_id, dedupe_key, url, title, company, content_hash)
		VALUES ($1, 'pending', 'https://example.com/pending', 'Pending job', 'Acme', '\x00')`, src); err != nil {
		t.Fatal(err)
	}
	var pending int64
	if err := tx.QueryRow(ctx, `INSERT INTO events (channel, type, data) VALUES ('jobs', 'new-job', '{}') RETURNING id`).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	out := c.mustDo("GET", "/api/jobs", nil, 200)
	if out["lastEventId"] != want || len(out["jobs"].([]any)) != 1 {
		t.Fatalf("with a writer in flight: cursor %v and %d jobs, want %s and 1", out["lastEventId"], len(out["jobs"].([]any)), want)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	out = c.mustDo("GET", "/api/jobs", nil, 200)
	if out["lastEventId"] != fmt.Sprint(pending) || len(out["jobs"].([]any)) != 2 {
		t.Fatalf("after the commit: cursor %v and %d jobs, want %d and 2", out["lastEventId"], len(out["jobs"].([]any)), pending)
	}
}
