package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/birjob/birjob/internal/browsertest"
)

// TestBrowser_AccountPageRealBackend drives the account page (#account)
// and an alert's mute against a real node: the push browsers listed and
// one removed, the digest's time zone saved, a section shown exactly when
// its list endpoint answers (the account API of issue 14 may not be
// there: a 404 hides it), and "Mute" stored on the alert.
func TestBrowser_AccountPageRealBackend(t *testing.T) {
	a := startPushApp(t)
	base := a.URL()
	u := newPageUser(t, base)
	tab := u.tabs[0]
	for _, name := range []string{"a", "b"} {
		if st, out := pageFetch(t, tab, "POST", "/api/push/subscriptions", fakeSubscription(t, "http://127.0.0.1:9/push/"+name)); st != 201 {
			t.Fatalf("subscription %s: %d %v", name, st, out)
		}
	}

	// Mute, from the alert's card.
	browsertest.Do(t, tab, chromedp.Click(chromedp.CSS("#alerts-list li.alert button.mute")))
	browsertest.WaitVisible(t, tab, "#alerts-list li.alert.muted .muted-badge")
	if _, out := pageFetch(t, tab, "GET", "/api/alerts", nil); out["alerts"].([]any)[0].(map[string]any)["muted"] != true {
		t.Errorf("alert after Mute: %v", out["alerts"])
	}

	browsertest.Do(t, tab, chromedp.Click(chromedp.CSS("#who")))
	browsertest.WaitVisible(t, tab, "#acct-email")
	if got := browsertest.Text(t, tab, "#acct-address"); got != "ann@example.com" {
		t.Errorf("account email %q", got)
	}
	browsertest.WaitTrue(t, tab, `document.querySelector("#acct-mail").dataset.loaded && document.querySelectorAll("#acct-push-list li[data-id]").length === 2`)
	for section, path := range map[string]string{"acct-sessions": "/api/me/sessions", "acct-tokens": "/api/tokens"} {
		st, _ := pageFetch(t, tab, "GET", path, nil)
		want := st != 404
		browsertest.WaitTrue(t, tab, fmt.Sprintf(`(s => s.dataset.unavailable || s.querySelector("li"))(document.getElementById(%q))`, section))
		if shown := !browsertest.Eval[bool](t, tab, fmt.Sprintf(`document.getElementById(%q).hidden`, section)); shown != want {
			t.Errorf("#%s shown = %v with GET %s answering %d", section, shown, path, st)
		}
	}

	// A sign-in is named as people know it, the whole User-Agent in its title.
	if who := browsertest.Eval[string](t, tab, `(w => w.textContent + " | " + w.title)(document.querySelector("#acct-sessions li .badge").parentElement.querySelector(".who"))`); !strings.HasPrefix(who, "Chrome on Linux | Mozilla/5.0") {
		t.Errorf("this browser's sign-in reads %q, want \"Chrome on Linux\" with the User-Agent as its title", who)
	}

	first := browsertest.Eval[string](t, tab, `document.querySelector("#acct-push-list li[data-id]").dataset.id`)
	browsertest.Do(t, tab, chromedp.Click(chromedp.CSS(`#acct-push-list li[data-id] button`)))
	browsertest.WaitTrue(t, tab, fmt.Sprintf(`document.querySelectorAll("#acct-push-list li[data-id]").length === 1 && !document.querySelector('#acct-push-list li[data-id="%s"]')`, first))
	if _, subs := pageFetch(t, tab, "GET", "/api/push/subscriptions", nil); len(subs["subscriptions"].([]any)) != 1 {
		t.Errorf("after removing %s the server lists %v", first, subs["subscriptions"])
	}

	browsertest.Eval[bool](t, tab, `(s => (s.value = "Europe/Berlin", true))(document.querySelector("#acct-tz"))`)
	browsertest.Do(t, tab, chromedp.Click(chromedp.CSS(`#acct-mail-form button[type="submit"]`)))
	browsertest.WaitTrue(t, tab, `document.querySelector("#acct-mail .status").textContent.startsWith("Saved")`)
	if _, out := pageFetch(t, tab, "GET", "/api/me/notifications", nil); out["timeZone"] != "Europe/Berlin" {
		t.Errorf("time zone %v after saving Europe/Berlin", out["timeZone"])
	}
	if got := browsertest.Text(t, tab, "#acct-mail .status"); !strings.Contains(got, "Europe/Berlin") {
		t.Errorf("mail settings status %q", got)
	}
}
