package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
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
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/#admin/stats"))
	browsertest.WaitVisible(t, ctx, "#stats-charts figure svg")
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/#admin/sources"))

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
	browsertest.Do(t, ctx, chromedp.Navigate(base+"/#admin/feeds"))
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

// pageUser is a browser signed in to a real node, with tabs open on it and
// an admin client beside it.
type pageUser struct {
	t     *testing.T
	base  string
	admin *http.Client
	ctx   context.Context // the browser context's first tab, left blank so that any app tab can close
	tabs  []context.Context
}

// streamTestConfig is a node without the demo board whose keepalive is
// short, so that it soon notices a stream a closed or reloaded tab left
// (the tests count the node's streams).
func streamTestConfig(t *testing.T) config.Config {
	cfg := testConfig(t)
	cfg.Demo = config.DemoOff
	cfg.Keepalive = 500 * time.Millisecond
	return cfg
}

// newPageUser signs an admin in over HTTP,
// and signs up "ann" in a tab of a fresh browser with an alert for
// "golang"; that tab is tabs[0], reloaded so it lists the alert.
func newPageUser(t *testing.T, base string) *pageUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u := &pageUser{t: t, base: base, admin: &http.Client{Jar: jar}}
	post(t, u.admin, base+"/api/login", `{"email":"admin@example.com","password":"admin-password"}`, 200)
	u.ctx = browsertest.New(t)
	first := u.open("/")
	browsertest.Do(t, first,
		chromedp.Click(chromedp.CSS("#signin-open")),
		chromedp.SendKeys(chromedp.CSS("#auth-email"), "ann@example.com"),
		chromedp.SendKeys(chromedp.CSS("#auth-password"), "password-123"),
		chromedp.Click(chromedp.CSS("#auth-signup")),
	)
	browsertest.WaitVisible(t, first, "#who")
	status := browsertest.Run(t, first, chromedp.Evaluate[int](`fetch("/api/alerts", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({name: "Go anywhere", query: "golang"})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if status != 201 {
		t.Fatalf("create alert: %d", status)
	}
	// (A new #fragment alone does not reload the page.)
	browsertest.Do(t, first, chromedp.Navigate(base+"/#alerts"), chromedp.Reload())
	browsertest.WaitVisible(t, first, "#alerts-list li.alert")
	return u
}

// open opens another tab of the browser on path.
func (u *pageUser) open(path string) context.Context {
	u.t.Helper()
	tab := browsertest.NewTab(u.t, u.ctx)
	browsertest.Do(u.t, tab, chromedp.Navigate(u.base+path))
	u.tabs = append(u.tabs, tab)
	return tab
}

// ingest posts a job as the admin and returns its id.
func (u *pageUser) ingest(title string) string {
	u.t.Helper()
	out := post(u.t, u.admin, u.base+"/api/jobs", fmt.Sprintf(`{"title":%q,"url":"https://jobs.example.com/%d","company":"Acme","location":"Baku"}`, title, time.Now().UnixNano()), 201)
	return fmt.Sprint(out["id"])
}

// connections returns the node's open streams per transport.
func (u *pageUser) connections() map[string]int {
	u.t.Helper()
	res, err := u.admin.Get(u.base + "/api/admin/stats")
	if err != nil {
		u.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Notify struct {
			Connections map[string]int `json:"connections"`
		} `json:"notify"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		u.t.Fatalf("GET /api/admin/stats: %d %v", res.StatusCode, err)
	}
	return out.Notify.Connections
}

// waitConnections waits until the node counts exactly want streams per
// transport (it may take a moment to notice a stream that a tab closed).
func (u *pageUser) waitConnections(want map[string]int) {
	u.t.Helper()
	deadline := time.Now().Add(browsertest.DefaultTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		got := u.connections()
		ok := true
		for _, tr := range []string{"sse", "ws", "poll"} {
			ok = ok && got[tr] == want[tr]
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("node counts streams %v, want %v", got, want)
		}
		<-tick.C
	}
}

// liveWithAlerts is a JS condition: the pill says live, with "me" on the stream.
const liveWithAlerts = `(c => c.dataset.state === "live" && c.dataset.meState === "live")(document.querySelector("#conn"))`

// watchTab makes the page record when each job row and each match row
// under an alert appears: window.__rows[id] and window.__matches[text]
// list the times (matches are counted in the alerts' lists: a burst of
// matches is one toast per alert); window.__toasts lists the match toasts.
func watchTab(t *testing.T, tab context.Context) {
	t.Helper()
	browsertest.Eval[bool](t, tab, `(() => {
		window.__rows = {}; window.__matches = {};
		const add = (m, k) => (m[k] ??= []).push(Date.now());
		new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes) if (n.dataset?.id) add(window.__rows, n.dataset.id); })
			.observe(document.getElementById("jobs"), { childList: true });
		new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes) if (n.dataset?.id && n.parentElement?.classList.contains("matches")) add(window.__matches, n.textContent); })
			.observe(document.getElementById("alerts-list"), { childList: true, subtree: true });
		window.__toasts = [];
		new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes) if (n.classList?.contains("match")) window.__toasts.push(n.textContent); })
			.observe(document.getElementById("toasts"), { childList: true });
		return true;
	})()`)
}

// logToasts makes the page of tab keep the text of every toast it shows in
// window.__toastLog. A toast goes after 8 s, and a test that checks its
// tabs one after another may reach the last tab later than that; the log
// tells that the toast was shown, however long ago.
func logToasts(t *testing.T, tab context.Context) {
	t.Helper()
	browsertest.Eval[bool](t, tab, `(() => {
		window.__toastLog = [];
		new MutationObserver(ms => { for (const m of ms) for (const n of m.addedNodes) if (n.classList?.contains("toast")) window.__toastLog.push(n.textContent); })
			.observe(document.getElementById("toasts"), { childList: true });
		return true;
	})()`)
}

// toastShown is a JS condition: a toast saying text is on screen, or was
// (logToasts).
func toastShown(text string) string {
	return fmt.Sprintf(`((window.__toastLog || []).some(s => s.includes(%q)) || document.querySelector("#toasts").textContent.includes(%q))`, text, text)
}

// liveWithin is issue 11's bar: from an admin's POST /api/jobs to the
// row in every tab (scraper-side insert, matcher, event log, hub, stream,
// the holding tab and its BroadcastChannel to the others). Typically
// 0.1–0.4 s; up to 1.7 s was measured with -race on two cores at a load
// average of 20, far beyond a CI run's. The per-tab times are logged.
const liveWithin = 2 * time.Second

// TestBrowser_FourTabsOneStream: four signed-in tabs of one browser each
// show a new job and a personal match within liveWithin, while the node counts
// one stream for the browser: one tab holds it, the others follow.
func TestBrowser_FourTabsOneStream(t *testing.T) {
	a, _ := startApp(t, streamTestConfig(t))
	u := newPageUser(t, a.URL())
	for range 3 {
		u.open("/#alerts")
	}
	holders := 0
	for i, tab := range u.tabs {
		browsertest.WaitVisible(t, tab, "#alerts-list li.alert")
		browsertest.WaitTrue(t, tab, liveWithAlerts)
		if got := browsertest.Text(t, tab, "#conn"); !strings.Contains(got, "live") || !strings.Contains(got, "SSE") || !strings.Contains(got, "alerts on") {
			t.Errorf("tab %d: pill %q, want live, SSE, alerts on", i, got)
		}
		if browsertest.Eval[string](t, tab, `document.querySelector("#conn").dataset.holder`) == "here" {
			holders++
		}
		watchTab(t, tab)
	}
	if holders != 1 {
		t.Errorf("%d tabs hold a stream, want 1", holders)
	}
	u.waitConnections(map[string]int{"sse": 1})

	start := time.Now().UnixMilli()
	id := u.ingest("Senior Golang developer")
	title := "Senior Golang developer"
	for i, tab := range u.tabs {
		browsertest.WaitTrue(t, tab, fmt.Sprintf(`window.__rows[%q] && Object.keys(window.__matches).some(k => k.includes(%q))`, id, title))
		row := browsertest.Eval[[]int64](t, tab, fmt.Sprintf(`window.__rows[%q]`, id))
		match := browsertest.Eval[[]int64](t, tab, fmt.Sprintf(`Object.entries(window.__matches).filter(([k]) => k.includes(%q)).flatMap(([, v]) => v)`, title))
		if len(row) != 1 || len(match) != 1 {
			t.Fatalf("tab %d: job row added %d times, match shown %d times; want once each", i, len(row), len(match))
		}
		t.Logf("tab %d: the job showed after %d ms, the match after %d ms", i, row[0]-start, match[0]-start)
		if d := row[0] - start; d > liveWithin.Milliseconds() {
			t.Errorf("tab %d: the job showed after %d ms, want within %s", i, d, liveWithin)
		}
		if d := match[0] - start; d > liveWithin.Milliseconds() {
			t.Errorf("tab %d: the match showed after %d ms, want within %s", i, d, liveWithin)
		}
		browsertest.WaitVisible(t, tab, fmt.Sprintf(`#alerts-list .matches li[data-id="%s"]`, id))
	}
	u.waitConnections(map[string]int{"sse": 1})
}

// TestBrowser_HandoverLosesNothing: when the tab that holds the stream
// closes, another one takes it over and resumes where it left off: jobs
// published before, during and after the handover appear exactly once in
// every remaining tab, as rows and as matches under the alert.
func TestBrowser_HandoverLosesNothing(t *testing.T) {
	a, _ := startApp(t, streamTestConfig(t))
	u := newPageUser(t, a.URL())
	u.open("/#alerts")
	u.open("/#alerts")
	for _, tab := range u.tabs {
		browsertest.WaitTrue(t, tab, liveWithAlerts)
		// A match already in a tab's snapshot is not added again:
		// ingest only once every tab has its alerts.
		browsertest.WaitVisible(t, tab, "#alerts-list li.alert")
	}
	holder := -1
	for i, tab := range u.tabs {
		if browsertest.Eval[string](t, tab, `document.querySelector("#conn").dataset.holder`) == "here" {
			holder = i
		}
	}
	if holder < 0 {
		t.Fatal("no tab holds the stream")
	}
	var rest []context.Context
	for i, tab := range u.tabs {
		if i != holder {
			rest = append(rest, tab)
			watchTab(t, tab)
		}
	}

	var ids []string
	for i := range 3 {
		ids = append(ids, u.ingest(fmt.Sprintf("Golang developer %d", i)))
	}
	published := make(chan []string)
	go func() {
		var more []string
		for i := 3; i < 9; i++ {
			out := map[string]any{}
			res, err := u.admin.Post(u.base+"/api/jobs", "application/json", strings.NewReader(
				fmt.Sprintf(`{"title":"Golang developer %d","url":"https://jobs.example.com/h/%d"}`, i, i)))
			if err == nil {
				_ = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
			}
			more = append(more, fmt.Sprint(out["id"]))
		}
		published <- more
	}()
	browsertest.Close(t, u.tabs[holder])
	ids = append(ids, <-published...)
	ids = append(ids, u.ingest("Golang developer 9"))

	for i, tab := range rest {
		browsertest.WaitTrue(t, tab, liveWithAlerts)
		for _, id := range ids { // (rows of the hidden Jobs tab)
			browsertest.WaitTrue(t, tab, fmt.Sprintf(`document.querySelector('#jobs li[data-id="%s"]')`, id))
		}
		for n := range 10 {
			title := fmt.Sprintf("Golang developer %d", n)
			browsertest.WaitTrue(t, tab, fmt.Sprintf(`Object.keys(window.__matches).some(k => k.includes(%q))`, title))
		}
		rows := browsertest.Eval[map[string][]int64](t, tab, `window.__rows`)
		for _, id := range ids {
			if len(rows[id]) != 1 {
				t.Errorf("tab %d: job %s added %d times, want once", i, id, len(rows[id]))
			}
		}
		matches := browsertest.Eval[map[string][]int64](t, tab, `window.__matches`)
		for n := range 10 {
			title := fmt.Sprintf("Golang developer %d", n)
			count := 0
			for k, v := range matches {
				if strings.Contains(k, title) { // single digits: "developer 1" is not in "developer 2"
					count += len(v)
				}
			}
			if count != 1 {
				t.Errorf("tab %d: %q added %d times under the alert, want once (all: %v)", i, title, count, matches)
			}
		}
	}
	holders := 0
	for _, tab := range rest {
		if browsertest.Eval[string](t, tab, `document.querySelector("#conn").dataset.holder`) == "here" {
			holders++
		}
	}
	if holders != 1 {
		t.Errorf("after the handover %d tabs hold a stream, want 1", holders)
	}
	u.waitConnections(map[string]int{"sse": 1})
}

// TestBrowser_LogoutSignsOutEveryTab: signing out in one tab signs every
// tab of the browser out, and no private event reaches any of them
// afterwards, while the public list stays live.
func TestBrowser_LogoutSignsOutEveryTab(t *testing.T) {
	a, _ := startApp(t, streamTestConfig(t))
	u := newPageUser(t, a.URL())
	u.open("/#alerts")
	u.open("/")
	for _, tab := range u.tabs {
		browsertest.WaitTrue(t, tab, liveWithAlerts)
		logToasts(t, tab)
	}
	browsertest.Do(t, u.tabs[1], chromedp.Click(chromedp.CSS("#signout")))
	for i, tab := range u.tabs {
		browsertest.WaitVisible(t, tab, "#signin-open")
		browsertest.WaitTrue(t, tab, `(c => c.dataset.state === "live" && !c.dataset.meState)(document.querySelector("#conn"))`)
		if i != 1 { // the others say why, and it is not a surprise ended session
			browsertest.WaitTrue(t, tab, toastShown("You signed out in another tab"))
			if got := browsertest.Eval[[]string](t, tab, `window.__toastLog`); strings.Contains(strings.Join(got, "\n"), "session has ended") {
				t.Errorf("tab %d: toasts %q", i, got)
			}
		}
		watchTab(t, tab)
	}
	id := u.ingest("Golang developer after the logout")
	later := u.ingest("Accountant after the logout")
	for i, tab := range u.tabs {
		browsertest.WaitTrue(t, tab, fmt.Sprintf(`document.querySelector('#jobs li[data-id="%s"]')`, later))
		browsertest.WaitTrue(t, tab, fmt.Sprintf(`document.querySelector('#jobs li[data-id="%s"]')`, id))
		if n := browsertest.Eval[int](t, tab, `Object.keys(window.__matches).length + window.__toasts.length + document.querySelectorAll("#alerts-list li").length`); n != 0 {
			t.Errorf("tab %d: %d private things shown after the logout", i, n)
		}
	}
	u.waitConnections(map[string]int{"sse": 1})
}

// TestBrowser_BufferingProxyFallsBack: behind a proxy that holds SSE
// responses back (it passes them on only when they end), the page counts
// the silent stream as failed and is live over another transport within
// 10 s of opening it (the stall fallback is 5 s). The time is counted from
// the page's first SSE request, not from the navigation: loading the page
// and its lists on a busy CI machine is no part of the fallback, and took
// seconds of the 10 there.
func TestBrowser_BufferingProxyFallsBack(t *testing.T) {
	cfg := testConfig(t)
	cfg.Demo = config.DemoOff
	a, _ := startApp(t, cfg)
	target, err := url.Parse(a.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var buffered atomic.Int32
	var sseAt atomic.Int64 // unix nanoseconds of the page's first SSE request
	proxy.ModifyResponse = func(res *http.Response) error {
		if !strings.HasPrefix(res.Request.URL.Path, "/api/events") {
			return nil
		}
		buffered.Add(1)
		body, err := io.ReadAll(res.Body) // until the stream ends (or the client leaves)
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(body))
		return err
	}
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(http.StatusBadGateway) // mostly a page that went away
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/events") {
			sseAt.CompareAndSwap(0, time.Now().UnixNano())
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	tab := browsertest.New(t)
	start := time.Now()
	browsertest.Do(t, tab, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitTrue(t, tab, `(c => c.dataset.state === "live" && c.dataset.transport !== "sse")(document.querySelector("#conn"))`)
	live := time.Now()
	if sseAt.Load() == 0 || buffered.Load() == 0 {
		t.Fatal("the page never tried SSE through the proxy")
	}
	if d := live.Sub(time.Unix(0, sseAt.Load())); d > 10*time.Second {
		t.Errorf("live %s after the page opened its SSE stream, want within 10 s", d)
	}
	jar, _ := cookiejar.New(nil)
	u := &pageUser{t: t, base: a.URL(), admin: &http.Client{Jar: jar}}
	post(t, u.admin, u.base+"/api/login", `{"email":"admin@example.com","password":"admin-password"}`, 200)
	id := u.ingest("Platform engineer behind a proxy")
	browsertest.WaitVisible(t, tab, fmt.Sprintf(`#jobs li[data-id="%s"]`, id))
	t.Logf("live over %s %s after the navigation, %s after the SSE request", browsertest.Eval[string](t, tab, `document.querySelector("#conn").dataset.transport`),
		live.Sub(start), live.Sub(time.Unix(0, sseAt.Load())))
}

// TestBrowser_SessionEndedElsewhereSignsOutEveryTab: the browser's session
// is ended behind the page's back (a logout request the page does not
// make); the server ends the stream with session-ended, every tab of the browser is
// signed out and says why, and no private event reaches any of them
// afterwards.
func TestBrowser_SessionEndedElsewhereSignsOutEveryTab(t *testing.T) {
	a, _ := startApp(t, streamTestConfig(t))
	u := newPageUser(t, a.URL())
	u.open("/#alerts")
	u.open("/")
	for _, tab := range u.tabs {
		browsertest.WaitTrue(t, tab, liveWithAlerts)
		logToasts(t, tab)
	}
	// The session ends behind the page's back: a request of its own, not
	// the page's sign-out, so only the server can tell the tabs.
	status := browsertest.Run(t, u.tabs[2], chromedp.Evaluate[int](`fetch("/api/logout", {method: "POST"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if status >= 300 {
		t.Fatalf("logout behind the page's back: %d", status)
	}
	for _, tab := range u.tabs {
		browsertest.WaitVisible(t, tab, "#signin-open")
		browsertest.WaitTrue(t, tab, toastShown("session has ended"))
		browsertest.WaitTrue(t, tab, `(c => c.dataset.state === "live" && !c.dataset.meState)(document.querySelector("#conn"))`)
		watchTab(t, tab)
	}
	id := u.ingest("Golang developer after the session ended")
	for i, tab := range u.tabs {
		browsertest.WaitTrue(t, tab, fmt.Sprintf(`document.querySelector('#jobs li[data-id="%s"]')`, id))
		if n := browsertest.Eval[int](t, tab, `Object.keys(window.__matches).length + window.__toasts.length`); n != 0 {
			t.Errorf("tab %d: %d matches shown after the session ended", i, n)
		}
	}
	u.waitConnections(map[string]int{"sse": 1})
}
