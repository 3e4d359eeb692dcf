package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/birjob/birjob/config"
	"github.com/birjob/birjob/internal/browsertest"
	"github.com/birjob/birjob/model"
)

// TestBrowser_AdminSourceHealth: a source paused after failing runs shows,
// on the admin page, its state, failure streak and the reason; "Resume"
// enables it and the pause is gone.
func TestBrowser_AdminSourceHealth(t *testing.T) {
	cfg := testConfig(t)
	cfg.Demo = config.DemoOff
	cfg.AllowPrivate = "true" // the test's board is on loopback
	cfg.PauseAfterFailures = 1
	a, _ := startApp(t, cfg)
	board := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(board.Close)
	ctx := context.Background()
	src, err := a.parts.scraper.CreateSource(ctx, model.Source{Name: "broken board", Kind: model.SourceRSS,
		URL: board.URL + "/feed.xml", Schedule: "@every 1h", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	_, done, err := a.parts.scraper.RunNow(ctx, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.Status != "failed" {
			t.Fatalf("run = %+v", r)
		}
	case <-time.After(time.Minute):
		t.Fatal("run did not finish")
	}

	b := browsertest.New(t)
	browsertest.Do(t, b,
		chromedp.Navigate(a.URL()+"/"),
		chromedp.Click(chromedp.CSS("#signin-open")),
		chromedp.SendKeys(chromedp.CSS("#auth-email"), "admin@example.com"),
		chromedp.SendKeys(chromedp.CSS("#auth-password"), "admin-password"),
		chromedp.Click(chromedp.CSS("#auth-login")),
	)
	browsertest.WaitVisible(t, b, `#nav a[data-tab="admin"]`)
	browsertest.Do(t, b, chromedp.Navigate(a.URL()+"/#admin"))
	row := `#sources-list tr[data-id="` + strconv.FormatInt(src.ID, 10) + `"]`
	browsertest.WaitVisible(t, b, row+` [data-health="paused"]`)
	text := browsertest.Text(t, b, row)
	for _, want := range []string{"1 failed run in a row", "paused automatically after 1 failed run in a row", "HTTP 500", "Resume"} {
		if !strings.Contains(text, want) {
			t.Errorf("the source's row does not say %q: %s", want, text)
		}
	}
	browsertest.Eval[bool](t, b, `([...document.querySelectorAll(`+"`"+row+` button`+"`"+`)].find(x => x.textContent === "Resume").click(), true)`)
	// Enabled again; its last run did fail, and its host may still be
	// backing off from that HTTP 500 (2 s ± jitter): either state is right.
	browsertest.WaitVisible(t, b, row+` [data-health="failing"], `+row+` [data-health="backoff"]`)
	if text := browsertest.Text(t, b, row); strings.Contains(text, "paused automatically") || !strings.Contains(text, "enabled") {
		t.Errorf("after Resume: %s", text)
	}
}
