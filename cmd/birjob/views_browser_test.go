package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/config"
	"github.com/birjob/birjob/internal/browsertest"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// pageView is one view of the page, as its people see it: who is signed
// in ("anon", "user", "admin"; "new" is signed out on a first visit, with
// nothing stored, so the welcome shows), the URL it is at, a JavaScript condition
// true once it is drawn, and optionally a script that opens it from there
// (a panel) with its own condition. The accessibility, phone and
// screenshot tests run over every view of pageViews: a new view is one
// line here.
type pageView struct {
	name  string
	who   string
	path  string
	ready string
	open  string // optional: run when ready, then wait for shown
	shown string
}

var pageViews = []pageView{
	{name: "jobs", who: "anon", path: "/#jobs", ready: `document.querySelector("#jobs li.job")`},
	{name: "sign-in", who: "anon", path: "/#jobs", ready: `document.querySelector("#signin-open")`,
		open: `document.querySelector("#signin-open").click()`, shown: `!document.querySelector("#auth-panel").hidden`},
	{name: "jobs-signed-in", who: "user", path: "/#jobs", ready: `document.querySelector("#who") && document.querySelector("#jobs li.job")`},
	{name: "alerts", who: "user", path: "/#alerts", ready: `document.querySelector("#alerts-list li.alert")`},
	{name: "admin-sources", who: "admin", path: "/#admin/sources", ready: `document.querySelector("#sources-list tr[data-id]")`},
	{name: "admin-stats", who: "admin", path: "/#admin/stats", ready: `document.querySelector("#stats-charts figure svg")`},
	{name: "admin-feeds", who: "admin", path: "/#admin/feeds", ready: `document.querySelector("#feeds-list li[data-id]")`},
	{name: "admin-source-form", who: "admin", path: "/#admin/sources", ready: `document.querySelector("#sources-list tr[data-id]")`,
		open: `document.querySelector("#source-new").click()`, shown: `document.querySelector("#source-form form")`},
	{name: "admin-feed-form", who: "admin", path: "/#admin/feeds", ready: `document.querySelector("#feeds-list li[data-id]")`,
		open: `document.querySelector("#feed-new").click()`, shown: `document.querySelector("#feed-form form")`},
	{name: "admin-mail", who: "admin", path: "/#admin/mail", ready: `document.querySelector("#mail-list li[data-id]") && !document.querySelector("#mail-smtp").hidden`,
		open: `document.querySelector("#mail-list li[data-id] summary").click()`, shown: `document.querySelector("#mail-list details[open] pre.mail-text")`},
	{name: "menu", who: "admin", path: "/#jobs", ready: `document.querySelector("#who") && document.querySelector("#jobs li.job")`,
		open: `document.querySelector("#menu-toggle").click()`, shown: `document.querySelector("#top.open")`},
	{name: "welcome", who: "new", path: "/#jobs", ready: `document.querySelector("#welcome") && document.querySelector("#jobs li.job")`},
	{name: "jobs-filtered", who: "user", path: "/?location=baki&remote=true&salaryMin=1000&sort=salary#jobs",
		ready: `document.querySelector("#jobs li.job") && !document.querySelector("#alert-from-search").hidden`},
	{name: "job-details", who: "user", path: "/#jobs", ready: `document.querySelector("#jobs li.job button.job-open")`,
		open:  `document.querySelector("#jobs li.job button.job-open").click()`,
		shown: `document.querySelector("#job-details").open && document.querySelector("#job-details").dataset.complete === "true"`},
	{name: "account", who: "user", path: "/#account", ready: `document.querySelector("#acct-sessions-list li") && document.querySelector("#acct-tz option")`},
	{name: "forgot-password", who: "anon", path: "/#jobs", ready: `document.querySelector("#signin-open")`,
		open:  `(document.querySelector("#signin-open").click(), document.querySelector("#auth-forgot").click())`,
		shown: `!document.querySelector("#forgot-form").hidden`},
	{name: "reset-password", who: "anon", path: "/?reset=a-token-from-the-mail#jobs", ready: `document.querySelector("#reset-panel") && document.querySelector("#jobs li.job")`},
}

// view returns the view of pageViews named name.
func view(name string) pageView {
	for _, v := range pageViews {
		if v.name == name {
			return v
		}
	}
	panic("no view " + name)
}

// viewFixture is a node with jobs, an alert with matches, sources with
// runs, a public feed, the sign-up's mail in the outbox (no SMTP), and a
// browser context (own cookies) per kind of person.
type viewFixture struct {
	t    *testing.T
	app  *App
	base string
	tabs map[string]context.Context // by who
}

func newViewFixture(t *testing.T) *viewFixture {
	t.Helper()
	cfg := testConfig(t)
	cfg.Demo = config.DemoOff
	cfg.AllowPrivate = "true" // the test's board is on loopback
	a, _ := startApp(t, cfg)
	f := &viewFixture{t: t, app: a, base: a.URL(), tabs: map[string]context.Context{}}

	jar, _ := cookiejar.New(nil)
	admin := &http.Client{Jar: jar}
	post(t, admin, f.base+"/api/login", `{"email":"admin@example.com","password":"admin-password"}`, 200)
	jar2, _ := cookiejar.New(nil)
	ann := &http.Client{Jar: jar2}
	post(t, ann, f.base+"/api/signup", `{"email":"ann@example.com","password":"password-123"}`, 201)
	post(t, ann, f.base+"/api/alerts", `{"name":"Go in Baku","query":"golang OR go","location":"Baku"}`, 201)
	post(t, admin, f.base+"/api/feeds", `{"name":"jobs-in-baku","title":"Jobs in Baku","location":"Baku"}`, 201)
	for i, j := range []struct{ title, company, place, salary string }{
		{"Senior Go developer", "Kapital Bank", "Bakı", `{"min":3000,"max":4500,"currency":"AZN","period":"month"}`},
		{"Data analyst", "Azercell", "Baku", `{"min":1800,"currency":"AZN","period":"month"}`},
		{"Frontend engineer (React)", "PASHA Holding", "Remote", `null`},
		{"Golang backend engineer", "Bolt", "Baku", `{"min":60000,"max":80000,"currency":"EUR","period":"year"}`},
		{"Accountant", "Azersun", "Sumqayıt", `null`},
	} {
		desc := fmt.Sprintf("%s at %s.\nWhat you will do: build and run the services behind the product.\nWhat we offer: a team that ships every week.", j.title, j.company)
		post(t, admin, f.base+"/api/jobs", fmt.Sprintf(`{"title":%q,"company":%q,"location":%q,"salary":%s,"url":"https://jobs.example.com/%d","remote":%v,"description":%q,"employmentType":"full-time"}`,
			j.title, j.company, j.place, j.salary, i+1, j.place == "Remote", desc), 201)
	}

	board := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/feed.xml" {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Board</title>
<item><title>DevOps engineer</title><link>https://board.example.com/1</link><guid>b-1</guid></item>
<item><title>QA engineer</title><link>https://board.example.com/2</link><guid>b-2</guid></item>
</channel></rss>`)
	}))
	t.Cleanup(board.Close)
	ctx := context.Background()
	for i, s := range []model.Source{
		{Name: "board.example.com", Kind: model.SourceRSS, URL: board.URL + "/feed.xml", Schedule: "@every 1h", Enabled: true},
		{Name: "jobs.example.az — a source whose name is long enough to wrap", Kind: model.SourceHTML, URL: board.URL + "/list?page=1&category=it",
			Schedule: "30 4 * * 1", Enabled: true, Selectors: map[string]string{"item": "article.job", "title": "h2", "url": "a@href", "detail": "true"}},
		{Name: "broken board", Kind: model.SourceJSONLD, URL: board.URL + "/broken", Schedule: "@every 6h", Enabled: true},
	} {
		src, err := f.app.parts.scraper.CreateSource(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			continue // never ran
		}
		_, done, err := f.app.parts.scraper.RunNow(ctx, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatal("run did not finish")
		}
		if i == 2 { // the broken board failed its run, then an admin disabled it
			src.Enabled = false
			if _, err := f.app.parts.scraper.UpdateSource(ctx, src); err != nil {
				t.Fatal(err)
			}
		}
	}
	return f
}

// tab returns the tab of who (signed in on its first use).
func (f *viewFixture) tab(who string) context.Context {
	t := f.t
	t.Helper()
	if tab, ok := f.tabs[who]; ok {
		return tab
	}
	tab := browsertest.New(t)
	browsertest.Do(t, tab, chromedp.Navigate(f.base+"/"))
	login := map[string]string{
		"user":  `{"email":"ann@example.com","password":"password-123"}`,
		"admin": `{"email":"admin@example.com","password":"admin-password"}`,
	}[who]
	if who == "anon" {
		// A returning visitor: the first visit's welcome was answered.
		browsertest.Eval[any](t, tab, `(localStorage.setItem("birjob-visited", "1"), null)`)
	}
	if login != "" {
		code := browsertest.Run(t, tab, chromedp.Evaluate[int](`fetch("/api/login", {method: "POST", headers: {"Content-Type": "application/json"}, body: `+"`"+login+"`"+`}).then(r => r.status)`, chromedp.EvalAwaitPromise))
		if code != 200 {
			t.Fatalf("sign in as %s: %d", who, code)
		}
	}
	f.tabs[who] = tab
	return tab
}

// show opens view v in its person's tab, emulating d, and waits until it
// is drawn.
func (f *viewFixture) show(t *testing.T, v pageView, d browsertest.Device) context.Context {
	t.Helper()
	tab := f.tab(v.who)
	browsertest.Emulate(t, tab, d)
	// A new #fragment alone does not reload the page.
	browsertest.Do(t, tab, chromedp.Navigate("about:blank"), chromedp.Navigate(f.base+v.path))
	browsertest.WaitTrue(t, tab, v.ready)
	if v.open != "" {
		browsertest.Eval[any](t, tab, "("+v.open+", null)")
		browsertest.WaitTrue(t, tab, v.shown)
	}
	// Wait for the stream, so the pill shows its final text and colour.
	browsertest.WaitTrue(t, tab, `document.querySelector("#conn").dataset.state === "live"`)
	return tab
}

// TestBrowser_Views checks every view of pageViews: no axe-core violation
// in light and in dark mode; at 390×844 nothing overflows sideways and the
// header is one row. Then the bugs of issue 15, each on the view it was
// seen on.
func TestBrowser_Views(t *testing.T) {
	f := newViewFixture(t)
	for _, d := range []browsertest.Device{browsertest.Desktop, browsertest.Desktop.WithDark(), browsertest.Phone.WithDark()} {
		t.Run("axe-"+d.Name, func(t *testing.T) {
			for _, v := range pageViews {
				tab := f.show(t, v, d)
				browsertest.CheckAxe(t, tab, v.name+" "+d.Name)
			}
		})
	}
	t.Run("phone", func(t *testing.T) {
		for _, v := range pageViews {
			tab := f.show(t, v, browsertest.Phone)
			if got := browsertest.Eval[string](t, tab, overflowCheck); got != "" {
				t.Errorf("%s at 390×844: %s", v.name, got)
			}
		}
	})
	t.Run("bugs", func(t *testing.T) { testViewBugs(t, f) })
	t.Run("admin", func(t *testing.T) { testAdminViews(t, f) })
}

// testAdminViews: the statistics are the cluster's, in words; the source
// form sends every setting; each source shows its health at a glance.
func testAdminViews(t *testing.T, f *viewFixture) {
	t.Run("stats are the cluster's, in words", func(t *testing.T) {
		tab := f.show(t, view("admin-stats"), browsertest.Desktop)
		// Another node of the cluster, with streams of its own: the page
		// shows it when it asks again (a change of range asks at once).
		// (Inserted after the page opened, so it is within the 30 s a
		// node counts as alive.)
		if err := f.app.store.AddStatsSample(context.Background(), storage.StatsSample{Node: "web-2", ConnWS: 3, Subscriptions: 3}, api.StatsKeep); err != nil {
			t.Fatal(err)
		}
		// The node samples its matching every 10 s: ask again each second
		// until its sample after the fixture's jobs is in.
		browsertest.WaitTrue(t, tab, `(() => {
			const text = document.querySelector("#stats-charts").textContent;
			if (text.includes("on 2 nodes") && text.includes("Matching a new job against the alerts took")) return true;
			if (Date.now() - (window.__asked || 0) > 1000) {
				window.__asked = Date.now();
				document.querySelector("#stats-range").dispatchEvent(new Event("change"));
			}
			return false;
		})()`)
		text := browsertest.Text(t, tab, "#stats-charts")
		for _, want := range []string{"3 WebSocket", "events/", "over the last hour", "runs over the last hour: ", " ok, ", " failed", "Matching a new job against the alerts took"} {
			if !strings.Contains(text, want) {
				t.Errorf("the charts do not say %q: %s", want, text)
			}
		}
		if n := browsertest.Eval[int](t, tab, `document.querySelectorAll("#stats-charts figure svg[role=img][aria-labelledby]").length`); n != 4 {
			t.Errorf("%d labelled charts, want 4", n)
		}
		// Another range asks the server again.
		browsertest.Do(t, tab, chromedp.SetValue(chromedp.CSS("#stats-range"), "24h"))
		browsertest.Eval[any](t, tab, `(document.querySelector("#stats-range").dispatchEvent(new Event("change")), null)`)
		browsertest.WaitTrue(t, tab, `document.querySelector("#stats-charts").textContent.includes("over the last day")`)
	})
	t.Run("source form sends every setting", func(t *testing.T) {
		tab := f.show(t, view("admin-source-form"), browsertest.Desktop)
		set := func(sel, v string) {
			browsertest.Do(t, tab, chromedp.SetValue(chromedp.CSS("#source-form "+sel), v))
		}
		set("input[name=name]", "form board")
		set("input[name=url]", "https://jobs.example.org/list")
		set("input[name=sel-item]", "li.job")
		set("input[name=sel-title]", "h3")
		set("input[name=sel-url]", "a@href")
		set("input[name=sel-validThrough]", "time.until@datetime")
		set("input[name=sel-remote]", ".remote")
		browsertest.Do(t, tab, chromedp.Click(chromedp.CSS("#source-form details.settings summary")))
		set("input[name=set-maxPages]", "5")
		set("input[name=set-maxDetailPages]", "40")
		set("input[name=set-delay]", "1500ms")
		set("input[name=set-requestTimeout]", "15s")
		set("input[name=set-suspectRatio]", "0.25")
		browsertest.Eval[any](t, tab, `(document.querySelector("#source-form input[name=detail]").click(), document.querySelector("#source-form input[name=enabled]").click(), null)`)
		browsertest.Do(t, tab, chromedp.Click(chromedp.CSS(`#source-form button[type=submit]`)))
		browsertest.WaitTrue(t, tab, sourceRow("form board"))
		var src model.Source
		for _, s := range f.listSources(t) {
			if s.Name == "form board" {
				src = s
			}
		}
		sel := src.Selectors
		if sel["item"] != "li.job" || sel["validThrough"] != "time.until@datetime" || sel["remote"] != ".remote" || sel["detail"] != "true" || src.Enabled {
			t.Errorf("saved source: selectors %v, enabled %v", sel, src.Enabled)
		}
		var saved map[string]any
		_ = json.Unmarshal(src.Settings, &saved)
		delay, _ := time.ParseDuration(fmt.Sprint(saved["delay"]))
		if len(saved) != 5 || saved["maxPages"] != 5.0 || saved["maxDetailPages"] != 40.0 || delay != 1500*time.Millisecond || saved["requestTimeout"] != "15s" || saved["suspectRatio"] != 0.25 {
			t.Errorf("saved settings %s", src.Settings)
		}
		if n := browsertest.Eval[int](t, tab, `document.querySelectorAll("#sources-list tr[data-id] .dot[role=img][aria-label]").length`); n < 4 {
			t.Errorf("%d sources with a health dot, want every one", n)
		}
	})
}

// listSources reads the sources from the database.
func (f *viewFixture) listSources(t *testing.T) []model.Source {
	t.Helper()
	srcs, err := f.app.store.ListSources(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return srcs
}

// overflowCheck is "" when the page fits the viewport's width and the
// header is one row, else what is wrong.
const overflowCheck = `(() => {
	const out = [];
	const se = document.scrollingElement;
	if (se.scrollWidth > innerWidth) {
		const wide = [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > innerWidth + 1 && e.offsetParent)
			.slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + String(e.className).split(" ").join(".") : ""));
		out.push("scrollWidth " + se.scrollWidth + " > innerWidth " + innerWidth + " (" + wide.join(", ") + ")");
	}
	const top = document.querySelector("header.top");
	const kids = [...top.children].filter(e => e.getClientRects().length && getComputedStyle(e).position !== "absolute");
	const rows = new Set(kids.map(e => Math.round(e.getBoundingClientRect().top / 8)));
	const hgt = top.getBoundingClientRect().height;
	if (hgt > 64 || kids.some(e => e.getBoundingClientRect().bottom > top.getBoundingClientRect().bottom + 1)) out.push("the header is " + Math.round(hgt) + " px tall (" + kids.length + " items)");
	return out.join("; ");
})()`

// darkShots are the views also pictured in dark mode (the others look the
// same but for the colours, which the axe test checks in both).
var darkShots = map[string]bool{"jobs-signed-in": true, "alerts": true, "job-details": true, "account": true, "admin-sources": true, "admin-stats": true, "admin-mail": true}

// TestBrowser_Screenshots writes the PNGs of docs/screenshots/ (run with
// BIRJOB_SCREENSHOTS=1, or `make screenshots`): every view of pageViews on
// a desktop and on a phone, the main ones (darkShots) in dark mode too.
// The menu only opens on a phone.
func TestBrowser_Screenshots(t *testing.T) {
	if os.Getenv("BIRJOB_SCREENSHOTS") != "1" {
		t.Skip("set BIRJOB_SCREENSHOTS=1 (make screenshots) to write docs/screenshots/")
	}
	f := newViewFixture(t)
	dir := filepath.Join("..", "..", "docs", "screenshots")
	for _, d := range []browsertest.Device{browsertest.Desktop, browsertest.Desktop.WithDark(), browsertest.Phone} {
		for _, v := range pageViews {
			if d.Dark && !darkShots[v.name] || v.name == "menu" && d.Name != "phone" {
				continue
			}
			tab := f.show(t, v, d)
			// No caret or hover state in the pictures.
			browsertest.Eval[any](t, tab, `(document.activeElement?.blur(), null)`)
			browsertest.CaptureViewport(t, tab, filepath.Join(dir, v.name+"-"+d.Name+".png"))
		}
	}
}

// testViewBugs: the bugs issue 15 found on the page, each checked where it
// was seen.
func testViewBugs(t *testing.T, f *viewFixture) {
	sources := view("admin-sources")
	t.Run("phone runs table shows Status", func(t *testing.T) {
		tab := f.show(t, sources, browsertest.Phone)
		browsertest.Eval[any](t, tab, clickButton(sourceRow("board.example.com"), "Runs"))
		browsertest.WaitTrue(t, tab, `document.querySelector("#source-output table.runs")`)
		if shown := browsertest.Eval[string](t, tab, `[...document.querySelectorAll("#source-output table.runs th")].filter(th => th.getClientRects().length).map(th => th.textContent).join(",")`); !strings.Contains(shown, "Status") {
			t.Errorf("the runs table at 390 px shows the columns %q, not Status", shown)
		}
	})
	t.Run("phone source actions on screen, rows short", func(t *testing.T) {
		tab := f.show(t, sources, browsertest.Phone)
		got := browsertest.Eval[string](t, tab, `[...document.querySelectorAll("#sources-list tr[data-id]")].flatMap(tr => {
			const out = [];
			const h = tr.getBoundingClientRect().height;
			const healthy = tr.querySelector(".dot.ok");
			if (h > (healthy ? 200 : 280)) out.push(tr.querySelector("strong").textContent + " is " + Math.round(h) + " px tall: " + [...tr.children].map(td => Math.round(td.getBoundingClientRect().height)).join("+"));
			for (const b of tr.querySelectorAll("button")) {
				const r = b.getBoundingClientRect();
				if (r.left < 0 || r.right > innerWidth) out.push(b.textContent + " at x " + Math.round(r.left) + "-" + Math.round(r.right));
			}
			return out;
		}).join("; ")`)
		if got != "" {
			t.Errorf("sources at 390 px: %s", got)
		}
	})
	t.Run("phone toasts leave the page usable", func(t *testing.T) {
		tab := f.show(t, view("jobs"), browsertest.Phone)
		h := browsertest.Run(t, tab, chromedp.Evaluate[float64](`(async () => {
			const url = performance.getEntriesByType("resource").map(e => e.name).find(n => /\/static\/toast\.[0-9a-f]+\.js$/.test(n));
			const { toast } = await import(url);
			for (let i = 1; i <= 5; i++) toast("New match " + i + ": Senior Go developer at Kapital Bank in Bakı, from 3000 AZN a month", { kind: "match" });
			return document.querySelector("#toasts").getBoundingClientRect().height;
		})()`, chromedp.EvalAwaitPromise))
		if h > 844*0.3 {
			t.Errorf("five toasts take %.0f px of an 844 px screen (more than 30%%)", h)
		}
	})
	t.Run("preview and runs shown where seen, focused", func(t *testing.T) {
		tab := f.show(t, sources, browsertest.Device{Name: "short", Width: 1280, Height: 600})
		for _, action := range []string{"Preview", "Runs"} {
			browsertest.Eval[any](t, tab, `(scrollTo(0, 0), null)`)
			browsertest.Eval[any](t, tab, clickButton(sourceRow("broken board"), action))
			browsertest.WaitTrue(t, tab, `(o => o && !o.hidden && o.querySelector("p, table"))(document.querySelector("#source-output"))`)
			browsertest.WaitTrue(t, tab, `(r => r.top >= 0 && r.top < innerHeight - 100)(document.querySelector("#source-output").getBoundingClientRect())`)
			if in := browsertest.Eval[bool](t, tab, `document.querySelector("#source-output").contains(document.activeElement)`); !in {
				t.Errorf("%s: the focus is on %s, not in the output", action, browsertest.Eval[string](t, tab, `document.activeElement.outerHTML.slice(0, 80)`))
			}
		}
	})
	t.Run("feed name pattern matches the server", func(t *testing.T) {
		tab := f.show(t, view("admin-feeds"), browsertest.Desktop)
		browsertest.Eval[any](t, tab, `(document.querySelector("#feed-new").click(), null)`)
		browsertest.WaitVisible(t, tab, "#feed-form input[name=name]")
		for name, valid := range map[string]bool{"job_alerts_baku": true, "job-alerts-2": true, "Jobs in Baku": false, "-x": false, "me": false, "jobs": false} {
			got := browsertest.Eval[bool](t, tab, fmt.Sprintf(`(i => (i.value = %q, i.checkValidity()))(document.querySelector("#feed-form input[name=name]"))`, name))
			if got != valid || model.ValidFeedName(name) == nil != valid {
				t.Errorf("feed name %q: field valid %v, server valid %v, want %v", name, got, model.ValidFeedName(name) == nil, valid)
			}
		}
		if hint := browsertest.Text(t, tab, "#feed-form .hint"); !strings.Contains(hint, "_") {
			t.Errorf("the name's hint %q does not mention '_'", hint)
		}
	})
	t.Run("phone menu opens, leads and closes with Escape", func(t *testing.T) {
		tab := f.show(t, view("jobs-signed-in"), browsertest.Phone)
		if shown := browsertest.Eval[bool](t, tab, `!!document.querySelector("#signout").getClientRects().length`); shown {
			t.Error("the account is in the header row at 390 px, not in the menu")
		}
		browsertest.Do(t, tab, chromedp.Click(chromedp.CSS("#menu-toggle")))
		browsertest.WaitVisible(t, tab, `#nav a[data-tab="alerts"]`)
		if got := browsertest.Eval[string](t, tab, `document.querySelector("#menu-toggle").getAttribute("aria-expanded") + " " + document.activeElement.textContent`); got != "true Jobs" {
			t.Errorf("open menu: aria-expanded and focus %q, want \"true Jobs\"", got)
		}
		browsertest.Do(t, tab, chromedp.KeyEvent("\x1b"))
		browsertest.WaitTrue(t, tab, `!document.querySelector("#signout").getClientRects().length`)
		if got := browsertest.Eval[string](t, tab, `document.activeElement.id + " " + document.querySelector("#menu-toggle").getAttribute("aria-expanded")`); got != "menu-toggle false" {
			t.Errorf("after Escape: focus and aria-expanded %q, want \"menu-toggle false\"", got)
		}
		// A section chosen in the menu is shown, and the menu closes.
		browsertest.Do(t, tab, chromedp.Click(chromedp.CSS("#menu-toggle")), chromedp.Click(chromedp.CSS(`#nav a[data-tab="alerts"]`)))
		browsertest.WaitVisible(t, tab, "#tab-alerts")
		browsertest.WaitTrue(t, tab, `!document.querySelector("#top.open")`)
	})
	t.Run("phone filters fold behind one button", func(t *testing.T) {
		// They wrapped to three rows above the list at 390 px.
		tab := f.show(t, view("jobs-filtered"), browsertest.Phone)
		got := browsertest.Eval[string](t, tab, `(() => {
			const b = document.querySelector("#filters-toggle");
			const tall = document.querySelector("#search").getBoundingClientRect().height > 60 ? "tall" : "short";
			return [b.textContent, b.getAttribute("aria-expanded"), !!document.querySelector("#filters").getClientRects().length, tall].join(" ");
		})()`)
		if got != "Filters (4) false false short" {
			t.Errorf("folded filters at 390 px: %q, want \"Filters (4) false false short\" (a search form at most 60 px tall)", got)
		}
		browsertest.Do(t, tab, chromedp.Click(chromedp.CSS("#filters-toggle")))
		browsertest.WaitVisible(t, tab, "#f-location")
		if got := browsertest.Eval[string](t, tab, `document.querySelector("#filters-toggle").getAttribute("aria-expanded") + " " + document.querySelector("#f-location").value + " " + document.querySelector("#f-sort").value`); got != "true baki salary" {
			t.Errorf("open filters: %q, want \"true baki salary\"", got)
		}
		if got := browsertest.Eval[string](t, tab, overflowCheck); got != "" {
			t.Errorf("open filters at 390×844: %s", got)
		}
	})
	t.Run("Escape closes the sign-in panel", func(t *testing.T) {
		tab := f.show(t, view("sign-in"), browsertest.Desktop)
		browsertest.Do(t, tab, chromedp.KeyEvent("\x1b"))
		browsertest.WaitTrue(t, tab, `document.querySelector("#auth-panel").hidden`)
		if got := browsertest.Eval[string](t, tab, `document.activeElement.id`); got != "signin-open" {
			t.Errorf("after Escape the focus is on %q, want the Sign in button", got)
		}
	})
}

// clickButton is a script that clicks the button of the element row
// (a JavaScript expression) whose text is text.
func clickButton(row, text string) string {
	return fmt.Sprintf(`(() => { [...(%s).querySelectorAll("button")].find(b => b.textContent.trim() === %q).click(); return null })()`, row, text)
}

// sourceRow is a JavaScript expression: the admin's row of the source named name.
func sourceRow(name string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#sources-list tr[data-id]")].find(tr => tr.textContent.includes(%q))`, name)
}
