package scraper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// ErrAlreadyRunning is returned by RunNow when the source is being scraped,
// on this node or another.
var ErrAlreadyRunning = errors.New("source is already running")

// ErrSourceDisabled is returned by RunNow for a disabled (or paused)
// source: disabling expired its jobs, and a run would list them again
// under a source that no schedule runs, where they would never expire.
// Preview shows what a run would find without storing it.
var ErrSourceDisabled = errors.New("source is disabled")

// transport returns the node's shared base transport.
func (s *Service) transport() http.RoundTripper {
	s.transportOnce.Do(func() {
		s.base = newBaseTransport(s.cfg.AllowPrivate, s.cfg.AllowAddrs, s.cfg.RequestTimeout)
	})
	return s.base
}

// options merges a source's settings over the service defaults.
func (s *Service) options(src model.Source) (crawlOptions, Settings) {
	st, _ := ParseSettings(src.Settings)
	o := crawlOptions{
		maxPages:       s.cfg.MaxPages,
		maxDetail:      s.cfg.MaxDetailPages,
		requestTimeout: s.cfg.RequestTimeout,
		runTimeout:     s.cfg.RunTimeout,
		maxBody:        s.cfg.MaxBodyBytes,
		delay:          time.Duration(st.Delay),
		parallelism:    st.Parallelism,
	}
	if st.MaxPages > 0 {
		o.maxPages = st.MaxPages
	}
	if st.MaxDetailPages > 0 {
		o.maxDetail = st.MaxDetailPages
	}
	if st.RequestTimeout > 0 {
		o.requestTimeout = time.Duration(st.RequestTimeout)
	}
	if st.RunTimeout > 0 {
		o.runTimeout = time.Duration(st.RunTimeout)
	}
	if st.MaxBodyBytes > 0 {
		o.maxBody = st.MaxBodyBytes
	}
	if o.requestTimeout > o.runTimeout {
		o.requestTimeout = o.runTimeout
	}
	return o, st
}

// PreviewResult is what POST /api/sources/{id}/preview answers.
type PreviewResult struct {
	Jobs   []model.Job `json:"jobs"`
	Pages  int         `json:"pages"`
	Found  int         `json:"found"`
	Errors []string    `json:"errors"`
	// Gone lists the postings whose detail page answered 404/410.
	Gone []string `json:"gone,omitempty"`
}

// Preview extracts a source (saved or not) without saving anything, over
// at most DefaultPreviewPages list pages and DefaultPreviewDetailPages
// detail pages.
func (s *Service) Preview(ctx context.Context, src model.Source) PreviewResult {
	o, _ := s.options(src)
	o.maxPages = min(o.maxPages, DefaultPreviewPages)
	o.maxDetail = min(o.maxDetail, DefaultPreviewDetailPages)
	o.runTimeout = min(o.runTimeout, 60*time.Second)
	res := s.crawl(ctx, src, o)
	out := PreviewResult{Jobs: res.Jobs, Pages: res.Pages, Found: len(res.Jobs), Errors: append(res.Errors, res.Notes...), Gone: res.Gone}
	if out.Jobs == nil {
		out.Jobs = []model.Job{}
	}
	if out.Errors == nil {
		out.Errors = []string{}
	}
	return out
}

// RunNow starts a run of the source by hand. It returns the run record as
// claimed and a channel that receives the finished record.
func (s *Service) RunNow(ctx context.Context, sourceID int64) (storage.Run, <-chan storage.Run, error) {
	src, err := s.store.GetSource(ctx, sourceID)
	if err != nil {
		return storage.Run{}, nil, err
	}
	if !src.Enabled {
		return storage.Run{}, nil, ErrSourceDisabled
	}
	release, ok, err := s.claimSource(ctx, sourceID)
	if err != nil {
		return storage.Run{}, nil, err
	}
	if !ok {
		return storage.Run{}, nil, ErrAlreadyRunning
	}
	run, _, err := s.store.ClaimRun(ctx, sourceID, nil, s.cfg.Node, "manual")
	if err != nil {
		release()
		return storage.Run{}, nil, err
	}
	done := make(chan storage.Run, 1)
	go func() {
		r := s.execute(s.baseContext(), src, run)
		release() // before the send: a caller may start the next run at once
		done <- r
	}()
	return run, done, nil
}

func (s *Service) lockSource(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[id] {
		return false
	}
	s.running[id] = true
	return true
}

func (s *Service) unlockSource(id int64) {
	s.mu.Lock()
	delete(s.running, id)
	s.mu.Unlock()
}

func (s *Service) baseContext() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx != nil {
		return s.ctx
	}
	return context.Background()
}

// runTick runs a source for a scheduled tick, unless another node claimed
// the tick first. It returns the finished run, or ok=false when the tick
// was not ours.
func (s *Service) runTick(ctx context.Context, sourceID int64, tick time.Time) (storage.Run, bool, error) {
	src, err := s.store.GetSource(ctx, sourceID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Run{}, false, nil
	}
	if err != nil {
		return storage.Run{}, false, err
	}
	if !src.Enabled {
		return storage.Run{}, false, nil
	}
	release, ok, err := s.claimSource(ctx, sourceID)
	if err != nil || !ok {
		if err == nil {
			s.log.Info("tick skipped: the source is still running", "source_id", sourceID, "tick", tick)
		}
		return storage.Run{}, false, err
	}
	defer release()
	tick = tick.UTC().Truncate(time.Millisecond)
	run, ok, err := s.store.ClaimRun(ctx, sourceID, &tick, s.cfg.Node, "schedule")
	if err != nil || !ok {
		return storage.Run{}, false, err
	}
	return s.execute(ctx, src, run), true, nil
}

// execute crawls, stores, expires and records one run. It never returns an
// error: what went wrong is in the run record.
func (s *Service) execute(ctx context.Context, src model.Source, run storage.Run) storage.Run {
	log := s.log.With("source_id", src.ID, "run_id", run.ID)
	o, st := s.options(src)
	merged := 0 // postings found as jobs another source lists (metrics)
	if run.Trigger == "schedule" {
		etag, lm, err := s.store.SourceValidators(ctx, src.ID)
		if err == nil {
			o.etag, o.lastModified = etag, lm
		}
	}
	res := s.crawlUnlessBackingOff(ctx, src, o)
	run.Pages, run.Found = res.Pages, len(res.Jobs)
	run.ErrorCount = res.ErrorCount
	run.Errors = append(append([]string{}, res.Errors...), prefixed("note: ", res.Notes)...)

	// A fresh context for the bookkeeping: a run cut short by its deadline
	// (or by shutdown) still records what it found.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	s.awaitDatabase(wctx, log)

	switch {
	case res.Backoff != nil:
		run.Status = StatusBackoff
	case res.NotModified:
		run.Status = StatusNotModified
	case !res.FirstPageOK:
		run.Status = StatusFailed
	default:
		run.Status = StatusOK
		if len(res.Jobs) == 0 && len(res.Gone) == 0 {
			// Reached the board, found nothing: a broken selector far more
			// often than an empty board; it expires nothing.
			run.Status = StatusEmpty
			run.Errors = append(run.Errors, emptyNote(src, res))
		} else if res.ErrorCount > 0 || res.CutShort {
			run.Status = StatusSuspect
			run.Errors = append(run.Errors, fmt.Sprintf("suspect: %d errors; nothing expired", res.ErrorCount))
		} else if recent, err := s.store.RecentFound(wctx, src.ID, run.ID, 5); err == nil && len(recent) > 0 {
			ratio := st.SuspectRatio
			if ratio <= 0 {
				ratio = s.cfg.SuspectRatio
			}
			if med := median(recent); float64(run.Found) < ratio*float64(med) {
				run.Status = StatusSuspect
				run.Errors = append(run.Errors, fmt.Sprintf("suspect: found %d postings where recent runs found %d; nothing expired", run.Found, med))
			}
		}
		backlog, err := s.store.SourceBacklog(wctx, src.ID)
		if err != nil {
			backlog = true // unknown: keep quiet about old postings
			log.Warn("reading the backlog mark failed", "err", err)
		}
		if len(res.Jobs) > 0 {
			ir, err := s.ingest(wctx, src.ID, res.Jobs, backlog)
			merged = ir.Merged
			if err != nil {
				run.Status = StatusFailed
				run.ErrorCount++
				run.Errors = append(run.Errors, "storing jobs failed: "+err.Error())
				log.Error("ingest failed", "err", err)
			} else {
				run.New, run.Updated = ir.New, ir.Updated
			}
		}
		if run.Status == StatusOK {
			n, err := s.expireAfterRun(wctx, src, run, res, o, st)
			run.Expired = n
			if err != nil {
				run.ErrorCount++
				run.Errors = append(run.Errors, err.Error())
				log.Error("expiry failed", "err", err)
			}
			if err := s.store.SaveSourceValidators(wctx, src.ID, res.ETag, res.LastModified); err != nil {
				log.Warn("saving validators failed", "err", err)
			}
			// A run that found nothing has not seen the backlog yet.
			if backlog && run.Status == StatusOK && run.Found > 0 {
				if err := s.store.EndSourceBacklog(wctx, src.ID); err != nil {
					log.Warn("ending the backlog failed", "err", err)
				}
			}
		}
	}
	if len(run.Errors) > MaxErrorSamples+5 {
		run.Errors = run.Errors[:MaxErrorSamples+5]
	}
	if err := s.store.FinishRun(wctx, &run); err != nil {
		log.Error("recording the run failed", "err", err)
	}
	s.recordHealth(wctx, src, run)
	s.metrics.finished(src.Name, run, merged)
	log.Info("run finished", "status", run.Status, "pages", run.Pages, "found", run.Found,
		"new", run.New, "updated", run.Updated, "expired", run.Expired, "errors", run.ErrorCount)
	return run
}

// awaitDatabase waits, within ctx (the run's bookkeeping time), until the
// database answers. A database that went away while the run crawled (a
// restart, a failover) is often back in seconds: the run then stores what
// it found instead of failing at its first write and losing it all (seen
// in internal/faulttest: 110 postings lost to an 8 s restart).
func (s *Service) awaitDatabase(ctx context.Context, log *slog.Logger) {
	delay := 100 * time.Millisecond
	for logged := false; ; {
		err := s.store.Ping(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		if !logged {
			log.Warn("the database is away; the run waits for it to store what it found", "err", err)
			logged = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

// expireAfterRun applies the expiry rules a healthy run allows: detail
// pages gone, validThrough passed, (unless the page limit cut the crawl)
// missing from N healthy runs in a row, and job pages found gone by the
// run's bounded URL checks. A listing that ends expires its job only when
// no other source lists it.
func (s *Service) expireAfterRun(ctx context.Context, src model.Source, run storage.Run, res crawlResult, o crawlOptions, st Settings) (int, error) {
	total := 0
	n, err := s.expireListings(ctx, "gone", func(tx *storage.Store) ([]int64, error) {
		return tx.EndGoneListings(ctx, src.ID, res.Gone)
	})
	if err != nil {
		return total, err
	}
	total += n
	n, err = s.store.ExpireValidThrough(ctx, src.ID)
	if err != nil {
		return total, err
	}
	total += n
	if !res.Limited {
		threshold := st.ExpireAfterMissing
		if threshold <= 0 {
			threshold = s.cfg.ExpireAfterMissing
		}
		n, err = s.expireListings(ctx, "missing", func(tx *storage.Store) ([]int64, error) {
			return tx.EndMissingListings(ctx, src.ID, run.StartedAt, threshold)
		})
		if err != nil {
			return total, err
		}
		total += n
	}
	n, err = s.checkURLs(ctx, src, o)
	return total + n, err
}

// expireListings ends listings (end returns their jobs) and expires those
// jobs that no source lists any more, with the reason, in one transaction;
// it returns how many jobs expired.
func (s *Service) expireListings(ctx context.Context, reason string, end func(tx *storage.Store) ([]int64, error)) (int, error) {
	var n int
	err := s.store.Tx(ctx, func(tx *storage.Store) error {
		ids, err := end(tx)
		if err != nil {
			return err
		}
		n, err = tx.ExpireUnlistedJobs(ctx, ids, reason)
		return err
	})
	return n, err
}

func median(xs []int) int {
	c := append([]int(nil), xs...)
	sort.Ints(c)
	return c[len(c)/2]
}

func prefixed(p string, xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = p + x
	}
	return out
}
