package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/birjob/birjob/internal/browsertest"
)

// TestAxe_ReportsViolationsUnderStrictCSP: axe-core runs in a page whose
// Content-Security-Policy allows no inline or foreign script, finds its
// real problems (an image without a text alternative; grey text that is
// readable in light mode and not in dark mode), and finds none once they
// are fixed. Emulate switches the color scheme and the viewport.
func TestAxe_ReportsViolationsUnderStrictCSP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'")
		if r.URL.Path == "/s.css" {
			w.Header().Set("Content-Type", "text/css")
			fmt.Fprint(w, `body { background: #fff; color: #555; } @media (prefers-color-scheme: dark) { body { background: #000; color: #222; } }`)
			return
		}
		alt := ""
		if r.URL.Query().Has("fixed") {
			alt = ` alt="a dot"`
		}
		fmt.Fprintf(w, `<!doctype html><html lang="en"><meta name="viewport" content="width=device-width"><title>t</title><link rel="stylesheet" href="/s.css"><main><h1>Hello</h1><p>Some text.</p><img src="/dot.svg"%s></main>`, alt)
	}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	ids := func() map[string]bool {
		out := map[string]bool{}
		for _, v := range browsertest.Axe(t, ctx) {
			out[v.ID] = true
		}
		return out
	}

	browsertest.Emulate(t, ctx, browsertest.Desktop)
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	if got := ids(); !got["image-alt"] || got["color-contrast"] {
		t.Errorf("light, no alt: violations %v, want image-alt and no color-contrast", got)
	}
	browsertest.Do(t, ctx, chromedp.Navigate(srv.URL+"/?fixed"))
	if got := ids(); len(got) != 0 {
		t.Errorf("light, fixed: violations %v, want none", got)
	}
	browsertest.Emulate(t, ctx, browsertest.Phone.WithDark())
	if got := browsertest.Eval[[]any](t, ctx, `[matchMedia("(prefers-color-scheme: dark)").matches, innerWidth]`); got[0] != true || got[1] != 390.0 {
		t.Errorf("phone, dark: (dark, width) = %v, want (true, 390)", got)
	}
	if got := ids(); !got["color-contrast"] {
		t.Errorf("dark: violations %v, want color-contrast", got)
	}
}
