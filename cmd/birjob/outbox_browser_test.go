package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/birjob/birjob/config"
	"github.com/birjob/birjob/internal/browsertest"
)

// TestBrowser_OutboxWithoutSMTP: on a node with no SMTP server (the
// embedded default of `make run`) the admin's #admin/mail shows the mail
// kept instead of sent, newest first and a page at a time: the sign-up's
// confirmation and an alert's instant mail, opened to its plain text. A
// hostile job title in the subject and the body stays text; the HTML part
// is in a frame sandboxed to nothing. A user without admin rights sees no
// Outbox and the API answers 403.
func TestBrowser_OutboxWithoutSMTP(t *testing.T) {
	cfg := testConfig(t)
	cfg.Demo = config.DemoOff
	cfg.Scrape = false
	a, _ := startApp(t, cfg)
	base := a.URL()

	// The admin first sees an empty outbox, and why mail is kept.
	admin := browsertest.New(t)
	signInTab(t, admin, base, `{"email":"admin@example.com","password":"admin-password"}`)
	browsertest.Do(t, admin, chromedp.Navigate("about:blank"), chromedp.Navigate(base+"/#admin/mail")) // (a new #fragment alone does not reload)
	browsertest.WaitVisible(t, admin, "#mail-list li.empty")
	if got := browsertest.Text(t, admin, "#mail-smtp"); got != "SMTP is not configured (BIRJOB_SMTP_URL): mail is kept here instead of sent." {
		t.Errorf("the outbox's first line: %q", got)
	}
	if got := browsertest.Eval[string](t, admin, `document.querySelector("#admin-nav a[aria-current=page]").textContent`); got != "Outbox" {
		t.Errorf("the admin's current part is %q, not Outbox", got)
	}

	// Ann signs up (a confirmation mail) and mails her alert's matches at
	// once; a job whose title is markup matches it.
	const hostile = `Go developer <img src=x onerror="document.title='pwned'">`
	jar, _ := cookiejar.New(nil)
	ann := &http.Client{Jar: jar}
	post(t, ann, base+"/api/signup", `{"email":"ann@example.com","password":"password-123"}`, 201)
	post(t, ann, base+"/api/alerts", `{"name":"go","query":"developer","email":"instant"}`, 201)
	jar, _ = cookiejar.New(nil)
	poster := &http.Client{Jar: jar}
	post(t, poster, base+"/api/login", `{"email":"admin@example.com","password":"admin-password"}`, 200)
	post(t, poster, base+"/api/jobs", fmt.Sprintf(`{"title":%q,"url":"https://example.com/jobs/x","company":"Acme <b>Inc</b>"}`, hostile), 201)

	// The alert's mail waits for its burst window: Refresh each second
	// until it is in.
	subject := "New job for go: " + hostile
	browsertest.WaitTrue(t, admin, fmt.Sprintf(`(() => {
		const subjects = [...document.querySelectorAll("#mail-list li[data-id] .mail-subject")].map(s => s.textContent);
		if (subjects.includes(%q) && subjects.length === 2) return true;
		if (Date.now() - (window.__asked || 0) > 1000) {
			window.__asked = Date.now();
			document.querySelector("#mail-refresh").click();
		}
		return false;
	})()`, subject))
	cards := browsertest.Eval[[]string](t, admin, `[...document.querySelectorAll("#mail-list li[data-id]")].map(li =>
		[li.querySelector(".mail-subject").textContent, li.querySelector(".to").textContent, li.querySelector(".badge").textContent,
		 li.querySelector("time").title ? "titled" : "untitled", li.querySelector("time").textContent].join(" | "))`)
	if len(cards) != 2 || !strings.HasPrefix(cards[0], subject+" | to ann@example.com | alert | titled | ") ||
		!strings.HasPrefix(cards[1], "Confirm your email address for birjob | to ann@example.com | account mail | titled | ") {
		t.Errorf("outbox cards, newest first:\n%s", strings.Join(cards, "\n"))
	}
	if n := browsertest.Eval[int](t, admin, `document.querySelectorAll("#mail-list img, #mail-list b").length`); n != 0 {
		t.Errorf("%d elements made of the mail's markup", n)
	}

	// Opened: the plain-text part, as text.
	browsertest.Do(t, admin, chromedp.Click(chromedp.CSS("#mail-list li[data-id] summary")))
	browsertest.WaitVisible(t, admin, "#mail-list li[data-id] details[open] pre.mail-text")
	text := browsertest.Text(t, admin, "#mail-list li[data-id] pre.mail-text")
	if !strings.Contains(text, hostile) || !strings.Contains(text, "https://example.com/jobs/x") {
		t.Errorf("the alert mail's text:\n%s", text)
	}
	// The HTML part: a frame that runs nothing and is of no origin.
	browsertest.Do(t, admin, chromedp.Click(chromedp.CSS("#mail-list li[data-id] details details summary")))
	browsertest.WaitTrue(t, admin, `document.querySelector("#mail-list iframe.mail-html")`)
	frame := browsertest.Eval[string](t, admin, `(f => [f.getAttribute("sandbox"), f.contentDocument === null, f.srcdoc.includes("&lt;img src=x")].join(" "))(document.querySelector("#mail-list iframe.mail-html"))`)
	if frame != " true true" {
		t.Errorf("the HTML part's frame: sandbox, closed, escaped = %q, want %q", frame, " true true")
	}
	if got := browsertest.Eval[string](t, admin, `document.title`); got == "pwned" {
		t.Error("the mail's markup ran")
	}

	// Pages of 50: the older mail is one "Load older mail" away.
	for i := range 50 {
		if err := a.store.AddOutboxMail(context.Background(), "bob@example.com", fmt.Sprintf("filler %d", i), "Subject: x\r\n\r\nfiller"); err != nil {
			t.Fatal(err)
		}
	}
	browsertest.Do(t, admin, chromedp.Click(chromedp.CSS("#mail-refresh")))
	browsertest.WaitTrue(t, admin, `document.querySelectorAll("#mail-list li[data-id]").length === 50 && !document.querySelector("#mail-more").hidden`)
	browsertest.Do(t, admin, chromedp.Click(chromedp.CSS("#mail-more")))
	browsertest.WaitTrue(t, admin, `document.querySelectorAll("#mail-list li[data-id]").length === 52 && document.querySelector("#mail-more").hidden`)
	if last := browsertest.Eval[string](t, admin, `[...document.querySelectorAll("#mail-list .mail-subject")].pop().textContent`); last != "Confirm your email address for birjob" {
		t.Errorf("the oldest mail shown last is %q", last)
	}

	// Ann is no admin: no Admin tab nor Outbox, and the API says no.
	user := browsertest.New(t)
	signInTab(t, user, base, `{"email":"ann@example.com","password":"password-123"}`)
	browsertest.Do(t, user, chromedp.Navigate("about:blank"), chromedp.Navigate(base+"/#admin/mail"))
	browsertest.WaitVisible(t, user, "#who")
	if shown := browsertest.Eval[string](t, user, `[...document.querySelectorAll("#nav a[data-tab=admin], #admin-nav a[data-admin=mail], #mail-list")].filter(e => e.getClientRects().length).map(e => e.id || e.textContent).join(",")`); shown != "" {
		t.Errorf("a user sees %q", shown)
	}
	if st, _ := pageFetch(t, user, "GET", "/api/admin/mail", nil); st != 403 {
		t.Errorf("GET /api/admin/mail as a user: %d, want 403", st)
	}
}

// signInTab signs tab in with the login JSON, on base's page.
func signInTab(t *testing.T, tab context.Context, base, login string) {
	t.Helper()
	browsertest.Do(t, tab, chromedp.Navigate(base+"/"))
	code := browsertest.Run(t, tab, chromedp.Evaluate[int](`fetch("/api/login", {method: "POST", headers: {"Content-Type": "application/json"}, body: `+"`"+login+"`"+`}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if code != 200 {
		t.Fatalf("sign in %s: %d", login, code)
	}
}
