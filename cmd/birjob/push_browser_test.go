package main

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"

	"github.com/birjob/birjob/courier"
	"github.com/birjob/birjob/internal/browsertest"
)

// startPushApp starts a node whose push endpoints may be on loopback (the
// subscriptions the tests make through the API point there).
func startPushApp(t *testing.T) *App {
	t.Helper()
	cfg := streamTestConfig(t)
	cfg.AllowPrivate = "true"
	a, _ := startApp(t, cfg)
	return a
}

// grantNotifications allows notifications for origin in the browser
// context of tab, as a user's "Allow" would.
func grantNotifications(t *testing.T, tab context.Context, origin string) {
	t.Helper()
	c := chromedp.FromContext(tab)
	_, err := chromedp.CallBrowser(tab, browser.SetPermission, browser.SetPermissionParams{
		Permission:       &browser.PermissionDescriptor{Name: "notifications"},
		Setting:          browser.PermissionSettingGranted,
		Origin:           origin,
		BrowserContextID: c.BrowserContextID,
	})
	if err != nil {
		t.Fatalf("grant notifications: %v", err)
	}
}

// workerScope waits until the page's service worker is active and
// returns its registration's scope.
func workerScope(t *testing.T, tab context.Context) string {
	t.Helper()
	return browsertest.Run(t, tab, chromedp.Evaluate[string](`navigator.serviceWorker.ready.then(r => r.scope)`, chromedp.EvalAwaitPromise))
}

// pageFetch makes an API call from the page (with its session) and
// returns the status and the decoded body.
// An answer that is a JSON array comes back as {"items": [...]}.
func pageFetch(t *testing.T, tab context.Context, method, path string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	if body == nil {
		b = []byte("undefined")
	}
	type answer struct {
		Status int            `json:"status"`
		Body   map[string]any `json:"body"`
	}
	expr := fmt.Sprintf(`fetch(%q, {method: %q, headers: {"Content-Type": "application/json"}, body: (b => b === undefined ? undefined : JSON.stringify(b))(%s)})
		.then(async r => ({status: r.status, body: r.status === 204 ? {} : (j => Array.isArray(j) ? {items: j} : j)(await r.json())}))`, path, method, b)
	out := browsertest.Run(t, tab, chromedp.Evaluate[answer](expr, chromedp.EvalAwaitPromise))
	return out.Status, out.Body
}

// fakeSubscription is what PushSubscription.toJSON() gives, for a browser
// that is not there: a valid P-256 key and auth secret, an endpoint on
// loopback.
func fakeSubscription(t *testing.T, endpoint string) map[string]any {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	return map[string]any{"endpoint": endpoint, "keys": map[string]string{
		"p256dh": base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()),
		"auth":   base64.RawURLEncoding.EncodeToString(secret),
	}}
}

// TestBrowser_PushSettings drives the "When the page is closed" panel: the
// page registers its service worker at scope "/"; the push toggle either
// subscribes this browser (listed as "this browser") or, where headless
// Chromium cannot reach a push service, says why and stays off; the list
// shows the browsers subscribed through the API and removes one; an
// alert's mail mode and the digest's time zone (the browser's by default)
// are saved and read back.
func TestBrowser_PushSettings(t *testing.T) {
	a := startPushApp(t)
	base := a.URL()
	u := newPageUser(t, base)
	tab := u.tabs[0]
	if got := workerScope(t, tab); got != base+"/" {
		t.Fatalf("service worker scope %q, want %q", got, base+"/")
	}
	grantNotifications(t, u.ctx, base)

	// The toggle: on, or a clear error where there is no push service.
	browsertest.WaitTrue(t, tab, `document.querySelector("#push-list li")`)
	browsertest.Do(t, tab, chromedp.Click(chromedp.CSS("#push-toggle")))
	browsertest.WaitTrue(t, tab, `(s => !s.hidden && !s.textContent.endsWith("…"))(document.querySelector("#push-status"))`)
	msg := browsertest.Text(t, tab, "#push-status")
	_, subs := pageFetch(t, tab, "GET", "/api/push/subscriptions", nil)
	n := len(subs["subscriptions"].([]any))
	if browsertest.Eval[bool](t, tab, `document.querySelector("#push-toggle").checked`) {
		t.Logf("push subscribed in headless Chromium: %q", msg)
		if n != 1 || !strings.HasPrefix(msg, "Push is on") {
			t.Errorf("toggle on: %d subscriptions on the server, status %q", n, msg)
		}
		browsertest.WaitVisible(t, tab, "#push-list li.here")
		browsertest.Do(t, tab, chromedp.Click(chromedp.CSS("#push-toggle")))
		browsertest.WaitTrue(t, tab, `document.querySelector("#push-status").textContent.startsWith("Push is off")`)
		_, subs = pageFetch(t, tab, "GET", "/api/push/subscriptions", nil)
		if n := len(subs["subscriptions"].([]any)); n != 0 {
			t.Errorf("toggle off: %d subscriptions left", n)
		}
	} else {
		t.Logf("no push service in headless Chromium: %q", msg)
		if !strings.HasPrefix(msg, "Push could not be turned on: ") || len(msg) <= len("Push could not be turned on: ") || n != 0 {
			t.Errorf("failed toggle: status %q, %d subscriptions on the server", msg, n)
		}
	}

	// Browsers subscribed elsewhere are listed; one is removed.
	for i, ua := range []string{"a", "b"} {
		st, out := pageFetch(t, tab, "POST", "/api/push/subscriptions", fakeSubscription(t, fmt.Sprintf("http://127.0.0.1:9/push/%s", ua)))
		if st != 201 {
			t.Fatalf("subscription %d: %d %v", i, st, out)
		}
	}
	browsertest.Do(t, tab, chromedp.Reload())
	browsertest.WaitTrue(t, tab, `document.querySelectorAll("#push-list li[data-id]").length === 2`)
	first := browsertest.Eval[string](t, tab, `document.querySelector("#push-list li[data-id]").dataset.id`)
	label := browsertest.Eval[string](t, tab, `document.querySelector("#push-list li[data-id] button").getAttribute("aria-label")`)
	if !strings.HasPrefix(label, "Stop push to ") {
		t.Errorf("remove button labelled %q", label)
	}
	browsertest.Do(t, tab, chromedp.Click(chromedp.CSS(`#push-list li[data-id] button`)))
	browsertest.WaitTrue(t, tab, fmt.Sprintf(`document.querySelectorAll("#push-list li[data-id]").length === 1 && !document.querySelector('#push-list li[data-id="%s"]')`, first))
	_, subs = pageFetch(t, tab, "GET", "/api/push/subscriptions", nil)
	if list := subs["subscriptions"].([]any); len(list) != 1 || fmt.Sprint(list[0].(map[string]any)["id"]) == first {
		t.Errorf("after removing %s the server lists %v", first, list)
	}

	// The alert's mail mode, saved at once and shown after a reload.
	browsertest.Eval[bool](t, tab, `(s => (s.value = "daily", s.dispatchEvent(new Event("change")), true))(document.querySelector("#alerts-list li.alert select.email-mode"))`)
	browsertest.WaitTrue(t, tab, `document.querySelector("#alerts-list li.alert .email .status").textContent === "Saved."`)
	_, alerts := pageFetch(t, tab, "GET", "/api/alerts", nil)
	if got := alerts["alerts"].([]any)[0].(map[string]any)["email"]; got != "daily" {
		t.Errorf("alert email %v after choosing daily", got)
	}
	browsertest.Do(t, tab, chromedp.Reload())
	browsertest.WaitVisible(t, tab, "#alerts-list li.alert")
	if got := browsertest.Eval[string](t, tab, `document.querySelector("#alerts-list li.alert select.email-mode").value`); got != "daily" {
		t.Errorf("mail mode shows %q after a reload, want daily", got)
	}

	// The digest's time zone: the browser's by default, saved on request.
	if _, err := chromedp.Call(tab, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Baku"}); err != nil {
		t.Fatal(err)
	}
	browsertest.Do(t, tab, chromedp.Reload())
	browsertest.WaitTrue(t, tab, `document.querySelector("#tz").value === "Asia/Baku"`)
	if got := browsertest.Text(t, tab, "#tz-status"); !strings.Contains(got, "Not saved yet") {
		t.Errorf("unsaved default time zone: status %q", got)
	}
	browsertest.Do(t, tab, chromedp.Click(chromedp.CSS("#tz-save")))
	browsertest.WaitTrue(t, tab, `document.querySelector("#tz-status").textContent.startsWith("Saved")`)
	if _, out := pageFetch(t, tab, "GET", "/api/me/notifications", nil); out["timeZone"] != "Asia/Baku" {
		t.Errorf("time zone %v after saving Asia/Baku", out["timeZone"])
	}
	browsertest.Eval[bool](t, tab, `(s => (s.value = "America/New_York", true))(document.querySelector("#tz"))`)
	browsertest.Do(t, tab, chromedp.Click(chromedp.CSS("#tz-save")))
	browsertest.WaitTrue(t, tab, `document.querySelector("#tz-status").textContent.includes("America/New_York")`)
	if _, out := pageFetch(t, tab, "GET", "/api/me/notifications", nil); out["timeZone"] != "America/New_York" {
		t.Errorf("time zone %v after saving America/New_York", out["timeZone"])
	}
}

// workerRegistration returns the id of the service worker registration
// of scope, from the ServiceWorker domain's events.
func workerRegistration(t *testing.T, tab context.Context, scope string) serviceworker.RegistrationID {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browsertest.DefaultTimeout)
	defer cancel()
	events := chromedp.Events(ctx, serviceworker.WorkerRegistrationUpdated)
	if _, err := chromedp.Call(ctx, serviceworker.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("ServiceWorker.enable: %v", err)
	}
	for ev, err := range events {
		if err != nil {
			t.Fatalf("no service worker registration of scope %s: %v", scope, err)
		}
		for _, r := range ev.Registrations {
			if r.ScopeURL == scope && !r.IsDeleted {
				return r.RegistrationID
			}
		}
	}
	t.Fatalf("no service worker registration of scope %s", scope)
	return ""
}

// TestBrowser_PushShowsNotification delivers the courier's push for a real
// match to the page's service worker through the DevTools protocol: while
// a birjob tab is visible the worker stays quiet; with none, it shows one
// notification with the alert's tag and the job's URL, and its click (run
// by the worker at the page's request, as CDP cannot click a
// notification) opens the job.
func TestBrowser_PushShowsNotification(t *testing.T) {
	a := startPushApp(t)
	base := a.URL()
	u := newPageUser(t, base)
	tab := u.tabs[0]
	scope := base + "/"
	if got := workerScope(t, tab); got != scope {
		t.Fatalf("service worker scope %q, want %q", got, scope)
	}
	grantNotifications(t, u.ctx, base)
	reg := workerRegistration(t, tab, scope)

	jobID := u.ingest("Senior Golang developer")
	browsertest.WaitTrue(t, tab, fmt.Sprintf(`document.querySelector('#alerts-list .matches li[data-id="%s"]')`, jobID))
	_, alerts := pageFetch(t, tab, "GET", "/api/alerts", nil)
	alert := alerts["alerts"].([]any)[0].(map[string]any)
	var jobURL string
	for _, m := range alert["matches"].([]any) {
		if j := m.(map[string]any); fmt.Sprint(j["id"]) == jobID {
			jobURL = fmt.Sprint(j["url"])
		}
	}
	if jobURL == "" {
		t.Fatalf("job %s is not among the alert's matches: %v", jobID, alert["matches"])
	}
	var aid, jid int64
	fmt.Sscan(fmt.Sprint(alert["id"]), &aid)
	fmt.Sscan(jobID, &jid)
	payload := func(tag string) string {
		b, _ := json.Marshal(courier.Payload{Title: "New job for Go anywhere", Body: "Senior Golang developer — Acme", URL: jobURL, Tag: tag, Count: 1, Alert: aid, Job: jid})
		return string(b)
	}
	deliver := func(data string) {
		t.Helper()
		if _, err := chromedp.Call(tab, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{Origin: base, RegistrationID: reg, Data: data}); err != nil {
			t.Fatalf("deliver a push: %v", err)
		}
	}

	// A visible tab: the worker tells it it stayed quiet, and shows nothing.
	browsertest.Eval[bool](t, tab, `(window.__quiet = [], navigator.serviceWorker.addEventListener("message", e => e.data?.type === "push-quiet" && window.__quiet.push(e.data.tag)), navigator.serviceWorker.startMessages(), true)`)
	deliver(payload("alert-quiet"))
	browsertest.WaitTrue(t, tab, `window.__quiet.includes("alert-quiet")`)

	// No birjob tab: a notification.
	tag := fmt.Sprintf("alert-%v", alert["id"])
	browsertest.Do(t, tab, chromedp.Navigate("about:blank"))
	deliver(payload(tag))
	browsertest.Do(t, tab, chromedp.Navigate(base+"/?probe=1#alerts"))
	// waitShown waits until the worker shows a notification, and lists them.
	waitShown := `navigator.serviceWorker.ready.then(r => new Promise(ok => {
		const look = () => r.getNotifications().then(ns => ns.length ? ok(ns.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url}))) : setTimeout(look, 20));
		look();
	}))`
	type shown struct {
		Title string `json:"title"`
		Body  string `json:"body"`
		Tag   string `json:"tag"`
		URL   string `json:"url"`
	}
	got := browsertest.Run(t, tab, chromedp.Evaluate[[]shown](waitShown, chromedp.EvalAwaitPromise))
	if len(got) != 1 || got[0].Tag != tag || got[0].URL != jobURL || got[0].Title != "New job for Go anywhere" || got[0].Body != "Senior Golang developer — Acme" {
		t.Fatalf("notifications %+v, want one tagged %s for %s", got, tag, jobURL)
	}

	// Its click, run by the worker's click code at the page's request: it
	// opens the job's page in a new window. Chromium allows openWindow only
	// while a real click is handled, which CDP cannot make, so the worker
	// reports the browser's refusal after the decision.
	click := func(tag string, wait bool) map[string]string {
		t.Helper()
		js := fmt.Sprintf(`navigator.serviceWorker.ready.then(r => new Promise(ok => {
			const ch = new MessageChannel();
			ch.port1.onmessage = e => ok(e.data);
			r.active.postMessage({type: "open-notification", tag: %q}, [ch.port2]);
			if (!%v) ok({});
		}))`, tag, wait)
		return browsertest.Run(t, tab, chromedp.Evaluate[map[string]string](js, chromedp.EvalAwaitPromise))
	}
	res := click(tag, true)
	t.Logf("click on a single match: %v", res)
	if res["action"] != "open" || res["url"] != jobURL || (res["error"] != "" && res["error"] != "Not allowed to open a window.") {
		t.Errorf("the click did %v, want to open %s", res, jobURL)
	}
	if n := browsertest.Run(t, tab, chromedp.Evaluate[int](`navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => ns.length)`, chromedp.EvalAwaitPromise)); n != 0 {
		t.Errorf("%d notifications left after the click", n)
	}

	// Several matches: the push names birjob's page of the alert, and the
	// click takes the open birjob tab there.
	browsertest.Do(t, tab, chromedp.Navigate("about:blank"))
	many, _ := json.Marshal(courier.Payload{Title: "2 new jobs for Go anywhere", URL: fmt.Sprintf("/?alert=%d", aid), Tag: tag, Count: 2, Alert: aid})
	deliver(string(many))
	browsertest.Do(t, tab, chromedp.Navigate(base+"/#alerts"))
	browsertest.WaitTrue(t, tab, `navigator.serviceWorker.controller`)
	if got := browsertest.Run(t, tab, chromedp.Evaluate[[]shown](waitShown, chromedp.EvalAwaitPromise)); len(got) != 1 || got[0].Title != "2 new jobs for Go anywhere" {
		t.Fatalf("notifications %+v, want the one of 2 jobs", got)
	}
	want := fmt.Sprintf("%s/?alert=%d", base, aid)
	navCtx, cancel := context.WithTimeout(tab, browsertest.DefaultTimeout)
	defer cancel()
	navigated := chromedp.Events(navCtx, page.FrameNavigated)
	click(tag, false)
	for ev, err := range navigated {
		if err != nil {
			t.Fatalf("the click did not take the tab to %s: %v", want, err)
		}
		if ev.Frame.ParentID == "" && ev.Frame.URL == want {
			break
		}
	}
	// The page there shows the alert's card.
	browsertest.WaitVisible(t, tab, fmt.Sprintf(`#alerts-list li.alert[data-id="%d"][data-linked]`, aid))
}
