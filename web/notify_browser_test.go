package web_test

// Browser tests of issue 15's notifications, first visit and account page,
// against the fake backend of browser_test.go plus the routes each test
// needs. The account page's flows against the account API (verify, reset,
// change, sessions, tokens, delete) are tested against a real node, with
// real mail and streams, in cmd/birjob/account_browser_test.go; here only
// what needs no such backend (sections hidden on 404). Browser notifications and the page's visibility are stubbed in
// the page (notifyStub): headless Chromium shows no notifications and its
// tab is always visible.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/birjob/birjob/internal/browsertest"
)

// notifyStub replaces Notification with a recorder (window.__notes) whose
// permission is perm, and makes the page's visibility and focus follow
// window.__hidden (see hide and look).
func notifyStub(perm string) string {
	return fmt.Sprintf(`
window.__notes = [];
class FakeNotification {
  constructor(title, o = {}) { window.__notes.push({title, body: o.body || "", tag: o.tag || ""}); }
  close() {}
  static get permission() { return %q; }
  static requestPermission() { return Promise.resolve(%q); }
}
window.Notification = FakeNotification;
Object.defineProperty(Document.prototype, "visibilityState", {configurable: true, get() { return window.__hidden ? "hidden" : "visible"; }});
Object.defineProperty(Document.prototype, "hidden", {configurable: true, get() { return !!window.__hidden; }});
Document.prototype.hasFocus = function () { return !window.__hidden; };
`, perm, perm)
}

// hide makes the page hidden (another tab is on screen); look brings it back.
func hide(t *testing.T, ctx context.Context) {
	t.Helper()
	browsertest.Eval[bool](t, ctx, `(window.__hidden = true, document.dispatchEvent(new Event("visibilitychange")), true)`)
}

func look(t *testing.T, ctx context.Context) {
	t.Helper()
	browsertest.Eval[bool](t, ctx, `(window.__hidden = false, document.dispatchEvent(new Event("visibilitychange")), window.dispatchEvent(new Event("focus")), true)`)
}

// startWith serves the fake backend with extra routes in front of it.
func (b *fakeBackend) startWith(routes func(mux *http.ServeMux)) *httptest.Server {
	mux := http.NewServeMux()
	routes(mux)
	mux.Handle("/", b.handler())
	srv := httptest.NewServer(mux)
	b.t.Cleanup(srv.Close)
	b.t.Cleanup(func() { close(b.stop) })
	return srv
}

// alertRoutes adds PUT /api/alerts/{id} (fields merged into b.alerts) and
// records each body in puts.
func (b *fakeBackend) alertRoutes(puts *[]map[string]any) func(*http.ServeMux) {
	return func(mux *http.ServeMux) {
		mux.HandleFunc("PUT /api/alerts/{id}", func(w http.ResponseWriter, r *http.Request) {
			var body map[string]any
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				writeJSON(w, 400, map[string]string{"error": "bad JSON"})
				return
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			*puts = append(*puts, body)
			for _, a := range b.alerts {
				if fmt.Sprint(a["id"]) == r.PathValue("id") {
					for k, v := range body {
						a[k] = v
					}
					writeJSON(w, 200, a)
					return
				}
			}
			writeJSON(w, 404, map[string]string{"error": "no such alert"})
		})
	}
}

// match is a "me" new-job event's data: job id for alerts.
func match(id int, title string, alerts ...int) map[string]any {
	return map[string]any{"id": id, "title": title, "company": "Acme", "url": fmt.Sprintf("https://jobs.example.com/%d", id), "alerts": alerts}
}

// signedInPage opens the page of a signed-in user with alerts, notifications
// stubbed with perm, and waits until the alerts are listed and "me" is live.
func signedInPage(t *testing.T, b *fakeBackend, srv *httptest.Server, perm, path string) context.Context {
	t.Helper()
	ctx := newPage(t)
	browsertest.BeforeScripts(t, ctx, notifyStub(perm))
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+path))
	browsertest.WaitVisible(t, ctx, "#who")
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.meState === "live"`)
	if len(b.alerts) > 0 {
		browsertest.WaitTrue(t, ctx, fmt.Sprintf(`document.querySelector('#alerts-list li[data-id="%v"]')`, b.alerts[0]["id"]))
	}
	return ctx
}

func toastTexts(t *testing.T, ctx context.Context, sel string) []string {
	t.Helper()
	return browsertest.Eval[[]string](t, ctx, fmt.Sprintf(`[...document.querySelectorAll(%q)].map(e => e.textContent)`, sel))
}

type note struct {
	Title, Body, Tag string
}

func notes(t *testing.T, ctx context.Context) []note {
	t.Helper()
	return browsertest.Eval[[]note](t, ctx, `window.__notes`)
}

// A burst of matches is one toast and one browser notification per alert,
// with the count (today: a toast and a notification per match).
func TestBrowser_BurstIsOneToastAndOneNotificationPerAlert(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com"}
	b.alerts = []map[string]any{{"id": 11, "name": "Go developer", "query": "golang"}, {"id": 12, "name": "Rust", "query": "rust"}}
	srv := b.start()
	ctx := signedInPage(t, b, srv, "granted", "/#alerts")
	hide(t, ctx)

	for i := 1; i <= 5; i++ {
		b.push("me", "new-job", match(i, "Go job "+strconv.Itoa(i), 11))
	}
	b.push("me", "new-job", match(6, "Rust job 6", 12))
	b.push("me", "new-job", match(7, "Go and Rust", 11, 12))
	browsertest.WaitTrue(t, ctx, `document.querySelectorAll('#alerts-list li[data-id="11"] .matches li').length === 6 && document.querySelectorAll('#alerts-list li[data-id="12"] .matches li').length === 2`)
	browsertest.WaitTrue(t, ctx, `window.__notes.length >= 2`)

	got := toastTexts(t, ctx, "#toasts .toast.match")
	if len(got) != 2 || !strings.Contains(strings.Join(got, "|"), "6 new jobs for “Go developer”") || !strings.Contains(strings.Join(got, "|"), "2 new jobs for “Rust”") {
		t.Errorf("match toasts = %q, want one per alert: 6 for Go developer, 2 for Rust", got)
	}
	ns := notes(t, ctx)
	titles := map[string]string{}
	for _, n := range ns {
		titles[n.Tag] = n.Title
	}
	if len(ns) != 2 || titles["alert-11"] != "6 new jobs for “Go developer”" || titles["alert-12"] != "2 new jobs for “Rust”" {
		t.Errorf("browser notifications = %+v, want one per alert with its count, tagged alert-<id>", ns)
	}
	if got := browsertest.Eval[string](t, ctx, `document.title`); got != "(7) birjob test" {
		t.Errorf("title %q, want the 7 new jobs counted once each", got)
	}
	// The burst toast leads to its alert.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#toasts .toast[data-key="alert-12"] .toast-action`)))
	browsertest.WaitTrue(t, ctx, `location.hash === "#alerts" && !document.querySelector('#toasts .toast[data-key="alert-12"]')`)
}

// While the user is not looking, the unread count is in the title and on
// the favicon (a badge drawn on favicon.svg); looking clears both, and a
// match seen while looking counts nothing.
func TestBrowser_UnreadCountInTitleAndFavicon(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com"}
	b.alerts = []map[string]any{{"id": 11, "name": "Go developer", "query": "golang"}}
	srv := b.start()
	ctx := signedInPage(t, b, srv, "default", "/#alerts")
	svg := browsertest.Eval[string](t, ctx, `document.querySelector('link[rel="icon"]').href`)
	hide(t, ctx)
	for i := 1; i <= 3; i++ {
		b.push("me", "new-job", match(i, "Go job "+strconv.Itoa(i), 11))
	}
	browsertest.WaitTrue(t, ctx, `document.title === "(3) birjob test"`)
	browsertest.WaitTrue(t, ctx, `document.querySelector('link[rel="icon"]').dataset.badge === "3"`)
	// The badge is drawn: the icon is a PNG whose top right corner is red.
	px := browsertest.Run(t, ctx, chromedp.Evaluate[[]int](`new Promise((ok, bad) => {
		const img = new Image();
		img.onload = () => { const c = document.createElement("canvas"); c.width = c.height = 64;
			const g = c.getContext("2d"); g.drawImage(img, 0, 0); ok([...g.getImageData(52, 6, 1, 1).data]); };
		img.onerror = bad;
		img.src = document.querySelector('link[rel="icon"]').href;
	})`, chromedp.EvalAwaitPromise))
	if href := browsertest.Eval[string](t, ctx, `document.querySelector('link[rel="icon"]').href`); !strings.HasPrefix(href, "data:image/png") {
		t.Errorf("favicon with unread = %.40q, want a PNG drawn on a canvas", href)
	}
	if len(px) != 4 || px[0] < 150 || px[1] > 100 || px[3] < 200 {
		t.Errorf("badge pixel = %v, want the badge's red", px)
	}

	look(t, ctx)
	browsertest.WaitTrue(t, ctx, `document.title === "birjob test" && !document.documentElement.dataset.unread`)
	if href := browsertest.Eval[string](t, ctx, `document.querySelector('link[rel="icon"]').href`); href != svg {
		t.Errorf("favicon after looking = %.60q, want %q", href, svg)
	}
	b.push("me", "new-job", match(4, "Seen at once", 11))
	browsertest.WaitVisible(t, ctx, `#alerts-list .matches li[data-id="4"]`)
	if got := browsertest.Eval[string](t, ctx, `document.title`); got != "birjob test" {
		t.Errorf("title %q after a match the user saw arrive", got)
	}
}

// Expired matches are marked in the list, not toasted one by one.
func TestBrowser_ExpiriesMarkTheListWithoutToasts(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com"}
	b.alerts = []map[string]any{{"id": 11, "name": "Go developer", "query": "golang", "matches": []map[string]any{
		job(1, "Go one", "https://jobs.example.com/1"), job(2, "Go two", "https://jobs.example.com/2"), job(3, "Go three", "https://jobs.example.com/3"),
	}}}
	srv := b.start()
	ctx := signedInPage(t, b, srv, "granted", "/#alerts")
	hide(t, ctx)
	for i := 1; i <= 3; i++ {
		b.push("me", "job-expired", map[string]any{"id": i, "title": "Go " + strconv.Itoa(i)})
	}
	browsertest.WaitTrue(t, ctx, `document.querySelectorAll('#alerts-list .matches li.expired').length === 3`)
	if got := toastTexts(t, ctx, "#toasts .toast"); len(got) != 0 {
		t.Errorf("toasts for expiries: %q", got)
	}
	if ns := notes(t, ctx); len(ns) != 0 {
		t.Errorf("browser notifications for expiries: %+v", ns)
	}
}

// At most three toasts stack; older ones collapse into one line, which
// clears them all.
func TestBrowser_ToastsStackAtMostThree(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com"}
	for i := 11; i <= 16; i++ {
		b.alerts = append(b.alerts, map[string]any{"id": i, "name": "Alert " + strconv.Itoa(i), "query": "q" + strconv.Itoa(i)})
	}
	srv := b.start()
	ctx := signedInPage(t, b, srv, "default", "/#alerts")
	for i := 11; i <= 16; i++ {
		b.push("me", "new-job", match(i, "Job "+strconv.Itoa(i), i))
	}
	browsertest.WaitTrue(t, ctx, `document.querySelector("#toasts .toast-more")?.textContent.startsWith("3 earlier notifications")`)
	if got := toastTexts(t, ctx, "#toasts > .toast"); len(got) != 3 || !strings.Contains(got[0], "Job 16") {
		t.Errorf("toasts on screen = %q, want the newest three, newest first", got)
	}
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#toasts .toast-more button")))
	browsertest.WaitTrue(t, ctx, `document.querySelector("#toasts").children.length === 0`)
}

// Signing out clears the toasts: the next user of the browser does not
// read the previous one's matches.
func TestBrowser_SignOutClearsToasts(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com"}
	b.alerts = []map[string]any{{"id": 11, "name": "Go developer", "query": "golang"}}
	srv := b.start()
	ctx := signedInPage(t, b, srv, "default", "/#alerts")
	b.push("me", "new-job", match(9, "Private match", 11))
	browsertest.WaitVisible(t, ctx, "#toasts .toast.match")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#signout")))
	browsertest.WaitVisible(t, ctx, "#signin-open")
	if got := browsertest.Text(t, ctx, "#toasts"); strings.Contains(got, "Private match") {
		t.Errorf("after sign-out the toasts still read %q", got)
	}
}

// Muting an alert (PUT {"muted": true}) keeps its matches listed but
// tells no one: no toast, no browser notification, no unread count.
func TestBrowser_MuteAlert(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com"}
	b.alerts = []map[string]any{{"id": 11, "name": "Go developer", "query": "golang", "muted": false}}
	var puts []map[string]any
	srv := b.startWith(b.alertRoutes(&puts))
	ctx := signedInPage(t, b, srv, "granted", "/#alerts")

	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#alerts-list li[data-id="11"] button.mute`)))
	browsertest.WaitVisible(t, ctx, `#alerts-list li.alert.muted[data-id="11"] .muted-badge`)
	if got := browsertest.Eval[string](t, ctx, `document.querySelector('#alerts-list li[data-id="11"] button.mute').getAttribute("aria-pressed")`); got != "true" {
		t.Errorf("mute button aria-pressed = %q", got)
	}
	b.mu.Lock()
	if len(puts) != 1 || puts[0]["muted"] != true || len(puts[0]) != 1 {
		t.Errorf("PUT bodies = %v, want one {muted: true}", puts)
	}
	b.mu.Unlock()

	hide(t, ctx)
	b.push("me", "new-job", match(9, "Muted match", 11))
	browsertest.WaitVisible(t, ctx, `#alerts-list li[data-id="11"] .matches li[data-id="9"]`)
	if got := toastTexts(t, ctx, "#toasts .toast"); len(got) != 0 {
		t.Errorf("toasts for a muted alert: %q", got)
	}
	if got := browsertest.Eval[string](t, ctx, `document.title`); got != "birjob test" {
		t.Errorf("title %q: a muted alert's match was counted", got)
	}

	// Unmuted, it speaks again.
	look(t, ctx)
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#alerts-list li[data-id="11"] button.mute`)))
	browsertest.WaitTrue(t, ctx, `!document.querySelector('#alerts-list li[data-id="11"]').classList.contains("muted")`)
	hide(t, ctx)
	b.push("me", "new-job", match(10, "Loud match", 11))
	browsertest.WaitTrue(t, ctx, `window.__notes.length === 1`)
	if ns := notes(t, ctx); ns[0].Title != "New job for “Go developer”" || !strings.Contains(ns[0].Body, "Loud match") {
		t.Errorf("notification after unmute = %+v", ns[0])
	}
	if n := len(notes(t, ctx)); n != 1 {
		t.Errorf("%d notifications; the muted match made one", n)
	}
}

// The page's notification switch turns match toasts and browser
// notifications off for this browser (kept across reloads); the list and
// the unread count still follow.
func TestBrowser_NotificationsOffFromThePage(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com"}
	b.alerts = []map[string]any{{"id": 11, "name": "Go developer", "query": "golang"}}
	srv := b.start()
	ctx := signedInPage(t, b, srv, "granted", "/#alerts")
	if got := browsertest.Text(t, ctx, "#notify-btn"); got != "Notifications on" {
		t.Fatalf("switch reads %q", got)
	}
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#notify-btn")))
	browsertest.WaitTrue(t, ctx, `(b => b.dataset.state === "off" && b.getAttribute("aria-pressed") === "false" && b.textContent === "Notifications off")(document.querySelector("#notify-btn"))`)

	browsertest.Do(t, ctx, chromedp.Reload())
	browsertest.WaitTrue(t, ctx, `document.querySelector("#conn").dataset.meState === "live" && document.querySelector('#alerts-list li[data-id="11"]')`)
	if got := browsertest.Eval[string](t, ctx, `document.querySelector("#notify-btn").dataset.state`); got != "off" {
		t.Errorf("after a reload the switch is %q, want off (kept per browser)", got)
	}
	hide(t, ctx)
	b.push("me", "new-job", match(9, "Quiet match", 11))
	browsertest.WaitVisible(t, ctx, `#alerts-list .matches li[data-id="9"]`)
	browsertest.WaitTrue(t, ctx, `document.title === "(1) birjob test"`)
	// (A notification would come NOTIFY_BURST_MS after the match: wait
	// for a later match's toast after switching on again instead.)
	look(t, ctx)
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#notify-btn")))
	browsertest.WaitTrue(t, ctx, `document.querySelector("#notify-btn").dataset.state === "on"`)
	hide(t, ctx)
	b.push("me", "new-job", match(10, "Heard match", 11))
	browsertest.WaitTrue(t, ctx, `window.__notes.length >= 1`)
	if ns := notes(t, ctx); len(ns) != 1 || !strings.Contains(ns[0].Body, "Heard match") {
		t.Errorf("notifications = %+v, want only the match after switching on", ns)
	}
	if got := toastTexts(t, ctx, "#toasts .toast"); len(got) != 1 || !strings.Contains(got[0], "Heard match") {
		t.Errorf("toasts = %q, want only the match after switching on", got)
	}
}

// When the browser blocks notifications the switch says how to allow them
// in the site settings (today: a button that does nothing).
func TestBrowser_BlockedNotificationsSayHowToAllow(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com"}
	srv := b.start()
	ctx := signedInPage(t, b, srv, "denied", "/")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#notify-btn")))
	browsertest.WaitVisible(t, ctx, `#toasts .toast[data-key="notify-help"]`)
	if got := browsertest.Text(t, ctx, `#toasts .toast[data-key="notify-help"]`); !strings.Contains(got, "Site settings") || !strings.Contains(got, "Allow") {
		t.Errorf("help = %q, want how to allow notifications in the site settings", got)
	}
}

// A first visit (signed out, nothing stored) says what birjob does and
// invites to create an alert: the invitation signs in and opens the new
// alert form; "Just browse" is remembered.
func TestBrowser_FirstVisitInvitesToCreateAnAlert(t *testing.T) {
	b := newFakeBackend(t)
	b.alerts = []map[string]any{}
	srv := b.start()
	ctx := newPage(t)
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitVisible(t, ctx, "#welcome")
	if got := browsertest.Text(t, ctx, "#welcome"); !strings.Contains(got, "tells you the moment") {
		t.Errorf("welcome = %q", got)
	}
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#welcome-start")))
	browsertest.WaitVisible(t, ctx, "#auth-email")
	browsertest.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#auth-email"), "ada@example.com"),
		chromedp.SendKeys(chromedp.CSS("#auth-password"), "password-123"),
		chromedp.Click(chromedp.CSS("#auth-login")),
	)
	browsertest.WaitVisible(t, ctx, `#alert-form form[aria-label="New alert"]`)
	if got := browsertest.Eval[string](t, ctx, `location.hash`); got != "#alerts" {
		t.Errorf("after the invitation the page is at %q", got)
	}

	b.endSession() // (the fake's sign-in is global: sign out for the other browser)
	other := newPage(t)
	browsertest.Do(t, other, chromedp.Navigate(srv.URL+"/"))
	browsertest.WaitVisible(t, other, "#welcome-dismiss")
	browsertest.Do(t, other, chromedp.Click(chromedp.CSS("#welcome-dismiss")))
	browsertest.WaitTrue(t, other, `!document.querySelector("#welcome")`)
	browsertest.Do(t, other, chromedp.Reload())
	browsertest.WaitVisible(t, other, "#signin-open")
	browsertest.WaitTrue(t, other, `document.querySelector("#conn").dataset.state === "live"`)
	if browsertest.Eval[bool](t, other, `!!document.querySelector("#welcome")`) {
		t.Error("the welcome shows again after 'Just browse'")
	}
}

// With no alerts yet, the alerts tab says what an alert is and offers to
// make the first one.
func TestBrowser_NoAlertsYetHelps(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com"}
	srv := b.start()
	ctx := signedInPage(t, b, srv, "default", "/#alerts")
	browsertest.WaitVisible(t, ctx, "#alerts-empty button")
	if got := browsertest.Text(t, ctx, "#alerts-empty"); !strings.Contains(got, "saved search") {
		t.Errorf("empty state = %q", got)
	}
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#alerts-empty button")))
	browsertest.WaitVisible(t, ctx, `#alert-form form[aria-label="New alert"]`)
}

// courierRoutes serves what exists today for the account page: the mail
// settings (GET/PUT /api/me/notifications) and the push browsers
// (GET /api/push/subscriptions, DELETE /api/push/subscriptions/{id}).
type courierRoutes struct {
	mu   sync.Mutex
	tz   string
	puts []string
	subs []map[string]any
}

func (c *courierRoutes) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/me/notifications", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		writeJSON(w, 200, map[string]string{"timeZone": c.tz})
	})
	mux.HandleFunc("PUT /api/me/notifications", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ TimeZone string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.tz = body.TimeZone
		c.puts = append(c.puts, body.TimeZone)
		writeJSON(w, 200, map[string]string{"timeZone": c.tz})
	})
	mux.HandleFunc("GET /api/push/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		writeJSON(w, 200, map[string]any{"subscriptions": c.subs})
	})
	mux.HandleFunc("DELETE /api/push/subscriptions/{id}", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, s := range c.subs {
			if fmt.Sprint(s["id"]) == r.PathValue("id") {
				c.subs = append(c.subs[:i], c.subs[i+1:]...)
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		writeJSON(w, 404, map[string]string{"error": "no such subscription"})
	})
}

// The account page against today's backend: the email, the mail settings
// (saved with PUT /api/me/notifications) and the push browsers (removed
// with DELETE); the sections of the account API that is not there yet
// (sessions, tokens: 404) are hidden, and the write-only ones (password,
// delete) absent, since the account object has no "emailVerified".
func TestBrowser_AccountPageWithTodaysBackend(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com"}
	now := time.Now().UTC().Format(time.RFC3339)
	c := &courierRoutes{tz: "Asia/Baku", subs: []map[string]any{
		{"id": 1, "endpoint": "https://push.example/1", "userAgent": "Firefox on Linux", "createdAt": now},
		{"id": 2, "endpoint": "https://push.example/2", "userAgent": "Chrome on Android", "createdAt": now},
	}}
	srv := b.startWith(c.routes)
	ctx := signedInPage(t, b, srv, "default", "/")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#who")))
	browsertest.WaitVisible(t, ctx, "#acct-email")
	if got := browsertest.Text(t, ctx, "#acct-address"); got != "ada@example.com" {
		t.Errorf("account email = %q", got)
	}
	browsertest.WaitTrue(t, ctx, `document.querySelector("#acct-mail").dataset.loaded && document.querySelectorAll("#acct-push-list li[data-id]").length === 2`)
	browsertest.WaitTrue(t, ctx, `["acct-sessions", "acct-tokens"].every(id => document.getElementById(id).hidden && document.getElementById(id).dataset.unavailable)`)
	for _, id := range []string{"acct-password", "acct-delete", "acct-verified", "acct-resend"} {
		if browsertest.Eval[bool](t, ctx, fmt.Sprintf(`!!document.getElementById(%q)`, id)) {
			t.Errorf("#%s shows without the account API", id)
		}
	}
	if got := browsertest.Eval[string](t, ctx, `document.querySelector("#acct-tz").value`); got != "Asia/Baku" {
		t.Errorf("time zone shown %q, want the saved Asia/Baku", got)
	}
	browsertest.Eval[bool](t, ctx, `(s => (s.value = "Europe/Berlin", true))(document.querySelector("#acct-tz"))`)
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#acct-mail-form button[type="submit"]`)))
	browsertest.WaitTrue(t, ctx, `document.querySelector("#acct-mail .status").textContent.includes("Europe/Berlin")`)
	c.mu.Lock()
	if len(c.puts) != 1 || c.puts[0] != "Europe/Berlin" {
		t.Errorf("PUT /api/me/notifications got %q", c.puts)
	}
	c.mu.Unlock()

	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#acct-push-list li[data-id="2"] button`)))
	browsertest.WaitTrue(t, ctx, `document.querySelectorAll("#acct-push-list li[data-id]").length === 1 && document.querySelector('#acct-push-list li[data-id="1"]')`)
	// The alerts tab's list follows too.
	if n := browsertest.Eval[int](t, ctx, `document.querySelectorAll("#push-list li[data-id]").length`); n != 1 {
		t.Errorf("the alerts tab lists %d browsers after the removal, want 1", n)
	}
}

// A server without the courier's routes (404) hides those sections too;
// the email stays.
func TestBrowser_AccountPageHidesSectionsOn404(t *testing.T) {
	b := newFakeBackend(t)
	b.user = map[string]any{"id": 7, "email": "ada@example.com"}
	srv := b.start()
	ctx := signedInPage(t, b, srv, "default", "/#account")
	browsertest.WaitVisible(t, ctx, "#acct-email")
	browsertest.WaitTrue(t, ctx, `["acct-sessions", "acct-tokens", "acct-push", "acct-mail"].every(id => document.getElementById(id).hidden)`)
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("#signout")))
	browsertest.WaitVisible(t, ctx, "#signin-open")
	if got := browsertest.Eval[string](t, ctx, `location.hash + "|" + document.querySelector("#tab-account").children.length`); got != "#account|0" {
		t.Errorf("after sign-out: %q, want the account page emptied", got)
	}
	if !browsertest.Eval[bool](t, ctx, `document.querySelector("#tab-account").hidden`) {
		t.Error("the account page shows while signed out")
	}
}
