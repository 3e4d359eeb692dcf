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
