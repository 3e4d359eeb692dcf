package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/birjob/birjob/internal/browsertest"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

const page = `<!doctype html><title>t</title><p id="a">hello</p><script src="/s.js"></script>`

const script = `console.log("ready");
setTimeout(() => { const p = document.createElement("p"); p.id = "late"; p.textContent = "later"; document.body.append(p); }, 50);
window.addEventListener("click", () => { throw new Error("boom on click"); });`

func serve(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/s.js" {
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, script)
			return
		}
		fmt.Fprint(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestNew_WaitsEvaluatesAndRecordsConsole(t *testing.T) {
	url := serve(t)
	ctx := browsertest.New(t)
	browsertest.Do(t, ctx, chromedp.Navigate(url))
	browsertest.WaitVisible(t, ctx, "#late")
	if got := browsertest.Text(t, ctx, "#a"); got != "hello" {
		t.Errorf("text = %q", got)
	}
	if got := browsertest.Eval[int](t, ctx, `1 + 2`); got != 3 {
		t.Errorf("eval = %d", got)
	}
	browsertest.WaitTrue(t, ctx, `document.querySelectorAll("p").length === 2`)
	p := filepath.Join(t.TempDir(), "shot.png")
	browsertest.Screenshot(t, ctx, p)
	if b, err := os.ReadFile(p); err != nil || !strings.HasPrefix(string(b), "\x89PNG") {
		t.Errorf("screenshot is not a PNG: %v", err)
	}
	found := false
	for _, m := range browsertest.From(ctx).Console() {
		found = found || m.Text == "ready"
	}
	if !found {
		t.Errorf("console.log not recorded: %v", browsertest.From(ctx).Console())
	}
}

func TestNew_RecordsExceptions(t *testing.T) {
	url := serve(t)
	ctx := browsertest.New(t)
	b := browsertest.From(ctx)
	b.AllowExceptions = true // this test provokes one on purpose
	browsertest.Do(t, ctx, chromedp.Navigate(url), chromedp.Click(chromedp.CSS("#a")))
	m := browsertest.WaitConsole(t, ctx, func(m chromedp.ConsoleMessage) bool { return m.IsException() })
	if !strings.Contains(m.Text, "boom on click") {
		t.Errorf("exception = %q", m.Text)
	}
	if ex := b.Exceptions(); len(ex) != 1 || !strings.Contains(ex[0], "boom on click") {
		t.Errorf("exceptions = %v", ex)
	}
}

// TestNewTab_SharesTheBrowserContext: tabs of NewTab share storage and Web
// Locks (one browser context), a tab of New does not; Close releases a
// closed tab's lock to the tab waiting for it.
func TestNewTab_SharesTheBrowserContext(t *testing.T) {
	url := serve(t)
	ctx := browsertest.New(t)
	one, two := browsertest.NewTab(t, ctx), browsertest.NewTab(t, ctx)
	browsertest.Do(t, one, chromedp.Navigate(url))
	browsertest.Do(t, two, chromedp.Navigate(url))
	browsertest.Eval[bool](t, one, `(localStorage.setItem("x", "1"), true)`)
	if got := browsertest.Eval[string](t, two, `localStorage.getItem("x") || ""`); got != "1" {
		t.Errorf("second tab reads %q from localStorage, want the first tab's 1", got)
	}
	other := browsertest.New(t)
	browsertest.Do(t, other, chromedp.Navigate(url))
	if got := browsertest.Eval[string](t, other, `localStorage.getItem("x") || ""`); got != "" {
		t.Errorf("a tab of another browser context reads %q", got)
	}

	browsertest.Eval[bool](t, one, `(navigator.locks.request("l", () => { window.held = true; return new Promise(() => {}); }), true)`)
	browsertest.WaitTrue(t, one, `window.held`)
	browsertest.Eval[bool](t, two, `(navigator.locks.request("l", () => { window.held = true; return new Promise(() => {}); }), true)`)
	if browsertest.Eval[bool](t, two, `!!window.held`) {
		t.Fatal("both tabs hold the lock")
	}
	browsertest.Close(t, one)
	browsertest.WaitTrue(t, two, `window.held`)
}
