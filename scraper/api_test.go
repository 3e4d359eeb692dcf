package scraper

import (
	"strconv"
	"strings"
	"testing"

	"github.com/birjob/birjob/model"
)

func TestAPI_SourcesCRUD(t *testing.T) {
	s, _ := newTestService(t)
	srv := apiServer(t, s, true)

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
	var got SourceView
	if code := call(t, "GET", srv.URL+"/api/sources/"+id, nil, &got); code != 200 || got.Enabled || got.Schedule != "*/10 * * * *" {
		t.Errorf("get: %d %+v", code, got)
	}
	var list struct{ Sources []SourceView }
	if code := call(t, "GET", srv.URL+"/api/sources", nil, &list); code != 200 || len(list.Sources) != 2 {
		t.Errorf("list: %d %d", code, len(list.Sources))
	}
	var runs struct{ Runs []Run }
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

	user := apiServer(t, s, false)
	if code := call(t, "GET", user.URL+"/api/sources", nil, nil); code != 403 {
		t.Errorf("non-admin: %d, want 403", code)
	}
}

func TestAPI_IngestJob(t *testing.T) {
	s, db := newTestService(t)
	srv := apiServer(t, s, true)

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

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
