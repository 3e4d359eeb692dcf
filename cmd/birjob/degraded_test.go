package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/birjob/birjob/config"
	"github.com/birjob/birjob/internal/pgembed"
)

// TestDegraded_DatabaseDown stops the PostgreSQL cluster under a running
// node: the page still renders (for a signed-in browser too), the API
// answers 503 with Retry-After and a message instead of 500 (and not 401,
// which would sign the page out), a stream opened before stays open, and
// once the cluster is back on the same port everything works again
// without a restart, sign-in and the open stream included.
func TestDegraded_DatabaseDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster; skipped with -short")
	}
	base, err := os.MkdirTemp("", "birjob-degraded-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(base, 0o755) // the server's account must reach it
	t.Cleanup(func() { os.RemoveAll(base) })
	dir := filepath.Join(base, "pg")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := pgembed.Start(ctx, pgembed.Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() { pg.Stop() })

	cfg := config.Default()
	cfg.DatabaseURL = pg.URL()
	cfg.Demo = config.DemoOff
	cfg.AdminEmail, cfg.AdminPassword = "admin@example.com", "admin-password"
	cfg.Node = "test"
	cfg.ShutdownTimeout = 10 * time.Second
	a, _ := startApp(t, cfg)

	jar, _ := cookiejar.New(nil)
	ann := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	post(t, ann, a.URL()+"/api/signup", `{"email":"ann@example.com","password":"password-1"}`, 201)
	post(t, ann, a.URL()+"/api/alerts", `{"name":"go","query":"golang"}`, 201)
	ajar, _ := cookiejar.New(nil)
	admin := &http.Client{Jar: ajar, Timeout: 30 * time.Second}
	post(t, admin, a.URL()+"/api/login", `{"email":"admin@example.com","password":"admin-password"}`, 200)
	_, frames := openSSE(t, a.URL()+"/api/events/jobs")
	waitFrame(t, frames, 10*time.Second, "connected event", func(f sseFrame) bool { return f.event == "connected" })

	if err := pg.Stop(); err != nil {
		t.Fatalf("stop cluster: %v", err)
	}

	get := func(c *http.Client, path string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(a.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, c := range []*http.Client{ann, http.DefaultClient} {
		if resp, body := get(c, "/"); resp.StatusCode != 200 || !strings.Contains(body, "<html") {
			t.Errorf("GET / with the database down: %d %.200s", resp.StatusCode, body)
		}
	}
	unavailable := func(c *http.Client, method, path, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, a.URL()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "try again") {
			t.Errorf("%s %s with the database down: %d Retry-After=%q %s; want 503 with Retry-After and a message",
				method, path, resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
	}
	unavailable(ann, "GET", "/api/alerts", "")
	unavailable(ann, "GET", "/api/me", "")
	unavailable(ann, "POST", "/api/alerts", `{"name":"rust","query":"rust"}`)
	unavailable(http.DefaultClient, "GET", "/api/jobs", "")
	unavailable(http.DefaultClient, "POST", "/api/login", `{"email":"ann@example.com","password":"password-1"}`)
	// The personal stream cannot tell who is asking: 503 to retry, not a
	// 401 that would sign the page out, on every transport's request.
	unavailable(ann, "GET", "/api/events/me", "")
	unavailable(ann, "GET", "/api/events?channels=jobs,me", "")
	unavailable(ann, "GET", "/api/poll/me?timeout=0", "")

	// Back on the same port: the same node serves again.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel2()
	pg2, err := pgembed.Start(ctx2, pgembed.Options{Dir: dir, Fast: true, Port: pg.Port()})
	if err != nil {
		t.Fatalf("restart cluster: %v", err)
	}
	t.Cleanup(func() { pg2.Stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, body := get(ann, "/api/alerts")
		if resp.StatusCode == 200 && strings.Contains(body, `"golang"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /api/alerts 30 s after the database came back: %d %s", resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond) // polling the condition, with a deadline
	}
	post(t, ann, a.URL()+"/api/alerts", `{"name":"rust","query":"rust"}`, 201)
	// Sign-in (whose limits are counted in the database) works again too.
	post(t, http.DefaultClient, a.URL()+"/api/login", `{"email":"ann@example.com","password":"password-1"}`, 200)
	post(t, admin, a.URL()+"/api/jobs", `{"title":"Golang developer after the outage","url":"https://example.com/jobs/after"}`, 201)
	waitFrame(t, frames, 30*time.Second, "new-job on the stream opened before the outage", func(f sseFrame) bool {
		return f.event == "new-job" && strings.Contains(f.data, "after the outage")
	})
}
