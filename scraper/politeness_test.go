package scraper

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/birjob/birjob/model"
)

func TestRun_ConditionalGET(t *testing.T) {
	s, db := newTestService(t)
	var full, notModified atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		full.Add(1)
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, `<div class="job" data-id="1"><a href="/jobs/1">One</a></div>`)
	}))
	defer srv.Close()
	src := mustCreate(t, db, boardSource(srv.URL+"/"))
	tick := time.Now().UTC().Truncate(time.Second)
	r1, ok, err := s.runTick(context.Background(), src.ID, tick)
	if err != nil || !ok || r1.Status != StatusOK {
		t.Fatalf("run 1 = %+v %v %v", r1, ok, err)
	}
	// The same tick again (another node, or a late cron): not run.
	if _, ok, _ := s.runTick(context.Background(), src.ID, tick); ok {
		t.Fatal("a tick ran twice")
	}
	r2, ok, err := s.runTick(context.Background(), src.ID, tick.Add(time.Second))
	if err != nil || !ok || r2.Status != StatusNotModified || r2.Expired != 0 {
		t.Fatalf("run 2 = %+v", r2)
	}
	if full.Load() != 1 || notModified.Load() != 1 {
		t.Errorf("full %d, 304 %d", full.Load(), notModified.Load())
	}
	// Run now fetches in full: an admin asking wants a real look.
	r3 := runOnce(t, s, src.ID)
	if r3.Status != StatusOK || full.Load() != 2 {
		t.Errorf("run now = %+v, full fetches %d", r3, full.Load())
	}
}

func TestCrawl_PageAndBodyLimits(t *testing.T) {
	s, _ := newTestService(t)
	site := newFixtureSite(t)
	src := model.Source{Name: "ru", Kind: "html", URL: site.URL + "/board/list1.html", Schedule: "@every 1h",
		Selectors: htmlSelectors(), Settings: json.RawMessage(`{"maxPages": 1, "maxDetailPages": 1}`)}
	if err := ValidateSource(src); err != nil {
		t.Fatal(err)
	}
	o, _ := s.options(src)
	res := s.crawl(context.Background(), src, o)
	if res.Pages != 1 || !res.Limited || site.count("/board/page2.html") != 0 {
		t.Errorf("page limit: pages %d limited %v", res.Pages, res.Limited)
	}
	if n := site.count("/board/vacancy/101") + site.count("/board/vacancy/102") + site.count("/board/vacancy/103"); n != 1 {
		t.Errorf("detail pages fetched: %d, want 1", n)
	}
	src.Settings = json.RawMessage(`{"maxBodyBytes": 200}`)
	o, _ = s.options(src)
	res = s.crawl(context.Background(), src, o)
	if res.ErrorCount == 0 || !strings.Contains(strings.Join(res.Errors, " "), "cut at 200 bytes") {
		t.Errorf("body limit not reported: %v", res.Errors)
	}
}

func TestAPI_PreviewAndRunNow(t *testing.T) {
	s, db := newTestService(t)
	site := newFixtureSite(t)
	api := apiServer(t, s, true)
	body := map[string]any{"name": "ld", "kind": "jsonld", "url": site.URL + "/ld/", "selectors": map[string]string{"links": "a.job"}}
	var p PreviewResult
	if code := call(t, "POST", api.URL+"/api/sources/preview", body, &p); code != 200 || len(p.Jobs) != 5 || p.Pages != 1 {
		t.Fatalf("preview unsaved: %d %+v", code, p)
	}
	if n := countRows(t, db, `SELECT count(*) FROM jobs`); n != 0 {
		t.Fatalf("preview saved %d jobs", n)
	}
	var e struct{ Error string }
	if code := call(t, "POST", api.URL+"/api/sources/preview", map[string]any{"kind": "html", "url": site.URL}, &e); code != 400 || e.Error == "" {
		t.Errorf("invalid preview: %d %q", code, e.Error)
	}
	var src model.Source
	if code := call(t, "POST", api.URL+"/api/sources", body, &src); code != 201 {
		t.Fatalf("create: %d", code)
	}
	id := itoa(src.ID)
	// Preview of the saved source with an unsaved edit: without links.
	if code := call(t, "POST", api.URL+"/api/sources/"+id+"/preview", map[string]any{"selectors": map[string]string{}}, &p); code != 200 || len(p.Jobs) != 4 {
		t.Fatalf("preview saved+edit: %d %d jobs", code, len(p.Jobs))
	}
	var run Run
	if code := call(t, "POST", api.URL+"/api/sources/"+id+"/run?wait=1", nil, &run); code != 200 || run.Status != StatusOK || run.New != 5 || run.FinishedAt == nil {
		t.Fatalf("run now: %d %+v", code, run)
	}
	var started Run
	if code := call(t, "POST", api.URL+"/api/sources/"+id+"/run", nil, &started); code != 202 || started.ID == 0 || started.Status != StatusRunning {
		t.Fatalf("run now async: %d %+v", code, started)
	}
	var runs struct{ Runs []Run }
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code := call(t, "GET", api.URL+"/api/sources/"+id+"/runs", nil, &runs); code != 200 {
			t.Fatalf("runs: %d", code)
		}
		if len(runs.Runs) == 2 && runs.Runs[0].Status != StatusRunning {
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
}
