package app

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/birjob/birjob/config"
	"github.com/birjob/birjob/internal/browsertest"
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
