package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/chromedp/chromedp"

	"github.com/birjob/birjob/config"
	"github.com/birjob/birjob/internal/browsertest"
	"github.com/birjob/birjob/internal/pgtest"
)

// TestBrowser_PageEndToEnd drives the real page in headless Chromium
// against a whole birjob node: sign up in the page, save an alert in the
// page, then a job an admin ingests reaches the open page live (the job
// list over "jobs", the toast and the alert's matches over "me") on each
// transport.
func TestBrowser_PageEndToEnd(t *testing.T) {
	cfg := testConfig(t)
	cfg.Demo = config.DemoOff
	a, _ := startApp(t, cfg)
	base := a.URL()
	ctx := browsertest.New(t)

	jar, _ := cookiejar.New(nil)
	admin := &http.Client{Jar: jar}
	post(t, admin, base+"/api/login", `{"email":"admin@example.com","password":"admin-password"}`, 200)
	ingest := func(title string) string {
		t.Helper()
		out := post(t, admin, base+"/api/jobs", fmt.Sprintf(`{"title":%q,"url":"https://jobs.example.com/%d","company":"Acme","location":"Baku"}`, title, time.Now().UnixNano()), 201)
		return fmt.Sprint(out["id"])
	}

	// Sign up and create an alert through the page itself.
	browsertest.Do(t, ctx,
		chromedp.Navigate(base+"/"),
		chromedp.Click(chromedp.CSS("#signin-open")),
		chromedp.SendKeys(chromedp.CSS("#auth-email"), "ann@example.com"),
		chromedp.SendKeys(chromedp.CSS("#auth-password"), "password-123"),
		chromedp.Click(chromedp.CSS("#auth-signup")),
	)
	browsertest.WaitVisible(t, ctx, "#who")
	if got := browsertest.Text(t, ctx, "#who"); got != "ann@example.com" {
		t.Fatalf("signed in as %q", got)
	}
	browsertest.Do(t, ctx,
		chromedp.Navigate(base+"/#alerts"),
		chromedp.Click(chromedp.CSS("#alert-new")),
		chromedp.SendKeys(chromedp.CSS("#alert-form input[name=name]"), "Go in Baku"),
		chromedp.SendKeys(chromedp.CSS("#alert-form input[name=query]"), "golang"),
		chromedp.Click(chromedp.CSS("#alert-form button[type=submit]")),
	)
	browsertest.WaitVisible(t, ctx, "#alerts-list li.alert")

	for _, tr := range []struct{ param, transport string }{{"", "sse"}, {"?transport=ws", "ws"}, {"?transport=poll", "poll"}} {
		t.Run(tr.transport, func(t *testing.T) {
			browsertest.Do(t, ctx, chromedp.Navigate(base+"/"+tr.param+"#alerts"))
			browsertest.WaitVisible(t, ctx, "#alerts-list li.alert")
			live := fmt.Sprintf(`(c => c.dataset.state === "live" && c.dataset.transport === %q && c.dataset.meState === "live")(document.querySelector("#conn"))`, tr.transport)
			browsertest.WaitTrue(t, ctx, live)

			title := "Senior Golang developer over " + tr.transport
			id := ingest(title)
			browsertest.WaitVisible(t, ctx, fmt.Sprintf(`#alerts-list .matches li[data-id="%s"]`, id))
			browsertest.WaitTrue(t, ctx, fmt.Sprintf(`[...document.querySelectorAll("#toasts .toast.match")].some(e => e.textContent.includes(%q))`, title))
			ingest("Accountant over " + tr.transport) // matches no alert: list only

			browsertest.Do(t, ctx, chromedp.Navigate(base+"/"+tr.param+"#jobs"))
			browsertest.WaitVisible(t, ctx, fmt.Sprintf(`#jobs li[data-id="%s"]`, id))
			browsertest.WaitTrue(t, ctx, live)
			// Live, without reload.
			later := ingest("Platform engineer over " + tr.transport)
			browsertest.WaitVisible(t, ctx, fmt.Sprintf(`#jobs li[data-id="%s"]`, later))
			if first := browsertest.Eval[string](t, ctx, `document.querySelector("#jobs > li").dataset.id`); first != later {
				t.Errorf("first row is job %s, want the newest, %s", first, later)
			}
			if got := browsertest.Text(t, ctx, "#conn"); !strings.Contains(got, "live") {
				t.Errorf("pill says %q", got)
			}
		})
	}
}

// TestBrowser_AdminPages drives the admin tab against a real node: stats,
// a new RSS source previewed from the unsaved form, then saved; and a new
// public feed.
func TestBrowser_AdminPages(t *testing.T) {
	cfg := testConfig(t)
	cfg.Demo = config.DemoOff
	cfg.AllowPrivate = "true" // the test's RSS board is on loopback
	a, _ := startApp(t, cfg)
	base := a.URL()
	rss := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/feed.xml" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Board</title>
<item><title>Go developer &lt;img src=x onerror=alert(1)&gt;</title><link>https://jobs.example.com/rss/1</link><guid>rss-1</guid></item>
<item><title>Data analyst</title><link>https://jobs.example.com/rss/2</link><guid>rss-2</guid></item>
</channel></rss>`)
	}))
	t.Cleanup(rss.Close)
	ctx := browsertest.New(t)

	browsertest.Do(t, ctx,
		chromedp.Navigate(base+"/"),
		chromedp.Click(chromedp.CSS("#signin-open")),
		chromedp.SendKeys(chromedp.CSS("#auth-email"), "admin@example.com"),
		chromedp.SendKeys(chromedp.CSS("#auth-password"), "admin-password"),
		chromedp.Click(chromedp.CSS("#auth-login")),
	)
	browsertest.WaitVisible(t, ctx, `#nav a[data-tab="admin"]`)
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/#admin"))
	browsertest.WaitVisible(t, ctx, "#stats .stat")

	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#source-new")),
		chromedp.SendKeys(chromedp.CSS("#source-form input[name=name]"), "rss board"),
		chromedp.SetValue(chromedp.CSS("#source-form select[name=kind]"), "rss"),
		chromedp.SendKeys(chromedp.CSS("#source-form input[name=url]"), rss.URL+"/feed.xml"),
	)
	browsertest.Do(t, ctx, chromedp.Click(chromedp.Search(`//button[text()="Preview these settings"]`)))
	browsertest.WaitVisible(t, ctx, "#source-output .jobs li")
	if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("#source-output .jobs li").length`); n != 2 {
		t.Errorf("preview shows %d jobs, want 2; output: %s", n, browsertest.Text(t, ctx, "#source-output"))
	}
	if got := browsertest.Text(t, ctx, "#source-output"); strings.Contains(got, "null") {
		t.Errorf("preview output shows %q", got)
	}
	if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("#source-output img").length`); n != 0 {
		t.Errorf("a scraped title made %d img elements", n)
	}
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#source-form button[type=submit]`)))
	browsertest.WaitTrue(t, ctx, `[...document.querySelectorAll("#sources-list tr")].some(tr => tr.textContent.includes("rss board"))`)

	// A click in the page (not at coordinates): the "Source created." toast
	// may still cover the button's place in the corner.
	browsertest.Eval[bool](t, ctx, `(document.querySelector("#feed-new").click(), true)`)
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#feed-form input[name=name]"), "job-alerts-baku"),
		chromedp.SendKeys(chromedp.CSS("#feed-form input[name=title]"), "Jobs in Baku"),
		chromedp.SendKeys(chromedp.CSS("#feed-form input[name=location]"), "Baku"),
		chromedp.Click(chromedp.CSS("#feed-form button[type=submit]")),
	)
	browsertest.WaitTrue(t, ctx, `[...document.querySelectorAll("#feeds-list li")].some(li => li.textContent.includes("Jobs in Baku"))`)
	if got := browsertest.Text(t, ctx, "#sources-error"); got != "" {
		t.Errorf("sources error: %q", got)
	}
}

// BenchmarkBrowser_IngestToDOM measures how long a job an admin ingests
// (POST /api/jobs) takes to appear in the job list of an open page, per
// transport: scraper-side insert, matcher, event log, hub, transport and
// the page's DOM update. The page stamps each row with Date.now() when a
// MutationObserver sees it, so the browser's polling does not count.
//
//	go test ./cmd/birjob -run '^$' -bench Browser_IngestToDOM -benchtime 30x
func BenchmarkBrowser_IngestToDOM(b *testing.B) {
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewURL(b)
	cfg.Demo = config.DemoOff
	cfg.AdminEmail, cfg.AdminPassword = "admin@example.com", "admin-password"
	cfg.Node = "bench"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{HashCost: bcrypt.MinCost, Listener: ln})
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-a.Ready():
	case err := <-done:
		b.Fatalf("app stopped: %v", err)
	}
	base := a.URL()
	jar, _ := cookiejar.New(nil)
	admin := &http.Client{Jar: jar}
	res, err := admin.Post(base+"/api/login", "application/json", strings.NewReader(`{"email":"admin@example.com","password":"admin-password"}`))
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("login: %v %v", res, err)
	}
	res.Body.Close()
	page := browsertest.New(b)

	for _, tr := range []string{"sse", "ws", "poll"} {
		b.Run(tr, func(b *testing.B) {
			browsertest.Do(b, page, chromedp.Navigate(base+"/?transport="+tr))
			browsertest.WaitTrue(b, page, fmt.Sprintf(`(c => c.dataset.state === "live" && c.dataset.transport === %q)(document.querySelector("#conn"))`, tr))
			browsertest.Eval[bool](b, page, `(() => {
				window.__seen = {};
				new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes) if (n.dataset) window.__seen[n.dataset.id] = Date.now(); })
					.observe(document.getElementById("jobs"), { childList: true });
				return true;
			})()`)
			var lat []float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				res, err := admin.Post(base+"/api/jobs", "application/json", strings.NewReader(
					fmt.Sprintf(`{"title":"Bench job %s %d","url":"https://jobs.example.com/b/%d"}`, tr, i, start.UnixNano())))
				if err != nil || res.StatusCode != 201 {
					b.Fatalf("ingest: %v %v", res, err)
				}
				var out struct{ ID int64 }
				_ = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				seen := browsertest.Run(b, page, chromedp.Evaluate[float64](fmt.Sprintf(
					`new Promise(ok => { const f = () => window.__seen[%q] ? ok(window.__seen[%q]) : setTimeout(f, 2); f(); })`,
					fmt.Sprint(out.ID), fmt.Sprint(out.ID)), chromedp.EvalAwaitPromise))
				lat = append(lat, seen-float64(start.UnixMilli()))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(lat[len(lat)/2], "p50-ms")
			b.ReportMetric(lat[len(lat)*95/100], "p95-ms")
		})
	}
}
