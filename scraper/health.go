package scraper

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// Health is a source's health as the API and the admin page show it: its
// streaks, last success, automatic pause, and the back-off of its host.
type Health struct {
	// State sums it up: "new" (never ran), "ok", "failing", "empty",
	// "backoff" (its host is backing off), "paused" (disabled after too many
	// failures in a row), "disabled" (by an admin).
	State string `json:"state"`
	storage.SourceHealth
	// PauseAfterFailures is the failure streak that pauses the source (0:
	// never).
	PauseAfterFailures int  `json:"pauseAfterFailures"`
	Paused             bool `json:"paused"`
	// Running: a node holds the source for a run right now.
	Running bool `json:"running"`
	// Host is the back-off state of the host of the source's URL.
	Host *storage.HostState `json:"host,omitempty"`
	// ResumesAt is when the host's back-off ends, if it is backing off.
	ResumesAt *time.Time `json:"resumesAt,omitempty"`
}

// Health returns the health of src.
func (s *Service) Health(ctx context.Context, src model.Source) (Health, error) {
	sh, err := s.store.GetSourceHealth(ctx, src.ID)
	if err != nil {
		return Health{}, err
	}
	h := Health{SourceHealth: sh, PauseAfterFailures: max(s.cfg.PauseAfterFailures, 0), Paused: sh.PausedAt != nil}
	if host := urlHost(src.URL); host != "" && src.Kind != model.SourceManual {
		hs, err := s.store.GetHostState(ctx, host)
		if err != nil {
			return h, err
		}
		h.Host = &hs
		if hs.Paused() {
			h.ResumesAt = hs.PausedUntil
		}
		h.Running = sh.RunLeaseUntil != nil && sh.RunLeaseUntil.After(hs.Now)
	}
	h.State = healthState(src, h)
	return h, nil
}

func healthState(src model.Source, h Health) string {
	switch {
	case h.Paused && !src.Enabled:
		return "paused"
	case !src.Enabled:
		return "disabled"
	case h.ResumesAt != nil:
		return "backoff"
	case h.LastStatus == "":
		return "new"
	case h.LastStatus == StatusFailed || h.FailureStreak > 0:
		return "failing" // also just after a resume: the streak restarts, the last run did fail
	case h.LastStatus == StatusEmpty || h.EmptyStreak > 0:
		return "empty"
	}
	return "ok"
}

// urlHost is the host_state key of a source URL ("" when it has none).
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return hostKey(u.Host)
}

// recordHealth updates the source's streaks after a run, counts the run in
// the metrics, and pauses the source (disables it, with the reason) when
// its failure streak reaches PauseAfterFailures.
func (s *Service) recordHealth(ctx context.Context, src model.Source, run storage.Run) {
	s.metrics.runs.WithLabelValues(src.Name, run.Status).Inc()
	o := storage.RunOutcome{SourceID: src.ID, Status: run.Status}
	switch run.Status {
	case StatusFailed:
		o.Failed = true
	case StatusEmpty:
		o.Empty = true
	case StatusOK, StatusSuspect, StatusNotModified:
		o.Success = true
	}
	if len(run.Errors) > 0 {
		o.Error = run.Errors[0]
	}
	h, err := s.store.RecordRunHealth(ctx, o)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) { // deleted during its run
			s.log.Error("recording the source's health failed", "source_id", src.ID, "err", err)
		}
		return
	}
	n := s.cfg.PauseAfterFailures
	if n <= 0 || h.FailureStreak < n {
		return
	}
	runs := "runs"
	if h.FailureStreak == 1 {
		runs = "run"
	}
	reason := fmt.Sprintf("paused automatically after %d failed %s in a row (BIRJOB_PAUSE_AFTER_FAILURES=%d); last error: %s. Enable the source to resume.",
		h.FailureStreak, runs, n, clipStr(h.LastError, 300))
	paused, err := s.store.PauseSource(ctx, src.ID, reason)
	if err != nil {
		s.log.Error("pausing a failing source failed", "source_id", src.ID, "err", err)
	} else if paused {
		s.log.Warn("source paused after failing runs", "source_id", src.ID, "failures", h.FailureStreak)
	}
}

// emptyNote says why a run that reached the board found nothing, naming
// the selector when the extractor said which one matched nothing.
func emptyNote(src model.Source, res crawlResult) string {
	for _, n := range res.Notes {
		if strings.Contains(n, "matched nothing") {
			return "empty: nothing found; " + n
		}
	}
	switch src.Kind {
	case model.SourceHTML:
		return fmt.Sprintf("empty: nothing found; no posting with a title and a link under the item selector %q", src.Selectors["item"])
	case model.SourceJSON:
		return fmt.Sprintf("empty: nothing found at the items path %q", src.Selectors["items"])
	case model.SourceRSS:
		return "empty: the feed has no items"
	}
	return "empty: the page has no JobPosting (JSON-LD)"
}

// claimSource makes this node the one runner of the source, in the whole
// cluster, until release is called: a node-local guard first (cheap), then
// a lease in source_health, renewed every third of Config.RunLease while
// the run lasts. ok is false when the source is running somewhere.
func (s *Service) claimSource(ctx context.Context, id int64) (release func(), ok bool, err error) {
	if !s.lockSource(id) {
		return nil, false, nil
	}
	var b [8]byte
	rand.Read(b[:])
	holder := s.cfg.Node + "/" + hex.EncodeToString(b[:])
	got, heldBy, err := s.store.AcquireRunLease(ctx, id, holder, s.cfg.RunLease)
	if err != nil || !got {
		s.unlockSource(id)
		if err == nil {
			s.log.Info("source is running on another node", "source_id", id, "holder", heldBy)
		}
		return nil, false, err
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.cfg.RunLease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(context.Background(), s.cfg.RunLease/3)
				if ok, err := s.store.RenewRunLease(rctx, id, holder, s.cfg.RunLease); err != nil || !ok {
					s.log.Warn("could not renew the run lease of a source", "source_id", id, "err", err, "held", ok)
				}
				cancel()
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.store.ReleaseRunLease(rctx, id, holder); err != nil {
			s.log.Warn("could not release the run lease of a source; it runs out by itself", "source_id", id, "err", err)
		}
		s.unlockSource(id)
	}, true, nil
}

// crawlUnlessBackingOff crawls the source, unless the host of its URL is
// backing off for longer than a request would wait: then no request is
// made and the result says until when.
func (s *Service) crawlUnlessBackingOff(ctx context.Context, src model.Source, o crawlOptions) crawlResult {
	if p, err := s.hostPause(ctx, urlHost(src.URL)); err != nil {
		return crawlResult{Errors: []string{"reading the host's back-off state failed: " + err.Error()}, ErrorCount: 1}
	} else if p != nil {
		return crawlResult{Backoff: p, Errors: []string{p.Error()}}
	}
	return s.crawl(ctx, src, o)
}
