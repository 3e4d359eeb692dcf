package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/scraper"
	"github.com/birjob/birjob/storage"
)

// sourcesServer serves the API with a scraper stage on db, every request
// signed in as an admin (admin=true) or as a plain user.
func sourcesServer(t testing.TB, db *pgxpool.Pool, admin bool) *httptest.Server {
	t.Helper()
	cfg := scraper.Config{AllowPrivate: true, Node: "test", DomainInterval: -1, DomainParallelism: 4,
		RequestTimeout: 10 * time.Second, RunTimeout: 30 * time.Second}
	sc := scraper.NewService(db, cfg, slog.New(slog.DiscardHandler))
	mux := http.NewServeMux()
	api.New(storage.New(db), nil).WithScraper(sc).Routes(mux)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UserID: 1, Email: "a@example.com", Admin: admin}))
		mux.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newLDSite serves a page of JSON-LD postings (the scraper's fixtures in
// scraper/testdata/site, read from there, not copied) at /ld/.
func newLDSite(t testing.TB) *httptest.Server {
	t.Helper()
	files := map[string]string{"/ld/": "ld.html", "/ld/detail-b5.html": "ld-detail-b5.html"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join("..", "scraper", "testdata", "site", f))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// call sends a JSON request and decodes a JSON answer into out (if not nil).
func call(t testing.TB, method, url string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", method, url, b, err)
		}
	}
	return resp.StatusCode
}

func countRows(t testing.TB, db *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAPI_SourcesCRUD(t *testing.T) {
	srv := sourcesServer(t, pgtest.New(t), true)

	body := map[string]any{
		"name": "Board", "kind": "html", "url": "https://jobs.example.com/list", "schedule": "*/10 * * * *",
		"selectors": map[string]string{"item": "article.job", "title": "h2", "url": "a@href"},
	}
	var created model.Source
	if code := call(t, "POST", srv.URL+"/api/sources", body, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	if created.ID == 0 || !created.Enabled || !created.RespectRobots || created.Selectors["item"] != "article.job" {
		t.Fatalf("created = %+v", created)
	}
	if code := call(t, "POST", srv.URL+"/api/sources", body, nil); code != 409 {
		t.Errorf("duplicate name: %d, want 409", code)
	}

	bad := []struct {
		name  string
		patch map[string]any
		want  string
	}{
		{"bad cron", map[string]any{"schedule": "61 * * * *"}, "schedule"},
		{"bare CRON_TZ", map[string]any{"schedule": "CRON_TZ="}, "CRON_TZ"},
		{"bad tz", map[string]any{"schedule": "CRON_TZ=Mars/Olympus * * * * *"}, "time zone"},
		{"every too short", map[string]any{"schedule": "@every 10ms"}, "at least"},
		{"garbage", map[string]any{"schedule": "whenever"}, "schedule"},
		// A schedule is bounded: 20,000 minute entries were once accepted.
		{"long schedule", map[string]any{"schedule": strings.Repeat("0,", 10000) + "0 * * * *"}, "at most 200"},
		{"many entries", map[string]any{"schedule": "0 " + strings.Repeat("1,", 70) + "1 * * *"}, "field 2 lists 71 values; at most 60"},
		{"kind", map[string]any{"kind": "xml"}, "kind"},
		{"manual kind", map[string]any{"kind": "manual"}, "reserved"},
		{"scheme", map[string]any{"url": "ftp://example.com/jobs"}, "http"},
		{"relative url", map[string]any{"url": "/jobs"}, "http"},
		{"selectors", map[string]any{"selectors": map[string]string{"item": "article"}}, "title"},
		{"bad css", map[string]any{"selectors": map[string]string{"item": "article[", "title": "h2", "url": "a"}}, "CSS"},
		{"json paths", map[string]any{"kind": "json", "selectors": map[string]string{"items": "data"}}, "title"},
		{"settings", map[string]any{"settings": map[string]any{"maxPages": -1}}, "maxPages"},
		{"unknown setting", map[string]any{"settings": map[string]any{"speed": 3}}, "speed"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			b := map[string]any{}
			for k, v := range body {
				b[k] = v
			}
			b["name"] = "x-" + tt.name
			for k, v := range tt.patch {
				b[k] = v
			}
			var e struct{ Error string }
			if code := call(t, "POST", srv.URL+"/api/sources", b, &e); code != 400 || !strings.Contains(e.Error, tt.want) {
				t.Errorf("got %d %q, want 400 mentioning %q", code, e.Error, tt.want)
			}
		})
	}

	// rss and jsonld need no selectors.
	var rss model.Source
	if code := call(t, "POST", srv.URL+"/api/sources", map[string]any{"name": "Feed", "kind": "rss", "url": "https://example.com/feed.xml", "schedule": "@every 5m"}, &rss); code != 201 {
		t.Fatalf("create rss: %d", code)
	}

	// PUT with a partial body keeps the other fields.
	var upd model.Source
	id := itoa(created.ID)
	if code := call(t, "PUT", srv.URL+"/api/sources/"+id, map[string]any{"enabled": false}, &upd); code != 200 {
		t.Fatalf("update: %d", code)
	}
	if upd.Enabled || upd.Name != "Board" || upd.Selectors["title"] != "h2" || !upd.UpdatedAt.After(created.UpdatedAt) {
		t.Errorf("updated = %+v", upd)
	}
	if code := call(t, "PUT", srv.URL+"/api/sources/"+id, map[string]any{"schedule": "CRON_TZ="}, nil); code != 400 {
		t.Errorf("bad update: %d", code)
	}
	var got api.SourceView
	if code := call(t, "GET", srv.URL+"/api/sources/"+id, nil, &got); code != 200 || got.Enabled || got.Schedule != "*/10 * * * *" {
		t.Errorf("get: %d %+v", code, got)
	}
	if got.NextRunAt != nil {
		t.Errorf("a disabled source runs next at %v, want no nextRunAt", got.NextRunAt)
	}
	var list struct{ Sources []api.SourceView }
	if code := call(t, "GET", srv.URL+"/api/sources", nil, &list); code != 200 || len(list.Sources) != 2 {
		t.Errorf("list: %d %d", code, len(list.Sources))
	}
	// The enabled rss source ("@every 5m") runs next within five minutes.
	for _, v := range list.Sources {
		if v.Name == "Feed" && (v.NextRunAt == nil || time.Until(*v.NextRunAt) <= 0 || time.Until(*v.NextRunAt) > 5*time.Minute) {
			t.Errorf("nextRunAt of an @every 5m source = %v", v.NextRunAt)
		}
	}
	var runs struct{ Runs []storage.Run }
	if code := call(t, "GET", srv.URL+"/api/sources/"+id+"/runs", nil, &runs); code != 200 || runs.Runs == nil && len(runs.Runs) != 0 {
		t.Errorf("runs: %d", code)
	}
	if code := call(t, "DELETE", srv.URL+"/api/sources/"+id, nil, nil); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code := call(t, "GET", srv.URL+"/api/sources/"+id, nil, nil); code != 404 {
		t.Errorf("get deleted: %d", code)
	}
	if code := call(t, "GET", srv.URL+"/api/sources/nope", nil, nil); code != 404 {
		t.Errorf("get bad id: %d", code)
	}

	user := sourcesServer(t, pgtest.New(t), false)
	if code := call(t, "GET", user.URL+"/api/sources", nil, nil); code != 403 {
		t.Errorf("non-admin: %d, want 403", code)
	}
}

func TestAPI_IngestJob(t *testing.T) {
	db := pgtest.New(t)
	srv := sourcesServer(t, db, true)

	job := map[string]any{"title": "  Go Developer ", "url": "https://example.com/jobs/1?utm_source=x", "company": "Acme",
		"salary": map[string]any{"min": 2000, "max": 3000, "currency": "azn", "period": "month"}}
	var first model.Job
	if code := call(t, "POST", srv.URL+"/api/jobs", job, &first); code != 201 {
		t.Fatalf("first ingest: %d", code)
	}
	if first.ID == 0 || first.Title != "Go Developer" || first.URL != "https://example.com/jobs/1" || first.Salary.Currency != "AZN" || first.Source != "manual" {
		t.Errorf("first = %+v", first)
	}
	var again model.Job
	if code := call(t, "POST", srv.URL+"/api/jobs", job, &again); code != 200 || again.ID != first.ID {
		t.Errorf("again: %d id %d, want 200 id %d", code, again.ID, first.ID)
	}
	job["title"] = "Senior Go Developer"
	if code := call(t, "POST", srv.URL+"/api/jobs", job, &again); code != 200 || again.ID != first.ID {
		t.Errorf("changed: %d id %d", code, again.ID)
	}
	if n := countRows(t, db, `SELECT count(*) FROM job_changes WHERE kind = 'new'`); n != 1 {
		t.Errorf("outbox rows = %d, want 1 (a changed posting is not new)", n)
	}
	if n := countRows(t, db, `SELECT count(*) FROM jobs WHERE title = 'Senior Go Developer'`); n != 1 {
		t.Errorf("job not updated")
	}
	for _, bad := range []map[string]any{
		{"url": "https://example.com/x"},
		{"title": "x", "url": "javascript:alert(1)"},
		{"title": "x", "url": "/relative"},
		{"title": "x"},
	} {
		var e struct{ Error string }
		if code := call(t, "POST", srv.URL+"/api/jobs", bad, &e); code != 400 || e.Error == "" {
			t.Errorf("%v: %d %q, want 400", bad, code, e.Error)
		}
	}
}

func TestAPI_PreviewAndRunNow(t *testing.T) {
	db := pgtest.New(t)
	site := newLDSite(t)
	srv := sourcesServer(t, db, true)
	body := map[string]any{"name": "ld", "kind": "jsonld", "url": site.URL + "/ld/", "selectors": map[string]string{"links": "a.job"}}
	var p scraper.PreviewResult
	if code := call(t, "POST", srv.URL+"/api/sources/preview", body, &p); code != 200 || len(p.Jobs) != 5 || p.Pages != 1 {
		t.Fatalf("preview unsaved: %d %+v", code, p)
	}
	if n := countRows(t, db, `SELECT count(*) FROM jobs`); n != 0 {
		t.Fatalf("preview saved %d jobs", n)
	}
	var e struct{ Error string }
	if code := call(t, "POST", srv.URL+"/api/sources/preview", map[string]any{"kind": "html", "url": site.URL}, &e); code != 400 || e.Error == "" {
		t.Errorf("invalid preview: %d %q", code, e.Error)
	}
	var src model.Source
	if code := call(t, "POST", srv.URL+"/api/sources", body, &src); code != 201 {
		t.Fatalf("create: %d", code)
	}
	id := itoa(src.ID)
	// Preview of the saved source with an unsaved edit: without links.
	if code := call(t, "POST", srv.URL+"/api/sources/"+id+"/preview", map[string]any{"selectors": map[string]string{}}, &p); code != 200 || len(p.Jobs) != 4 {
		t.Fatalf("preview saved+edit: %d %d jobs", code, len(p.Jobs))
	}
	var run storage.Run
	if code := call(t, "POST", srv.URL+"/api/sources/"+id+"/run?wait=1", nil, &run); code != 200 || run.Status != scraper.StatusOK || run.New != 5 || run.FinishedAt == nil {
		t.Fatalf("run now: %d %+v", code, run)
	}
	var started storage.Run
	if code := call(t, "POST", srv.URL+"/api/sources/"+id+"/run", nil, &started); code != 202 || started.ID == 0 || started.Status != scraper.StatusRunning {
		t.Fatalf("run now async: %d %+v", code, started)
	}
	var runs struct{ Runs []storage.Run }
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code := call(t, "GET", srv.URL+"/api/sources/"+id+"/runs", nil, &runs); code != 200 {
			t.Fatalf("runs: %d", code)
		}
		if len(runs.Runs) == 2 && runs.Runs[0].Status != scraper.StatusRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs = %+v", runs.Runs)
		}
		time.Sleep(50 * time.Millisecond) // polling the API for a condition
	}
	if runs.Runs[0].ID != started.ID || runs.Runs[0].New != 0 {
		t.Errorf("runs = %+v", runs.Runs)
	}

	// Disabled, it does not run (its jobs expired with the disable; a run
	// would list them under a source no schedule runs): 409 saying how.
	if code := call(t, "PUT", srv.URL+"/api/sources/"+id, map[string]any{"enabled": false}, nil); code != 200 {
		t.Fatalf("disable: %d", code)
	}
	var refusal struct{ Error string }
	if code := call(t, "POST", srv.URL+"/api/sources/"+id+"/run?wait=1", nil, &refusal); code != http.StatusConflict || !strings.Contains(refusal.Error, "enable it") {
		t.Fatalf("run now of a disabled source: %d %q, want 409 saying to enable it", code, refusal.Error)
	}
	if code := call(t, "GET", srv.URL+"/api/sources/"+id+"/runs", nil, &runs); code != 200 || len(runs.Runs) != 2 {
		t.Errorf("after the refused run: %d, %d runs, want the 2 before", code, len(runs.Runs))
	}
}
