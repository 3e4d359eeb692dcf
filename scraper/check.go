package scraper

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// checkBodyBytes is all a URL check reads of a page: only the status
// matters.
const checkBodyBytes = 16 << 10

// checksDetailPages reports whether a source's runs already fetch each
// posting's own page (html with "detail"), so that a 404/410 there is seen
// by the crawl and needs no separate check.
func checksDetailPages(src model.Source) bool {
	return src.Kind == model.SourceHTML && src.Selectors["detail"] == "true"
}

// checkURLs asks up to Config.URLChecksPerRun of the source's live
// listings, least recently checked first and each at most once per
// Config.URLCheckInterval, whether their page still exists,
// and expires the jobs whose page answers 404 or 410 (when no other source
// lists them under another URL). Requests go through the node's per-host
// limits and the cluster's host state (spacing, Retry-After, back-off) and
// honour robots.txt as the source's crawls do. It returns how many jobs
// expired.
func (s *Service) checkURLs(ctx context.Context, src model.Source, o crawlOptions) (int, error) {
	if s.cfg.URLChecksPerRun <= 0 || src.Kind == model.SourceManual || checksDetailPages(src) {
		return 0, nil
	}
	refs, err := s.store.ListingsToCheck(ctx, src.ID, s.cfg.URLChecksPerRun, s.cfg.URLCheckInterval)
	if err != nil || len(refs) == 0 {
		return 0, err
	}
	checked, gone := s.probe(ctx, src, o, refs)
	if err := s.store.MarkListingsChecked(ctx, src.ID, checked); err != nil {
		return 0, err
	}
	if len(gone) > 0 {
		s.log.Info("job pages gone", "source_id", src.ID, "checked", len(checked), "gone", len(gone))
	}
	return s.expireListings(ctx, "gone", func(tx *storage.Store) ([]int64, error) {
		return tx.EndGoneListings(ctx, src.ID, gone)
	})
}

// probe GETs each listing's URL (a small body limit: only the status
// matters) and returns the dedupe keys it got an answer for, or was not
// allowed to ask by robots.txt, and those answered 404 or 410. A request
// that failed otherwise (a timeout, a 5xx) counts as checked and gone
// neither: the listing is asked again in a later run, after the others.
func (s *Service) probe(ctx context.Context, src model.Source, o crawlOptions, refs []storage.ListingRef) (checked, gone []string) {
	ctx, cancel := context.WithTimeout(ctx, min(o.runTimeout, 2*time.Minute))
	defer cancel()
	// The run's collector: a job page's host waits for its turn and its
	// back-off like a list page's, and a 429 or 5xx here pauses it too (a
	// 404 or 410 is an answer, not a failure of the host).
	c := s.newCollector(ctx, src, o, checkBodyBytes)
	var mu sync.Mutex
	answer := func(key string, status int) {
		mu.Lock()
		defer mu.Unlock()
		checked = append(checked, key)
		if status == http.StatusNotFound || status == http.StatusGone {
			gone = append(gone, key)
		}
	}
	c.OnResponse(func(r *colly.Response) { answer(r.Ctx.Get("key"), r.StatusCode) })
	c.OnError(func(r *colly.Response, err error) {
		if r != nil && r.Request != nil {
			mu.Lock()
			checked = append(checked, r.Ctx.Get("key"))
			mu.Unlock()
		}
	})
	for _, ref := range refs {
		cctx := colly.NewContext()
		cctx.Put("key", ref.DedupeKey)
		err := c.Request("GET", ref.URL, nil, cctx, nil)
		var av *colly.AlreadyVisitedError
		switch {
		case err == nil, errors.As(err, &av):
		default: // robots.txt forbids it, or a URL colly refuses: not ours to ask
			answer(ref.DedupeKey, 0)
		}
	}
	done := make(chan struct{})
	go func() {
		c.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	return append([]string(nil), checked...), append([]string(nil), gone...)
}
