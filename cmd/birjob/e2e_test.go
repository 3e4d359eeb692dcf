package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/birjob/birjob/config"
	"github.com/birjob/birjob/internal/browsertest"
	"github.com/birjob/birjob/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Shutdown()
	pgtest.Shutdown()
	os.Exit(code)
}

// startApp runs a whole birjob node on a free port and stops it when the
// test ends. It returns the app and a function that stops it and waits.
func startApp(t *testing.T, cfg config.Config) (*App, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, cfg, log, Options{HashCost: bcrypt.MinCost, Listener: ln})
	if err != nil {
		cancel()
		t.Fatalf("new app: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-a.Ready():
	case err := <-done:
		t.Fatalf("app stopped at start: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("app not ready within a minute")
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			return errors.New("app did not stop within 60s")
		}
	}
	t.Cleanup(func() { stop() })
	return a, stop
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// sseFrame is one event read from an SSE stream.
type sseFrame struct {
	id, event, data string
}

// readSSE reads frames from an open stream into a channel until it ends.
func readSSE(body io.Reader) <-chan sseFrame {
	out := make(chan sseFrame, 1024)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var f sseFrame
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if f.event != "" || f.data != "" {
					out <- f
				}
				f = sseFrame{}
			case strings.HasPrefix(line, "id:"):
				f.id = strings.TrimSpace(line[3:])
			case strings.HasPrefix(line, "event:"):
				f.event = strings.TrimSpace(line[6:])
			case strings.HasPrefix(line, "data:"):
				f.data += strings.TrimPrefix(line[5:], " ")
			}
		}
	}()
	return out
}

// waitFrame returns the first frame for which ok is true.
func waitFrame(t *testing.T, frames <-chan sseFrame, d time.Duration, what string, ok func(sseFrame) bool) sseFrame {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case f, open := <-frames:
			if !open {
				t.Fatalf("stream ended while waiting for %s", what)
			}
			if ok(f) {
				return f
			}
		case <-deadline:
			t.Fatalf("no %s within %s", what, d)
		}
	}
}

func openSSE(t *testing.T, url string) (*http.Response, <-chan sseFrame) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("GET %s: %s %s", url, resp.Status, resp.Header.Get("Content-Type"))
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, readSSE(resp.Body)
}

func testConfig(t *testing.T) config.Config {
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewURL(t)
	cfg.Demo = config.DemoOn
	cfg.AdminEmail, cfg.AdminPassword = "admin@example.com", "admin-password"
	cfg.Node = "test"
	cfg.ShutdownTimeout = 10 * time.Second
	return cfg
}

// TestE2E_DemoBoardToSSE is the walking skeleton end to end: the demo
// board's jobs are scraped on schedule, matched, written as events and
// reach an SSE client; an admin's POST /api/jobs reaches it at once; a stop
// ends the stream.
func TestE2E_DemoBoardToSSE(t *testing.T) {
	a, stop := startApp(t, testConfig(t))
	_, frames := openSSE(t, a.URL()+"/api/events/jobs")
	waitFrame(t, frames, 10*time.Second, "connected event", func(f sseFrame) bool { return f.event == "connected" })

	// The demo source runs every 10 s and finds the board's backlog.
	first := waitFrame(t, frames, 60*time.Second, "new-job from the demo board", func(f sseFrame) bool {
		return f.event == "new-job" && strings.Contains(f.data, `"source":"demo-board"`)
	})
	if first.id == "" {
		t.Fatal("new-job without an id")
	}
	var job map[string]any
	if err := json.Unmarshal([]byte(first.data), &job); err != nil {
		t.Fatalf("event data is not JSON: %v", err)
	}
	for _, k := range []string{"id", "title", "company", "location", "url", "source"} {
		if _, ok := job[k]; !ok {
			t.Errorf("event data lacks %q: %s", k, first.data)
		}
	}

	// An admin ingests a job by hand: it is on the stream at once.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	post(t, c, a.URL()+"/api/login", `{"email":"admin@example.com","password":"admin-password"}`, 200)
	post(t, c, a.URL()+"/api/jobs", `{"title":"Manual Go role e2e","url":"https://example.com/jobs/e2e-1","location":"Bakı"}`, 201)
	waitFrame(t, frames, 15*time.Second, "the admin's job", func(f sseFrame) bool {
		return f.event == "new-job" && strings.Contains(f.data, "Manual Go role e2e")
	})

	// Resume: a client that saw the first event gets everything after it.
	_, resumed := openSSE(t, a.URL()+"/api/events/jobs?lastEventId="+first.id)
	waitFrame(t, resumed, 15*time.Second, "replayed admin job", func(f sseFrame) bool {
		return f.event == "new-job" && strings.Contains(f.data, "Manual Go role e2e")
	})

	// The job list shows demo jobs.
	resp, err := http.Get(a.URL() + "/api/jobs")
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Jobs []map[string]any }
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	demoJobs := 0
	for _, j := range list.Jobs {
		if j["source"] == "demo-board" {
			demoJobs++
		}
	}
	if demoJobs == 0 {
		t.Fatalf("job list has no demo-board job: %v", list.Jobs)
	}

	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for range frames { // the stream must end, not hang
	}
}

func post(t *testing.T, c *http.Client, url, body string, want int) map[string]any {
	t.Helper()
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &out)
	if resp.StatusCode != want {
		t.Fatalf("POST %s = %d %s, want %d", url, resp.StatusCode, raw, want)
	}
	return out
}

// TestE2E_EmbeddedDefault runs birjob with no DATABASE_URL twice on one data
// folder: the first run creates the cluster, the second reuses its data,
// and each stop takes the server down.
func TestE2E_EmbeddedDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL clusters; skipped with -short")
	}
	dir, err := os.MkdirTemp("", "birjob-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Demo = config.DemoOff
	cfg.Scrape = false
	cfg.AdminEmail, cfg.AdminPassword = "admin@example.com", "first-password"

	a, stop := startApp(t, cfg)
	pgPID := a.cluster.PID()
	resp, err := http.Get(a.URL() + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if processAlive(pgPID) {
		t.Fatalf("embedded postgres %d still runs after birjob stopped", pgPID)
	}

	cfg.AdminEmail, cfg.AdminPassword = "", ""
	a2, _ := startApp(t, cfg)
	var n int
	if err := a2.Pool().QueryRow(context.Background(), `SELECT count(*) FROM users WHERE email = 'admin@example.com'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("second run does not see the first run's admin (%d rows): data not reused", n)
	}
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(sigZero) == nil
}

// TestE2E_AlertReachesOwnerOnly: a saved alert matches an ingested job and
// the owner's `me` stream carries it with the alert's id; another user's
// stream does not; anonymous `me` is 401.
func TestE2E_AlertReachesOwnerOnly(t *testing.T) {
	cfg := testConfig(t)
	cfg.Demo = config.DemoOff
	a, _ := startApp(t, cfg)

	resp, err := http.Get(a.URL() + "/api/events/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous me: %d, want 401", resp.StatusCode)
	}

	user := func(email string) (*http.Client, string) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		out := post(t, c, a.URL()+"/api/signup", `{"email":"`+email+`","password":"password-1"}`, 201)
		if _, ok := out["token"]; ok {
			t.Fatalf("signup answered the session token in its body: %v", out)
		}
		return c, post(t, c, a.URL()+"/api/tokens", `{"name":"test"}`, 201)["token"].(string)
	}
	ann, annTok := user("ann@example.com")
	bob, bobTok := user("bob@example.com")
	alert := post(t, ann, a.URL()+"/api/alerts", `{"name":"go baku","query":"golang OR \"go developer\"","location":"Baku"}`, 201)
	alertID := int64(alert["id"].(float64))

	stream := func(tok string) <-chan sseFrame {
		req, _ := http.NewRequest("GET", a.URL()+"/api/events/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("me stream: %v %v", resp, err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		f := readSSE(resp.Body)
		waitFrame(t, f, 10*time.Second, "connected", func(f sseFrame) bool { return f.event == "connected" })
		return f
	}
	annFrames, bobFrames := stream(annTok), stream(bobTok)

	jar, _ := cookiejar.New(nil)
	admin := &http.Client{Jar: jar}
	post(t, admin, a.URL()+"/api/login", `{"email":"admin@example.com","password":"admin-password"}`, 200)
	post(t, admin, a.URL()+"/api/jobs", `{"title":"Muhasib","url":"https://example.com/jobs/acc","location":"Bakı"}`, 201)
	post(t, admin, a.URL()+"/api/jobs", `{"title":"Senior Go Developer","url":"https://example.com/jobs/go","location":"Bakı, Azərbaycan","company":"Acme"}`, 201)

	f := waitFrame(t, annFrames, 15*time.Second, "ann's match", func(f sseFrame) bool { return f.event == "new-job" })
	var data struct {
		Title  string  `json:"title"`
		Alerts []int64 `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(f.data), &data); err != nil {
		t.Fatal(err)
	}
	if data.Title != "Senior Go Developer" || len(data.Alerts) != 1 || data.Alerts[0] != alertID {
		t.Fatalf("ann got %s, want the Go job with alerts [%d]", f.data, alertID)
	}
	// Bob's stream is in commit order: once his own later match arrives,
	// anything of Ann's would have arrived before it.
	post(t, bob, a.URL()+"/api/alerts", `{"name":"sentinel","query":"sentinelword"}`, 201)
	post(t, admin, a.URL()+"/api/jobs", `{"title":"Sentinelword tester","url":"https://example.com/jobs/s"}`, 201)
	waitFrame(t, bobFrames, 15*time.Second, "bob's own match", func(f sseFrame) bool {
		if f.event == "new-job" && !strings.Contains(f.data, "Sentinelword") {
			t.Fatalf("bob received a job that is not his: %s", f.data)
		}
		return f.event == "new-job"
	})
}
