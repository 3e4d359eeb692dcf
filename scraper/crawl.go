package scraper

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gocolly/colly/v2"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/scraper/extract"
	"github.com/birjob/birjob/scraper/normalize"
)

// crawlOptions bound one crawl.
type crawlOptions struct {
	maxPages, maxDetail int
	requestTimeout      time.Duration
	runTimeout          time.Duration
	maxBody             int
	delay               time.Duration
	parallelism         int
	// etag / lastModified make the first request conditional.
	etag, lastModified string
}

// crawlResult is what a crawl found.
type crawlResult struct {
	Jobs []model.Job
	// Gone are the dedupe keys of postings whose detail page answered 404
	// or 410.
	Gone       []string
	Pages      int
	Errors     []string
	ErrorCount int
	Notes      []string
	// Limited: the page limit stopped the crawl before the last page.
	Limited bool
	// CutShort: the run deadline passed before the crawl finished.
	CutShort    bool
	NotModified bool
	FirstPageOK bool
	// Validators of the first page, for the next conditional GET.
	ETag, LastModified string
	Dropped            int // postings without title or usable URL
	// Backoff is set when no request was made: the host is backing off.
	Backoff *HostPausedError
}

type listItem struct {
	raw  extract.Posting
	gone bool
}

type crawler struct {
	s    *Service
	src  model.Source
	sel  map[string]string
	opts crawlOptions
	c    *colly.Collector

	mu         sync.Mutex
	res        crawlResult
	items      []*listItem
	ldJobs     []extract.Posting
	details    int
	detailNote bool
	closed     bool
}

func (cr *crawler) errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	cr.res.ErrorCount++
	if len(cr.res.Errors) < MaxErrorSamples {
		cr.res.Errors = append(cr.res.Errors, clipStr(msg, 500))
	}
}

// errorFirst records the error that explains the others (the requests a
// deadline cancelled) at the head of the samples, so it is never the one
// left out.
func (cr *crawler) errorFirst(msg string) {
	cr.res.ErrorCount++
	cr.res.Errors = append([]string{clipStr(msg, 500)}, cr.res.Errors...)
	if len(cr.res.Errors) > MaxErrorSamples {
		cr.res.Errors = cr.res.Errors[:MaxErrorSamples]
	}
}

func (cr *crawler) note(msg string) {
	if len(cr.res.Notes) < MaxErrorSamples {
		cr.res.Notes = append(cr.res.Notes, clipStr(msg, 500))
	}
}

// newCollector is the collector of a run's requests, for the crawl and
// for the job-page checks alike: the run's context, body limit, robots.txt
// as the source says, the source's own delay and parallelism, the node's
// per-host limits and the cluster's host state (spacing, Retry-After and
// back-off, waited for and recorded), and http(s) redirects only.
func (s *Service) newCollector(ctx context.Context, src model.Source, o crawlOptions, maxBody int) *colly.Collector {
	c := colly.NewCollector(
		colly.UserAgent(s.cfg.UserAgent),
		colly.Async(true),
		colly.MaxBodySize(maxBody),
		colly.StdlibContext(ctx),
		colly.ParseHTTPErrorResponse(),
	)
	// colly ignores robots.txt by default; say it explicitly both ways.
	c.IgnoreRobotsTxt = !src.RespectRobots
	var runLimit *hostLimiter
	if o.delay > 0 || o.parallelism > 0 {
		runLimit = newHostLimiter(o.delay, max(o.parallelism, 1))
	}
	c.WithTransport(&politeTransport{base: s.transport(), hosts: s.host, run: runLimit, svc: s})
	c.SetRequestTimeout(o.requestTimeout)
	c.SetRedirectHandler(func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to %q refused: only http and https", req.URL.Scheme)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	})
	return c
}

// crawl fetches and extracts a source. It returns when the crawl is done
// or the run deadline passes, whichever comes first: colly's Wait is
// awaited in a goroutine, and every request carries the run's context, so
// a hung server cannot hold a run past its deadline.
func (s *Service) crawl(ctx context.Context, src model.Source, opts crawlOptions) crawlResult {
	ctx, cancel := context.WithTimeout(ctx, opts.runTimeout)
	defer cancel()
	cr := &crawler{s: s, src: src, sel: src.Selectors, opts: opts}
	if cr.sel == nil {
		cr.sel = map[string]string{}
	}

	// A new collector per run: colly keeps its visited set forever.
	c := s.newCollector(ctx, src, opts, opts.maxBody)
	cr.c = c

	c.OnRequest(func(r *colly.Request) {
		switch src.Kind {
		case model.SourceRSS:
			r.Headers.Set("Accept", "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5")
		case model.SourceJSON:
			r.Headers.Set("Accept", "application/json, */*;q=0.5")
		default:
			r.Headers.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5")
		}
		r.Headers.Set("Accept-Language", "az,en;q=0.8,ru;q=0.7,tr;q=0.6")
		if r.Ctx.Get("first") == "1" {
			if opts.etag != "" {
				r.Headers.Set("If-None-Match", opts.etag)
			}
			if opts.lastModified != "" {
				r.Headers.Set("If-Modified-Since", opts.lastModified)
			}
		}
	})
	c.OnResponse(cr.onResponse)
	c.OnError(func(r *colly.Response, err error) {
		cr.mu.Lock()
		defer cr.mu.Unlock()
		if cr.closed {
			return
		}
		u := ""
		if r != nil && r.Request != nil {
			u = r.Request.URL.String()
		}
		cr.errorf("GET %s: %v", u, err)
	})

	cr.visit(src.URL, "list", map[string]any{"first": "1", "page": 1})

	done := make(chan struct{})
	go func() {
		c.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	cr.mu.Lock()
	defer cr.mu.Unlock()
	// Checked after the select, not in it: when the deadline cancels the
	// requests still loading, Wait can return at the same moment, and the
	// run must still say why it ended. The clock is read too: a request
	// timeout equal to the run's (it is clamped to it) can fire on a busy
	// machine before the context's own timer has run, and ctx.Err is
	// still nil then although the deadline has passed.
	deadline, _ := ctx.Deadline()
	switch err := ctx.Err(); {
	case errors.Is(err, context.Canceled):
		cr.res.CutShort = true
		cr.errorFirst("run cancelled (the node is stopping); the pages still loading were abandoned")
	case err != nil || !time.Now().Before(deadline):
		cr.res.CutShort = true
		cr.errorFirst(fmt.Sprintf("run stopped after %s (the run deadline); the pages still loading were abandoned", opts.runTimeout))
	}
	cr.closed = true
	cr.finish()
	return cr.res
}

// visit queues a request; synchronous refusals (robots.txt, a URL seen
// before, a bad URL) are recorded here.
func (cr *crawler) visit(u, role string, vals map[string]any) {
	ctx := colly.NewContext()
	ctx.Put("role", role)
	for k, v := range vals {
		ctx.Put(k, v)
	}
	err := cr.c.Request("GET", u, nil, ctx, nil)
	if err == nil {
		return
	}
	var av *colly.AlreadyVisitedError
	if errors.As(err, &av) {
		return // pagination that loops back, or two items with one URL
	}
	cr.locked(func() {
		if errors.Is(err, colly.ErrRobotsTxtBlocked) {
			cr.errorf("GET %s: blocked by robots.txt (turn respectRobots off for this source only with the board's permission)", u)
			return
		}
		cr.errorf("GET %s: %v", u, err)
	})
}

func (cr *crawler) onResponse(r *colly.Response) {
	role := r.Ctx.Get("role")
	first := r.Ctx.Get("first") == "1"
	u := r.Request.URL
	ct := r.Headers.Get("Content-Type")

	cr.mu.Lock()
	if cr.closed {
		cr.mu.Unlock()
		return
	}
	if role == "list" {
		cr.res.Pages++
	}
	switch {
	case role == "list" && first && r.StatusCode == http.StatusNotModified:
		cr.res.NotModified = true
		cr.mu.Unlock()
		return
	case r.StatusCode < 200 || r.StatusCode >= 300:
		if role == "detail" && (r.StatusCode == http.StatusNotFound || r.StatusCode == http.StatusGone) {
			if i, ok := r.Ctx.GetAny("idx").(int); ok && i < len(cr.items) {
				cr.items[i].gone = true
			}
		} else if role == "ldetail" && (r.StatusCode == http.StatusNotFound || r.StatusCode == http.StatusGone) {
			cr.note(fmt.Sprintf("GET %s: HTTP %d (a linked posting is gone)", u, r.StatusCode))
		} else if ra := r.Headers.Get("Retry-After"); ra != "" {
			cr.errorf("GET %s: HTTP %d, Retry-After: %s (the host is left alone until then, on every node)", u, r.StatusCode, clipStr(ra, 60))
		} else {
			cr.errorf("GET %s: HTTP %d", u, r.StatusCode)
		}
		cr.mu.Unlock()
		return
	}
	if role == "list" && first {
		cr.res.FirstPageOK = true
		cr.res.ETag = r.Headers.Get("ETag")
		cr.res.LastModified = r.Headers.Get("Last-Modified")
	}
	if cr.opts.maxBody > 0 && len(r.Body) >= cr.opts.maxBody {
		cr.errorf("GET %s: the body was cut at %d bytes (raise settings.maxBodyBytes if the page is really that big)", u, cr.opts.maxBody)
	}
	cr.mu.Unlock()

	// Parsing runs outside the lock; pages are parsed concurrently.
	switch role {
	case "list":
		cr.onListPage(r, u, ct)
	case "detail":
		cr.onDetailPage(r, u, ct)
	case "ldetail":
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(extract.DecodeBody(r.Body, ct)))
		if err != nil {
			cr.locked(func() { cr.errorf("GET %s: unreadable HTML: %v", u, err) })
			return
		}
		jobs, notes := extract.JSONLDPostings(doc, u)
		cr.locked(func() {
			cr.ldJobs = append(cr.ldJobs, jobs...)
			for _, n := range notes {
				cr.note(n)
			}
			if len(jobs) == 0 {
				cr.note(fmt.Sprintf("%s: no JobPosting found", u))
			}
		})
	}
}

func (cr *crawler) locked(f func()) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if !cr.closed {
		f()
	}
}

func (cr *crawler) onListPage(r *colly.Response, u *url.URL, ct string) {
	var (
		res extract.Page
		err error
	)
	switch cr.src.Kind {
	case model.SourceRSS:
		res, err = extract.Feed(extract.FeedBody(r.Body, ct), u)
	case model.SourceJSON:
		res, err = extract.JSON(extract.DecodeBody(r.Body, ct), u, cr.sel)
	default:
		var doc *goquery.Document
		doc, err = goquery.NewDocumentFromReader(strings.NewReader(extract.DecodeBody(r.Body, ct)))
		if err == nil {
			if cr.src.Kind == model.SourceHTML {
				res = extract.HTML(doc, u, cr.sel)
			} else {
				res = extract.JSONLD(doc, u, cr.sel)
			}
		}
	}
	var detailVisits []struct {
		url string
		idx int
	}
	var linkVisits []string
	next := ""
	cr.locked(func() {
		if err != nil {
			cr.errorf("%v", err)
			return
		}
		for _, n := range res.Notes {
			cr.note(n)
		}
		follow := cr.src.Kind == model.SourceHTML && cr.sel["detail"] == "true"
		for _, j := range res.Jobs {
			cr.items = append(cr.items, &listItem{raw: j})
			if follow {
				link := extract.ResolveLink(j.Base, j.URL)
				if link == "" {
					continue
				}
				if cr.details >= cr.opts.maxDetail {
					if !cr.detailNote {
						cr.detailNote = true
						cr.note(fmt.Sprintf("detail pages capped at %d per run; the rest keep their list fields", cr.opts.maxDetail))
					}
					continue
				}
				cr.details++
				detailVisits = append(detailVisits, struct {
					url string
					idx int
				}{link, len(cr.items) - 1})
			}
		}
		for _, l := range res.Links {
			if cr.details >= cr.opts.maxDetail {
				if !cr.detailNote {
					cr.detailNote = true
					cr.note(fmt.Sprintf("detail pages capped at %d per run", cr.opts.maxDetail))
				}
				cr.res.Limited = true
				break
			}
			cr.details++
			linkVisits = append(linkVisits, l)
		}
		if res.Next != "" && res.Next != u.String() {
			if cr.res.Pages >= cr.opts.maxPages {
				cr.res.Limited = true
				cr.note(fmt.Sprintf("stopped at the page limit (%d); %s was not fetched", cr.opts.maxPages, res.Next))
			} else {
				next = res.Next
			}
		}
	})
	if next != "" {
		cr.visit(next, "list", nil)
	}
	for _, d := range detailVisits {
		cr.visit(d.url, "detail", map[string]any{"idx": d.idx})
	}
	for _, l := range linkVisits {
		cr.visit(l, "ldetail", nil)
	}
}

func (cr *crawler) onDetailPage(r *colly.Response, u *url.URL, ct string) {
	idx, ok := r.Ctx.GetAny("idx").(int)
	if !ok {
		return
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(extract.DecodeBody(r.Body, ct)))
	if err != nil {
		cr.locked(func() { cr.errorf("GET %s: unreadable HTML: %v", u, err) })
		return
	}
	jobs, notes := extract.JSONLDPostings(doc, u)
	cr.locked(func() {
		for _, n := range notes {
			cr.note(n)
		}
		if idx >= len(cr.items) || len(jobs) == 0 {
			return
		}
		best := jobs[0]
		// A detail page may carry several postings (related jobs): take
		// the one whose URL is this page.
		for _, j := range jobs {
			if cu, err := normalize.CanonicalURL(j.URL, j.Base); err == nil {
				if pu, err := normalize.CanonicalURL(u.String(), nil); err == nil && cu == pu {
					best = j
					break
				}
			}
		}
		item := cr.items[idx]
		listURL, listBase := item.raw.URL, item.raw.Base
		item.raw.MergeOver(best)
		// The list's link stays the posting's identity unless the detail
		// page names a canonical one.
		if strings.TrimSpace(best.URL) == "" || best.URL == u.String() {
			item.raw.URL, item.raw.Base = listURL, listBase
		} else {
			item.raw.URL, item.raw.Base = best.URL, best.Base
		}
	})
}

// finish normalises the extracted postings (under cr.mu).
func (cr *crawler) finish() {
	now := time.Now()
	seen := map[string]bool{}
	add := func(r extract.Posting, gone bool) {
		j, err := extract.Normalize(r, now)
		if err != nil {
			cr.res.Dropped++
			if cr.res.Dropped <= 5 {
				cr.note("skipped: " + err.Error())
			}
			return
		}
		j.Source = cr.src.Name
		j.SourceID = cr.src.ID
		key := DedupeKey(j)
		if seen[key] {
			return
		}
		seen[key] = true
		if gone {
			cr.res.Gone = append(cr.res.Gone, key)
			return
		}
		cr.res.Jobs = append(cr.res.Jobs, j)
	}
	for _, it := range cr.items {
		add(it.raw, it.gone)
	}
	for _, r := range cr.ldJobs {
		add(r, false)
	}
	if cr.res.Dropped > 5 {
		cr.note(fmt.Sprintf("skipped %d postings without a title or a usable URL in all", cr.res.Dropped))
	}
}

// clipStr cuts s to n bytes, marking the cut.
func clipStr(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
