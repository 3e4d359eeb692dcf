package scraper

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/scraper/extract"
)

// benchPage renders list page n of a synthetic board: per items, each with
// the fields a real board shows, and a next link while n < pages.
func benchPage(n, per, pages int) []byte {
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>Jobs</title></head><body><nav>` + strings.Repeat(`<a href="/x">menu</a>`, 30) + `</nav><ul>`)
	for i := 0; i < per; i++ {
		id := n*per + i
		fmt.Fprintf(&b, `<li class="job" data-id="%d"><h2 class="title"><a href="/jobs/%d?utm_source=list">Senior Go Developer &amp; SRE %d</a></h2>`+
			`<span class="company">Acme MMC</span><span class="loc">Bakı, Azərbaycan</span><div class="pay">1 500 – 2 500 ₼ / ay</div>`+
			`<time class="posted" datetime="2026-03-0%dT10:00:00+04:00">%d gün əvvəl</time><span class="type">Tam ştat</span>`+
			`<p class="summary">We build things with Go and PostgreSQL. Remote-friendly team in Baku.</p></li>`, id, id, id, 1+i%9, i%9)
	}
	b.WriteString(`</ul>`)
	if n < pages {
		fmt.Fprintf(&b, `<a class="next" href="/jobs?page=%d">next</a>`, n+1)
	}
	b.WriteString(`<footer>` + strings.Repeat("<p>footer text</p>", 20) + `</footer></body></html>`)
	return []byte(b.String())
}

var benchSelectors = map[string]string{
	"item": "li.job", "title": "h2.title a", "url": "h2.title a@href", "company": ".company", "location": ".loc",
	"salary": ".pay", "postedAt": "time.posted@datetime", "employmentType": ".type", "description": ".summary",
	"externalId": "@data-id", "next": "a.next@href",
}

// BenchmarkExtractHTMLPage measures the CPU side of a list page: charset
// decoding, HTML parsing, selection and normalisation of 30 postings.
func BenchmarkExtractHTMLPage(b *testing.B) {
	page := benchPage(1, 30, 2)
	base, _ := url.Parse("https://board.example.com/jobs?page=1")
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(extract.DecodeBody(page, "text/html")))
		if err != nil {
			b.Fatal(err)
		}
		res := extract.HTML(doc, base, benchSelectors)
		for _, r := range res.Jobs {
			if _, err := extract.Normalize(r, fixedNow); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
}

// BenchmarkCrawl10000Pages crawls a 10,000-page fixture board over
// loopback HTTP through colly (one run, no politeness delay) and reports
// pages per second and the peak heap.
func BenchmarkCrawl10000Pages(b *testing.B) {
	const pages, per = 10000, 10
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if n < 1 {
			n = 1
		}
		served.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(benchPage(n, per, pages))
	}))
	defer srv.Close()
	cfg := testConfig()
	cfg.RunTimeout = 30 * time.Minute
	cfg.MaxPages = pages
	s := NewService(nil, cfg, testLogger(b))
	src := model.Source{Name: "bench", Kind: "html", URL: srv.URL + "/jobs?page=1", Schedule: "@every 1h", Selectors: benchSelectors}
	o, _ := s.options(src)

	for b.Loop() {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					runtime.ReadMemStats(&m)
					if m.HeapAlloc > peak.Load() {
						peak.Store(m.HeapAlloc)
					}
				}
			}
		}()
		start := time.Now()
		res := s.crawl(context.Background(), src, o)
		el := time.Since(start)
		close(stop)
		wg.Wait()
		if res.Pages != pages || len(res.Jobs) != pages*per || res.ErrorCount != 0 {
			b.Fatalf("pages %d jobs %d errors %v", res.Pages, len(res.Jobs), res.Errors)
		}
		b.ReportMetric(float64(res.Pages)/el.Seconds(), "pages/s")
		b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapAlloc))/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(len(res.Jobs)), "jobs")
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-min(after.HeapAlloc, base.HeapAlloc))/(1<<20), "retained-MiB")
		runtime.KeepAlive(res)
	}
}
