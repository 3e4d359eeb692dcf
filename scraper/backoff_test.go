package scraper

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/birjob/birjob/storage"
)

func TestRetryAfter(t *testing.T) {
	date := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	local := date.Add(5 * time.Second) // a local clock 5 s ahead of the server's
	for _, tc := range []struct {
		ra, date string
		want     time.Duration
		ok       bool
	}{
		{"3600", "", time.Hour, true},
		{" 0 ", "", 0, true},
		{date.Add(30 * time.Second).Format(http.TimeFormat), date.Format(http.TimeFormat), 30 * time.Second, true},
		{date.Add(30 * time.Second).Format(http.TimeFormat), "", 25 * time.Second, true}, // no Date: the local clock
		{date.Add(-time.Minute).Format(http.TimeFormat), date.Format(http.TimeFormat), 0, true},
		{"", "", 0, false},
		{"-5", "", 0, false},
		{"soon", "", 0, false},
	} {
		h := http.Header{}
		if tc.ra != "" {
			h.Set("Retry-After", tc.ra)
		}
		if tc.date != "" {
			h.Set("Date", tc.date)
		}
		got, ok := retryAfter(h, local)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Retry-After %q, Date %q: %s %v, want %s %v", tc.ra, tc.date, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoffDelay_ExponentialWithJitter(t *testing.T) {
	base, maxD := time.Second, time.Minute
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 7: time.Minute, 40: time.Minute} {
		seen := map[time.Duration]bool{}
		for range 50 {
			d := backoffDelay(base, maxD, n)
			if d < want/2 || d >= want*3/2 {
				t.Fatalf("failure %d: delay %s outside [%s, %s)", n, d, want/2, want*3/2)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("failure %d: %d distinct delays in 50: no jitter", n, len(seen))
		}
	}
}

// limitedBoard is a board that answers its first request with status and
// header, then serves one posting; it records when each request came.
type limitedBoard struct {
	*httptest.Server
	mu       sync.Mutex
	times    []time.Time
	limited  time.Time // when the limiting answer was sent
	answered bool
}

func newLimitedBoard(t *testing.T, status int, header func(now time.Time) http.Header) *limitedBoard {
	b := &limitedBoard{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		b.mu.Lock()
		b.times = append(b.times, now)
		first := !b.answered
		b.answered = true
		if first {
			b.limited = now
		}
		b.mu.Unlock()
		if first {
			for k, v := range header(now) {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			return
		}
		fmt.Fprint(w, `<div class="job" data-id="1"><a href="/jobs/1">One</a></div>`)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *limitedBoard) requests() (limited time.Time, after []time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.times) > 0 {
		after = append(after, b.times[1:]...)
	}
	return b.limited, after
}

func twoNodes(t *testing.T, tweak func(*Config)) (*Service, *Service, *pgxpool.Pool) {
	db := newTestDB(t)
	var out []*Service
	for _, node := range []string{"node-a", "node-b"} {
		cfg := testConfig()
		cfg.Node = node
		if tweak != nil {
			tweak(&cfg)
		}
		out = append(out, NewService(db, cfg, testLogger(t)))
	}
	return out[0], out[1], db
}

// TestBackoff_RetryAfterAcrossNodes: a board answers 429 or 503 with
// Retry-After (seconds, or an HTTP date) to node A; node B's run waits the
// pause out, and no request reaches the board before the time it named.
func TestBackoff_RetryAfterAcrossNodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header func(now time.Time) http.Header
		until  func(limited time.Time) time.Time
	}{
		{"429 seconds", http.StatusTooManyRequests,
			func(time.Time) http.Header { return http.Header{"Retry-After": {"2"}} },
			func(l time.Time) time.Time { return l.Add(2 * time.Second) }},
		{"503 http-date", http.StatusServiceUnavailable,
			func(now time.Time) http.Header {
				return http.Header{"Retry-After": {now.Add(3 * time.Second).UTC().Format(http.TimeFormat)}}
			},
			func(l time.Time) time.Time { return l.Add(3 * time.Second).Truncate(time.Second) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, db := twoNodes(t, nil)
			board := newLimitedBoard(t, tc.status, tc.header)
			src := boardSource(board.URL + "/")
			src.RespectRobots = false
			src = mustCreate(t, db, src)

			ra := runOnce(t, a, src.ID)
			if ra.Status != StatusFailed || !strings.Contains(strings.Join(ra.Errors, " "), "Retry-After") {
				t.Fatalf("node A's run = %s %v, want failed naming Retry-After", ra.Status, ra.Errors)
			}
			rb := runOnce(t, b, src.ID)
			if rb.Status != StatusOK || rb.Found != 1 {
				t.Fatalf("node B's run = %s %v, want ok after waiting", rb.Status, rb.Errors)
			}
			limited, after := board.requests()
			until := tc.until(limited)
			if len(after) == 0 {
				t.Fatal("node B made no request")
			}
			for _, at := range after {
				if at.Before(until) {
					t.Errorf("a request came %s before the Retry-After time", until.Sub(at))
				}
			}
		})
	}
}

// TestBackoff_LongRetryAfter: a Retry-After of an hour makes every later
// run, on any node, a "backoff" run that sends nothing and says until when;
// the source's health shows when the host resumes.
func TestBackoff_LongRetryAfter(t *testing.T) {
	a, b, db := twoNodes(t, nil)
	board := newLimitedBoard(t, http.StatusTooManyRequests, func(time.Time) http.Header {
		return http.Header{"Retry-After": {"3600"}}
	})
	src := boardSource(board.URL + "/")
	src.RespectRobots = false
	src = mustCreate(t, db, src)

	runOnce(t, a, src.ID)
	for _, s := range []*Service{a, b} {
		r := runOnce(t, s, src.ID)
		if r.Status != StatusBackoff || r.Pages != 0 || !strings.Contains(strings.Join(r.Errors, " "), "backing off until") {
			t.Fatalf("%s: run = %s pages %d %v, want backoff saying until when", s.cfg.Node, r.Status, r.Pages, r.Errors)
		}
	}
	if _, after := board.requests(); len(after) != 0 {
		t.Fatalf("%d requests reached the board during its Retry-After", len(after))
	}
	h, err := b.Health(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if h.State != "backoff" || h.ResumesAt == nil || time.Until(*h.ResumesAt) < 59*time.Minute || h.FailureStreak != 1 {
		t.Errorf("health = %+v (resumes %v), want backoff for an hour, one failed run", h, h.ResumesAt)
	}
}

// TestBackoff_ExponentialPerHost: failures in a row pause the host for
// base·2^(n-1) ± 50%; a success ends the row.
func TestBackoff_ExponentialPerHost(t *testing.T) {
	const base = 300 * time.Millisecond
	s, _, db := twoNodes(t, func(c *Config) { c.BackoffBase, c.BackoffMax = base, time.Hour })
	var mu sync.Mutex
	fail := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, `<div class="job" data-id="1"><a href="/jobs/1">One</a></div>`)
	}))
	defer srv.Close()
	src := boardSource(srv.URL + "/")
	src.RespectRobots = false
	src = mustCreate(t, db, src)
	host := urlHost(src.URL)
	store := storage.New(db)
	for n := 1; n <= 3; n++ {
		var before time.Time // the database's clock, which sets the pause
		if err := db.QueryRow(context.Background(), `SELECT clock_timestamp()`).Scan(&before); err != nil {
			t.Fatal(err)
		}
		if r := runOnce(t, s, src.ID); r.Status != StatusFailed {
			t.Fatalf("run %d = %s", n, r.Status)
		}
		h, err := store.GetHostState(context.Background(), host)
		if err != nil {
			t.Fatal(err)
		}
		want := base << (n - 1)
		if h.Failures != n || h.PausedUntil == nil {
			t.Fatalf("after failure %d: %+v", n, h)
		}
		// The pause was set during the run, between before and h.Now: it
		// ends at least half its length after before and at most 1.5 times
		// it after h.Now (how long the run's bookkeeping and this read took
		// on a busy machine does not matter).
		if from := h.PausedUntil.Sub(before); from < want/2 {
			t.Errorf("after failure %d: paused until %s after the run began, want at least %s (%s - 50%%)", n, from, want/2, want)
		}
		if left := h.PausedUntil.Sub(h.Now); left > want*3/2 {
			t.Errorf("after failure %d: paused for %s more, want at most %s (%s + 50%%)", n, left, want*3/2, want)
		}
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	if r := runOnce(t, s, src.ID); r.Status != StatusOK {
		t.Fatalf("recovered run = %s %v", r.Status, r.Errors)
	}
	if h, _ := store.GetHostState(context.Background(), host); h.Failures != 0 || h.Reason != "" {
		t.Errorf("after a success: %+v", h)
	}
}

// TestRunLease_OneRunAcrossNodes: while node A runs a source, node B can
// neither run it by hand nor for a tick; once A is done, B can.
func TestRunLease_OneRunAcrossNodes(t *testing.T) {
	a, b, db := twoNodes(t, nil)
	entered := make(chan struct{}, 10)
	release := make(chan struct{})
	var mu sync.Mutex
	inFlight, most := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		entered <- struct{}{}
		<-release
		fmt.Fprint(w, `<div class="job" data-id="1"><a href="/jobs/1">One</a></div>`)
	}))
	defer srv.Close()
	src := boardSource(srv.URL + "/")
	src.RespectRobots = false
	src = mustCreate(t, db, src)

	_, done, err := a.RunNow(context.Background(), src.ID)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("node A's run did not reach the board")
	}
	if _, _, err := b.RunNow(context.Background(), src.ID); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("node B's run now during A's run: err = %v, want ErrAlreadyRunning", err)
	}
	if _, ok, err := b.runTick(context.Background(), src.ID, time.Now().UTC().Truncate(time.Second)); ok || err != nil {
		t.Errorf("node B ran a tick during A's run: ok %v err %v", ok, err)
	}
	if h, _ := b.Health(context.Background(), src); !h.Running {
		t.Error("health does not show the run in progress")
	}
	close(release)
	if r := <-done; r.Status != StatusOK {
		t.Fatalf("node A's run = %s %v", r.Status, r.Errors)
	}
	if r := runOnce(t, b, src.ID); r.Status != StatusOK {
		t.Fatalf("node B's run after A's = %s %v", r.Status, r.Errors)
	}
	if most != 1 {
		t.Errorf("%d requests at once: two runs overlapped", most)
	}
}

// TestHealth_StreaksPauseAndResume: failed runs build a streak; at
// PauseAfterFailures the source is disabled with the reason, in the health
// and in /metrics; enabling it resumes it; an empty run is "empty", not ok,
// and names the selector.
func TestHealth_StreaksPauseAndResume(t *testing.T) {
	s, _, db := twoNodes(t, func(c *Config) {
		c.PauseAfterFailures = 3
		c.BackoffBase = time.Millisecond
		c.BackoffMax = time.Millisecond
	})
	var mu sync.Mutex
	page := "" // "" answers 500
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if page == "" {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, page)
	}))
	defer srv.Close()
	setPage := func(p string) { mu.Lock(); page = p; mu.Unlock() }
	src := boardSource(srv.URL + "/")
	src.RespectRobots = false
	src = mustCreate(t, db, src)
	ctx := context.Background()
	health := func() Health {
		t.Helper()
		cur, err := s.store.GetSource(ctx, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		h, err := s.Health(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if h := health(); h.State != "new" || h.LastSuccessAt != nil {
		t.Errorf("before any run: %+v", h)
	}

	setPage(`<div class="job" data-id="1"><a href="/jobs/1">One</a></div>`)
	runOnce(t, s, src.ID)
	okAt := health().LastSuccessAt
	if okAt == nil || health().State != "ok" {
		t.Fatalf("after an ok run: %+v", health())
	}

	setPage("")
	for i := 1; i <= 3; i++ {
		if r := runOnce(t, s, src.ID); r.Status != StatusFailed {
			t.Fatalf("run %d = %s", i, r.Status)
		}
	}
	h := health()
	if h.FailureStreak != 3 || h.State != "paused" || !h.Paused || !strings.Contains(h.PausedReason, "3 failed runs in a row") ||
		!strings.Contains(h.PausedReason, "HTTP 500") || h.LastSuccessAt == nil || !h.LastSuccessAt.Equal(*okAt) {
		t.Fatalf("after 3 failures: %+v", h)
	}
	if cur, _ := s.store.GetSource(ctx, src.ID); cur.Enabled {
		t.Fatal("the source is still enabled")
	}
	metric := gatherSource(t, s, "birjob_source_paused", src.Name)
	if metric != 1 || gatherSource(t, s, "birjob_source_failure_streak", src.Name) != 3 {
		t.Errorf("metrics: paused %v", metric)
	}

	// Enabling resumes: the pause and the streak are forgotten.
	cur, _ := s.store.GetSource(ctx, src.ID)
	cur.Enabled = true
	if _, err := s.UpdateSource(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if h := health(); h.Paused || h.FailureStreak != 0 || h.PausedReason != "" || h.State == "paused" {
		t.Fatalf("after enabling: %+v", h)
	}

	// A selector that matches nothing: "empty", naming it.
	setPage(`<ul><li class="posting"><a href="/jobs/1">One</a></li></ul>`)
	r := runOnce(t, s, src.ID)
	if r.Status != StatusEmpty || !strings.Contains(strings.Join(r.Errors, " "), `"div.job" matched nothing`) {
		t.Fatalf("empty run = %s %v", r.Status, r.Errors)
	}
	if h := health(); h.State != "empty" || h.EmptyStreak != 1 || h.FailureStreak != 0 {
		t.Errorf("after an empty run: %+v", h)
	}
	if v := gatherSource(t, s, "birjob_source_empty_streak", src.Name); v != 1 {
		t.Errorf("empty streak metric = %v", v)
	}
}

// gatherSource reads the value of a metric of the scraper's collector for
// one source.
func gatherSource(t *testing.T, s *Service, name, source string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" && l.GetValue() == source {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("metric %s{source=%q} not found", name, source)
	return 0
}

// TestGuard_DemoAllowance: without AllowPrivate, the one address allowed
// (the demo board's) is fetched and another port of the same loopback
// address is refused, naming BIRJOB_ALLOW_PRIVATE.
func TestGuard_DemoAllowance(t *testing.T) {
	served := make(chan string, 10)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served <- r.Host
		fmt.Fprint(w, `<div class="job" data-id="1"><a href="/jobs/1">One</a></div>`)
	})
	demo := httptest.NewServer(handler)
	defer demo.Close()
	other := httptest.NewServer(handler)
	defer other.Close()
	cfg := testConfig()
	cfg.AllowPrivate = false
	cfg.AllowAddrs = []string{demo.Listener.Addr().String()}
	s := NewService(newTestDB(t), cfg, testLogger(t))

	src := boardSource(demo.URL + "/")
	src.RespectRobots = false
	if p := s.Preview(context.Background(), src); p.Found != 1 {
		t.Fatalf("demo board: %+v", p)
	}
	<-served
	src.URL = other.URL + "/"
	p := s.Preview(context.Background(), src)
	if p.Found != 0 || !strings.Contains(strings.Join(p.Errors, " "), "BIRJOB_ALLOW_PRIVATE") {
		t.Fatalf("another loopback port: %+v", p)
	}
	select {
	case h := <-served:
		t.Fatalf("%s was reached", h)
	default:
	}
}
