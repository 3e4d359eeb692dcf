package api_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/scraper"
	"github.com/birjob/birjob/storage"
)

// TestAPI_SourceHealth: GET /api/sources and /api/sources/{id} carry the
// source's health; failing runs pause it with the reason, and enabling it
// (PUT enabled) resumes it.
func TestAPI_SourceHealth(t *testing.T) {
	db := pgtest.New(t)
	cfg := scraper.Config{AllowPrivate: true, Node: "test", DomainInterval: -1, PauseAfterFailures: 2,
		BackoffBase: time.Millisecond, BackoffMax: time.Millisecond, RunTimeout: 30 * time.Second}
	sc := scraper.NewService(db, cfg, slog.New(slog.DiscardHandler))
	mux := http.NewServeMux()
	api.New(storage.New(db), nil).WithScraper(sc).Routes(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UserID: 1, Admin: true})))
	}))
	defer srv.Close()
	board := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
	}))
	defer board.Close()

	var created struct{ ID int64 }
	if code := call(t, "POST", srv.URL+"/api/sources", map[string]any{
		"name": "Broken", "kind": "rss", "url": board.URL + "/feed", "respectRobots": false,
	}, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	type view struct {
		ID      int64
		Enabled bool
		Health  *struct {
			State         string
			FailureStreak int
			Paused        bool
			PausedReason  string
			LastError     string
		}
	}
	get := func() view {
		var v view
		if code := call(t, "GET", srv.URL+"/api/sources/"+itoa(created.ID), nil, &v); code != 200 || v.Health == nil {
			t.Fatalf("get: %d %+v", code, v)
		}
		return v
	}
	if v := get(); v.Health.State != "new" {
		t.Errorf("before any run: %+v", v.Health)
	}
	for range 2 {
		var run storage.Run
		if code := call(t, "POST", srv.URL+"/api/sources/"+itoa(created.ID)+"/run?wait=1", nil, &run); code != 200 || run.Status != "failed" {
			t.Fatalf("run: %d %+v", code, run)
		}
	}
	v := get()
	if v.Enabled || v.Health.State != "paused" || !v.Health.Paused || v.Health.FailureStreak != 2 ||
		!strings.Contains(v.Health.PausedReason, "2 failed runs in a row") || !strings.Contains(v.Health.LastError, "HTTP 500") {
		t.Fatalf("after 2 failures: enabled %v %+v", v.Enabled, v.Health)
	}
	var list struct{ Sources []view }
	if call(t, "GET", srv.URL+"/api/sources", nil, &list); len(list.Sources) != 1 || list.Sources[0].Health == nil || !list.Sources[0].Health.Paused {
		t.Errorf("list: %+v", list)
	}
	if code := call(t, "PUT", srv.URL+"/api/sources/"+itoa(created.ID), map[string]any{"enabled": true}, nil); code != 200 {
		t.Fatalf("enable: %d", code)
	}
	if v := get(); !v.Enabled || v.Health.Paused || v.Health.PausedReason != "" || v.Health.FailureStreak != 0 || v.Health.State == "paused" {
		t.Errorf("after enabling: enabled %v %+v", v.Enabled, v.Health)
	}
}

// TestAPI_SourceHealthResumesAt: a board answering 429 with Retry-After
// puts the source in "backoff" and the API says when its host resumes
// (health.resumesAt, about the asked hour ahead) and why (health.host).
func TestAPI_SourceHealthResumesAt(t *testing.T) {
	db := pgtest.New(t)
	cfg := scraper.Config{AllowPrivate: true, Node: "test", DomainInterval: -1,
		BackoffBase: time.Millisecond, BackoffMax: time.Millisecond, RunTimeout: 30 * time.Second}
	sc := scraper.NewService(db, cfg, slog.New(slog.DiscardHandler))
	mux := http.NewServeMux()
	api.New(storage.New(db), nil).WithScraper(sc).Routes(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UserID: 1, Admin: true})))
	}))
	defer srv.Close()
	board := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	}))
	defer board.Close()

	var created struct{ ID int64 }
	if code := call(t, "POST", srv.URL+"/api/sources", map[string]any{
		"name": "Busy", "kind": "rss", "url": board.URL + "/feed", "respectRobots": false,
	}, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	var run storage.Run
	if code := call(t, "POST", srv.URL+"/api/sources/"+itoa(created.ID)+"/run?wait=1", nil, &run); code != 200 || run.Status != "failed" {
		t.Fatalf("run: %d %+v", code, run)
	}
	var v struct {
		Health *struct {
			State     string
			ResumesAt *time.Time
			Host      *struct{ Host, Reason string }
		}
	}
	if code := call(t, "GET", srv.URL+"/api/sources/"+itoa(created.ID), nil, &v); code != 200 || v.Health == nil {
		t.Fatalf("get: %d %+v", code, v)
	}
	h := v.Health
	if h.State != "backoff" || h.ResumesAt == nil {
		t.Fatalf("health after a 429 with Retry-After 3600: %+v", h)
	}
	if left := time.Until(*h.ResumesAt); left < 59*time.Minute || left > 61*time.Minute {
		t.Errorf("resumesAt is %s ahead, want about an hour", left)
	}
	if h.Host == nil || h.Host.Host == "" || !strings.Contains(h.Host.Reason, "429") {
		t.Errorf("host = %+v, want the host and a reason naming the 429", h.Host)
	}
}
