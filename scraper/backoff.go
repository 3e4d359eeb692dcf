package scraper

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HostPausedError is the error of a request that was not sent because its
// host is backing off (see the package doc, "Back-off").
type HostPausedError struct {
	Host   string
	Until  time.Time
	Reason string
}

// Error says which host, until when and why.
func (e *HostPausedError) Error() string {
	why := ""
	if e.Reason != "" {
		why = " (" + e.Reason + ")"
	}
	return fmt.Sprintf("host %s is backing off until %s%s; no request is sent to it before then",
		e.Host, e.Until.UTC().Format(time.RFC3339), why)
}

// hostKey is the key of a URL's host in host_state: host[:port], lower case.
func hostKey(host string) string { return strings.ToLower(host) }

// retryAfter reads a Retry-After header, delta-seconds or HTTP-date, as a
// duration from the response's own Date (the server's clock on both sides;
// the local clock when the response has no usable Date). ok is false when
// the header is absent or unreadable.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, int64(1<<33))) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d, err := http.ParseTime(h.Get("Date")); err == nil && d.Sub(now).Abs() < 24*time.Hour {
		now = d
	}
	return max(at.Sub(now), 0), true
}

// backoffDelay is the exponential back-off after the n-th failure in a
// row: base·2^(n-1), at most max, times a random factor in [0.5, 1.5) so
// that nodes and sources sharing a host do not come back in step.
func backoffDelay(base, maxDelay time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}

// hostFailure says whether a response or a transport error counts against
// the host, and how long the host asked to be left alone. A request that
// ended because its run ended (ctx), or that was refused before it was
// sent, says nothing about the host.
func hostFailure(ctx context.Context, resp *http.Response, err error) (reason string, wait time.Duration, hasWait, failed bool) {
	if err != nil {
		var paused *HostPausedError
		if ctx.Err() != nil || errors.Is(err, ErrForbiddenAddress) || errors.As(err, &paused) {
			return "", 0, false, false
		}
		return "request failed: " + clipStr(err.Error(), 200), 0, false, true
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		if d, ok := retryAfter(resp.Header, time.Now()); ok {
			return fmt.Sprintf("HTTP %d, Retry-After: %s", code, resp.Header.Get("Retry-After")), d, true, true
		}
		return fmt.Sprintf("HTTP %d", code), 0, false, true
	case code >= 500:
		return fmt.Sprintf("HTTP %d", code), 0, false, true
	}
	return "", 0, false, false
}

// hostTurn waits for host's turn: a pause ending within MaxBackoffWait is
// waited out, a longer one refuses the request with a *HostPausedError;
// then the cluster-wide spacing is applied. It returns the host's failures
// in a row as read.
func (s *Service) hostTurn(ctx context.Context, host string, spacing time.Duration) (int, error) {
	for {
		t, err := s.store.ReserveHostTurn(ctx, host, spacing)
		if err != nil {
			return 0, err
		}
		wait := t.At.Sub(t.Now)
		if t.At.IsZero() {
			wait = t.PausedUntil.Sub(t.Now)
			if wait > s.cfg.MaxBackoffWait {
				return t.Failures, &HostPausedError{Host: host, Until: *t.PausedUntil, Reason: t.Reason}
			}
		}
		if wait > 0 {
			tm := time.NewTimer(wait)
			select {
			case <-tm.C:
			case <-ctx.Done():
				tm.Stop()
				return t.Failures, ctx.Err()
			}
		}
		if !t.At.IsZero() {
			return t.Failures, nil
		}
	}
}

// recordOutcome writes what a request taught about its host: a failure
// pauses it (Retry-After, or exponential back-off), a success after
// failures ends the row.
func (s *Service) recordOutcome(reqCtx context.Context, host string, failuresBefore int, resp *http.Response, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(reqCtx), 5*time.Second)
	defer cancel()
	reason, wait, hasWait, failed := hostFailure(reqCtx, resp, err)
	if !failed {
		if failuresBefore > 0 && err == nil {
			if err := s.store.RecordHostSuccess(ctx, host); err != nil {
				s.log.Warn("recording a host's recovery failed", "host", host, "err", err)
			}
		}
		return
	}
	pause := func(n int) time.Duration {
		if hasWait {
			return min(wait, s.cfg.MaxRetryAfter)
		}
		return backoffDelay(s.cfg.BackoffBase, s.cfg.BackoffMax, n)
	}
	h, werr := s.store.RecordHostFailure(ctx, host, reason, pause)
	if werr != nil {
		s.log.Warn("recording a host's failure failed", "host", host, "err", werr)
		return
	}
	s.log.Info("host backing off", "host", host, "reason", reason, "failures", h.Failures, "until", h.PausedUntil)
}

// hostPause returns the pause of host when it lasts longer
// than MaxBackoffWait (a run would only be refused), else nil.
func (s *Service) hostPause(ctx context.Context, host string) (*HostPausedError, error) {
	h, err := s.store.GetHostState(ctx, hostKey(host))
	if err != nil {
		return nil, err
	}
	if h.Paused() && h.PausedUntil.Sub(h.Now) > s.cfg.MaxBackoffWait {
		return &HostPausedError{Host: h.Host, Until: *h.PausedUntil, Reason: h.Reason}, nil
	}
	return nil, nil
}
