package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/birjob/birjob/internal/browsertest"
	"github.com/birjob/birjob/internal/smtptest"
)

// TestBrowser_AccountPageRealBackend drives the account page (#account)
// and an alert's mute against a real node: the push browsers listed and
// one removed, the digest's time zone saved, the sections of the account
// API of issue 14 shown (a 404 would hide them: web's tests), and "Mute"
// stored on the alert.
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
		if st := browsertest.Run(t, tab, chromedp.Evaluate[int](fmt.Sprintf(`fetch(%q).then(r => r.status)`, path), chromedp.EvalAwaitPromise)); st != 200 {
			t.Errorf("GET %s: %d", path, st)
		}
		browsertest.WaitTrue(t, tab, fmt.Sprintf(`(s => s.dataset.unavailable || s.querySelector("li"))(document.getElementById(%q))`, section))
		if browsertest.Eval[bool](t, tab, fmt.Sprintf(`document.getElementById(%q).hidden`, section)) {
			t.Errorf("#%s hidden with the account API there", section)
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

// The account flows of issue 14 driven through the page (web/static/
// account.js) against a real node: mails go to a real SMTP server
// (smtptest) and the links in them are opened in the page; streams are the
// browsers' own.

const (
	verifySubject = "Confirm your email address for birjob"
	resetSubject  = "Reset your birjob password"
)

// mailNode starts a node without the demo board that sends its account
// mail to a test SMTP server; requireVerification is
// BIRJOB_REQUIRE_EMAIL_VERIFICATION.
func mailNode(t *testing.T, requireVerification bool) (*App, *smtptest.Server) {
	t.Helper()
	smtpd := smtptest.New(t)
	cfg := streamTestConfig(t)
	cfg.SMTPURL, cfg.MailFrom = smtpd.URL(), "birjob@example.com"
	cfg.RequireEmailVerification = requireVerification
	a, _ := startApp(t, cfg)
	return a, smtpd
}

var accountLink = regexp.MustCompile(`https?://[^\s]+/\?(?:verify|reset)=[^\s]+`)

// waitMailLink waits for the next mail to `to` with subject and returns the
// link in it (other mails are passed over).
func waitMailLink(t *testing.T, smtpd *smtptest.Server, to, subject string) string {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		var m smtptest.Mail
		select {
		case m = <-smtpd.Mails:
		case <-deadline:
			t.Fatalf("no mail %q to %s within a minute", subject, to)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if len(m.To) != 1 || m.To[0] != to || got != subject {
			continue
		}
		var body io.Reader = msg.Body
		if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		raw, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		link := accountLink.FindString(string(raw))
		if link == "" {
			t.Fatalf("no link in the mail %q:\n%s", subject, raw)
		}
		return link
	}
}

// pageSignIn opens the page in a new browser (a browser context of its
// own) and signs up or in through the sign-in panel; it returns once the
// personal channel is live.
func pageSignIn(t *testing.T, base, email, password string, signup bool) context.Context {
	t.Helper()
	tab := browsertest.New(t)
	browsertest.Do(t, tab, chromedp.Navigate(base+"/"))
	signInHere(t, tab, email, password, signup)
	return tab
}

// signInHere signs in (or up) through the sign-in panel of the page of tab.
func signInHere(t *testing.T, tab context.Context, email, password string, signup bool) {
	t.Helper()
	button := "#auth-login"
	if signup {
		button = "#auth-signup"
	}
	browsertest.Do(t, tab,
		chromedp.Click(chromedp.CSS("#signin-open")),
		chromedp.SetValue(chromedp.CSS("#auth-email"), email),
		chromedp.SetValue(chromedp.CSS("#auth-password"), password),
		chromedp.Click(chromedp.CSS(button)),
	)
	browsertest.WaitVisible(t, tab, "#who")
	browsertest.WaitTrue(t, tab, liveWithAlerts)
}

// click clicks the element sel in the page (a toast may cover its place on
// screen).
func click(t *testing.T, tab context.Context, sel string) {
	t.Helper()
	browsertest.Eval[bool](t, tab, fmt.Sprintf(`(document.querySelector(%q).click(), true)`, sel))
}

// submit submits the form of sel as its submit button would.
func submit(t *testing.T, tab context.Context, sel string) {
	t.Helper()
	browsertest.Eval[bool](t, tab, fmt.Sprintf(`(e => ((e.form || e).requestSubmit(), true))(document.querySelector(%q))`, sel))
}

// statusIs is a JS condition on the text of a section's .status.
func statusIs(section, cond string) string {
	return fmt.Sprintf(`(s => s && !s.hidden && (t => %s)(s.textContent))(document.querySelector("#%s .status"))`, cond, section)
}

// signedOutWith is a JS condition: the page is signed out and a toast says
// text (or said it: logToasts).
func signedOutWith(text string) string {
	return `!!document.querySelector("#signin-open") && !document.querySelector("#who") && ` + toastShown(text)
}

// TestBrowser_AccountVerification: the confirmation mail asked again from
// the account page is refused within a minute of the signup's (the page
// says when to ask), then sent; its link, from the real mail, opened in
// the page confirms the address and the page shows it; opened again it
// says it was used. Another browser whose page still offers to resend gets
// the 409 and shows the address confirmed.
func TestBrowser_AccountVerification(t *testing.T) {
	a, smtpd := mailNode(t, false)
	base := a.URL()
	ann := pageSignIn(t, base, "ann@example.com", "password-1", true)
	signupLink := waitMailLink(t, smtpd, "ann@example.com", verifySubject)
	other := pageSignIn(t, base, "ann@example.com", "password-1", false)
	for _, tab := range []context.Context{ann, other} {
		browsertest.Do(t, tab, chromedp.Navigate(base+"/#account"))
		browsertest.WaitTrue(t, tab, `document.querySelector("#acct-verified")?.textContent === "not confirmed yet" && !!document.querySelector("#acct-resend")`)
	}

	click(t, ann, "#acct-resend")
	browsertest.WaitTrue(t, ann, statusIs("acct-email", `/^Asked too often; try again in \d+ s\.$/.test(t)`))
	// A minute later, as far as the node can tell.
	if _, err := a.Pool().Exec(context.Background(), `UPDATE account_tokens SET created_at = created_at - interval '2 minutes'`); err != nil {
		t.Fatal(err)
	}
	click(t, ann, "#acct-resend")
	browsertest.WaitTrue(t, ann, statusIs("acct-email", `t === "Sent: open the link in the mail to ann@example.com."`))
	link := waitMailLink(t, smtpd, "ann@example.com", verifySubject)
	if link == signupLink || !strings.HasPrefix(link, base+"/?verify=") {
		t.Fatalf("the new mail links to %q (the signup's: %q)", link, signupLink)
	}

	browsertest.Do(t, ann, chromedp.Navigate(link))
	browsertest.WaitTrue(t, ann, `document.querySelector("#toasts").textContent.includes("Your email address ann@example.com is confirmed.")`)
	if got := browsertest.Eval[string](t, ann, `location.search`); got != "" {
		t.Errorf("the address keeps %q after the confirmation", got)
	}
	click(t, ann, "#who")
	browsertest.WaitTrue(t, ann, `document.querySelector("#acct-verified")?.textContent === "confirmed" && !document.querySelector("#acct-resend")`)
	if _, me := pageFetch(t, ann, "GET", "/api/me", nil); me["emailVerified"] != true {
		t.Errorf("GET /api/me after the link: %v", me)
	}

	// The other browser still offers to resend: the 409 shows the truth.
	click(t, other, "#acct-resend")
	browsertest.WaitTrue(t, other, `document.querySelector("#acct-verified")?.textContent === "confirmed" && !document.querySelector("#acct-resend")`)
	browsertest.WaitTrue(t, other, statusIs("acct-email", `t === "Your email address is confirmed already."`))

	browsertest.Do(t, ann, chromedp.Navigate(link))
	browsertest.WaitTrue(t, ann, `document.querySelector("#toasts .toast.error")?.textContent.includes("was already used")`)
}

// TestBrowser_AccountForgotPassword: "Forgot your password?" in the
// sign-in panel mails a reset link; opened from the real mail, the page
// asks for a new password and signs in with it. Every session of the
// account ended (an open stream too); its API token still works; the old
// password fails, the new one works; the link works once.
func TestBrowser_AccountForgotPassword(t *testing.T) {
	a, smtpd := mailNode(t, false)
	base := a.URL()
	ann := pageSignIn(t, base, "ann@example.com", "password-1", true)
	st, tok := pageFetch(t, ann, "POST", "/api/tokens", map[string]string{"name": "cron"})
	if st != 201 || tok["type"] != "Bearer" {
		t.Fatalf("POST /api/tokens: %d %v", st, tok)
	}
	script := &accountUser{t: t, base: base, http: http.DefaultClient, bearer: tok["token"].(string)}
	logToasts(t, ann) // its toast is looked for only once the reset is done

	tab := browsertest.New(t)
	browsertest.Do(t, tab, chromedp.Navigate(base+"/"),
		chromedp.Click(chromedp.CSS("#signin-open")),
		chromedp.SetValue(chromedp.CSS("#auth-email"), "ann@example.com"),
		chromedp.Click(chromedp.CSS("#auth-forgot")))
	browsertest.WaitVisible(t, tab, "#forgot-email")
	if got := browsertest.Eval[string](t, tab, `document.querySelector("#forgot-email").value`); got != "ann@example.com" {
		t.Errorf("the form starts with %q", got)
	}
	submit(t, tab, "#forgot-form")
	browsertest.WaitTrue(t, tab, `document.querySelector("#forgot-status").textContent === "If ann@example.com has an account, a link to reset its password is on its way."`)
	link := waitMailLink(t, smtpd, "ann@example.com", resetSubject)
	if !strings.HasPrefix(link, base+"/?reset=") {
		t.Fatalf("the mail links to %q", link)
	}
	click(t, tab, "#forgot-back")
	browsertest.WaitVisible(t, tab, "#auth-login")

	browsertest.Do(t, tab, chromedp.Navigate(link))
	browsertest.WaitVisible(t, tab, "#reset-password")
	browsertest.Do(t, tab, chromedp.SetValue(chromedp.CSS("#reset-password"), "password-2"), chromedp.SetValue(chromedp.CSS("#reset-again"), "password-3"))
	submit(t, tab, "#reset-form")
	browsertest.WaitTrue(t, tab, `document.querySelector("#reset-form .status").textContent === "The two passwords differ."`)
	browsertest.Do(t, tab, chromedp.SetValue(chromedp.CSS("#reset-again"), "password-2"))
	submit(t, tab, "#reset-form")
	browsertest.WaitVisible(t, tab, "#who")
	browsertest.WaitTrue(t, tab, `!document.querySelector("#reset-panel") && location.search === "" && document.querySelector("#who").textContent === "ann@example.com"`)
	browsertest.WaitTrue(t, tab, liveWithAlerts)

	browsertest.WaitTrue(t, ann, signedOutWith("Your session has ended"))
	script.must("GET", "/api/me", "", 200)
	newBrowser(t, base).must("POST", "/api/login", `{"email":"ann@example.com","password":"password-1"}`, 401)
	newBrowser(t, base).must("POST", "/api/login", `{"email":"ann@example.com","password":"password-2"}`, 200)

	again := browsertest.New(t)
	browsertest.Do(t, again, chromedp.Navigate(link))
	browsertest.WaitVisible(t, again, "#reset-password")
	browsertest.Do(t, again, chromedp.SetValue(chromedp.CSS("#reset-password"), "password-4"), chromedp.SetValue(chromedp.CSS("#reset-again"), "password-4"))
	submit(t, again, "#reset-form")
	browsertest.WaitTrue(t, again, `document.querySelector("#reset-form .status").textContent.includes("was already used")`)

	// A link opened in a browser signed in to the account (two tabs): the
	// reset ends its session too, but the page stays signed in with the
	// new cookie, and its stream comes back with the personal channel.
	if _, err := a.Pool().Exec(context.Background(), `UPDATE account_tokens SET created_at = created_at - interval '2 minutes'`); err != nil {
		t.Fatal(err)
	}
	newBrowser(t, base).must("POST", "/api/password/forgot", `{"email":"ann@example.com"}`, 202)
	link = waitMailLink(t, smtpd, "ann@example.com", resetSubject)
	if st, out := pageFetch(t, tab, "POST", "/api/alerts", map[string]string{"name": "Go", "query": "golang"}); st != 201 {
		t.Fatalf("POST /api/alerts: %d %v", st, out)
	}
	browsertest.Do(t, tab, chromedp.Navigate(base+"/#alerts"), chromedp.Reload())
	browsertest.WaitVisible(t, tab, "#alerts-list li.alert")
	follower := browsertest.NewTab(t, tab)
	browsertest.Do(t, follower, chromedp.Navigate(base+"/#alerts"))
	browsertest.WaitTrue(t, follower, liveWithAlerts)
	mailTab := browsertest.NewTab(t, tab)
	browsertest.Do(t, mailTab, chromedp.Navigate(link))
	browsertest.WaitVisible(t, mailTab, "#reset-password")
	browsertest.Do(t, mailTab, chromedp.SetValue(chromedp.CSS("#reset-password"), "password-5"), chromedp.SetValue(chromedp.CSS("#reset-again"), "password-5"))
	submit(t, mailTab, "#reset-form")
	browsertest.WaitTrue(t, mailTab, `document.querySelector("#toasts").textContent.includes("Your password is changed and you are signed in.")`)
	newBrowser(t, base).must("POST", "/api/login", `{"email":"ann@example.com","password":"password-5"}`, 200)
	for i, tab := range []context.Context{tab, follower, mailTab} {
		browsertest.WaitTrue(t, tab, liveWithAlerts)
		if st, _ := pageFetch(t, tab, "GET", "/api/me", nil); st != 200 || browsertest.Eval[bool](t, tab, `!document.querySelector("#who") || document.querySelector("#toasts").textContent.includes("session has ended")`) {
			t.Errorf("tab %d after a reset in this browser: GET /api/me %d, page %q", i, st, browsertest.Text(t, tab, "#account"))
		}
	}
	// Past the per-address limit of reset mails, the form says when to ask again.
	for i := 0; ; i++ {
		resp, _ := newBrowser(t, base).do("POST", "/api/password/forgot", `{"email":"nobody@example.com"}`)
		if resp.StatusCode == 429 {
			break
		}
		if resp.StatusCode != 202 || i == 30 {
			t.Fatalf("forgot #%d: %d", i, resp.StatusCode)
		}
	}
	browsertest.Do(t, again, chromedp.Navigate(base+"/"),
		chromedp.Click(chromedp.CSS("#signin-open")),
		chromedp.Click(chromedp.CSS("#auth-forgot")),
		chromedp.SetValue(chromedp.CSS("#forgot-email"), "ann@example.com"))
	submit(t, again, "#forgot-form")
	browsertest.WaitTrue(t, again, `/^Asked too often; try again in \d+ s\.$/.test(document.querySelector("#forgot-status").textContent)`)

	// The browser's stream came back with the personal channel: a match
	// reaches both tabs on the alerts page.
	admin := newBrowser(t, base)
	admin.must("POST", "/api/login", `{"email":"admin@example.com","password":"admin-password"}`, 200)
	admin.must("POST", "/api/jobs", `{"title":"Golang developer after the reset","url":"https://example.com/jobs/go-reset"}`, 201)
	for _, tab := range []context.Context{tab, follower} {
		browsertest.WaitTrue(t, tab, `document.querySelector("#alerts-list .matches")?.textContent.includes("Golang developer after the reset")`)
	}
}

// TestBrowser_AccountSessionsTokensPassword: the sessions list of the
// account page revokes another browser's session (its stream ends, its
// page signs out); API tokens are listed, created (the secret shown once)
// and revoked (the token then gets 401); a password change signs the other
// browser out while this one stays live, and leaves the tokens working.
func TestBrowser_AccountSessionsTokensPassword(t *testing.T) {
	a, _ := startApp(t, streamTestConfig(t))
	base := a.URL()
	ann := pageSignIn(t, base, "ann@example.com", "password-1", true)
	other := pageSignIn(t, base, "ann@example.com", "password-1", false)
	browsertest.Do(t, ann, chromedp.Navigate(base+"/#account"))
	browsertest.WaitTrue(t, ann, `document.querySelectorAll("#acct-sessions-list li[data-id]").length === 2 && document.querySelectorAll("#acct-sessions-list .badge").length === 1`)

	// Sign out the other browser from the list.
	browsertest.Eval[bool](t, ann, `([...document.querySelectorAll("#acct-sessions-list li[data-id]")].find(li => !li.querySelector(".badge")).querySelector("button").click(), true)`)
	browsertest.WaitTrue(t, other, signedOutWith("Your session has ended"))
	browsertest.WaitTrue(t, ann, `document.querySelectorAll("#acct-sessions-list li[data-id]").length === 1`)
	if st, _ := pageFetch(t, other, "GET", "/api/me", nil); st != 401 {
		t.Errorf("the revoked browser: GET /api/me = %d", st)
	}
	signInHere(t, other, "ann@example.com", "password-1", false)

	// API tokens.
	browsertest.WaitTrue(t, ann, `document.querySelector("#acct-tokens-list").textContent === "No API tokens."`)
	for _, name := range []string{"cron", "deploy"} {
		browsertest.Do(t, ann, chromedp.SetValue(chromedp.CSS("#acct-token-name"), name))
		submit(t, ann, "#acct-token-form")
		browsertest.WaitTrue(t, ann, fmt.Sprintf(`document.querySelector("#acct-token-secret").textContent.includes("Token “%s” created.") && document.querySelector("#acct-token-value").value.startsWith("bjt_")`, name))
	}
	secret := browsertest.Eval[string](t, ann, `document.querySelector("#acct-token-value").value`)
	browsertest.WaitTrue(t, ann, `document.querySelectorAll("#acct-tokens-list li[data-id]").length === 2`)
	if got := browsertest.Text(t, ann, "#acct-tokens-list"); strings.Contains(got, "bjt_") || !strings.Contains(got, "cron") || !strings.Contains(got, "deploy") {
		t.Errorf("token list %q", got)
	}
	click(t, ann, "#acct-token-secret button:last-child") // Done
	browsertest.WaitTrue(t, ann, `document.querySelector("#acct-token-secret").hidden && !document.querySelector("#acct-token-value")`)
	script := &accountUser{t: t, base: base, http: http.DefaultClient, bearer: secret}
	if me := script.must("GET", "/api/me", "", 200); me["email"] != "ann@example.com" {
		t.Errorf("the new token is %v", me)
	}

	// A password change: the other browser is signed out, this one stays, tokens stay.
	browsertest.Do(t, ann,
		chromedp.SetValue(chromedp.CSS("#acct-pw-current"), "wrong-password"),
		chromedp.SetValue(chromedp.CSS("#acct-pw-new"), "password-2"),
		chromedp.SetValue(chromedp.CSS("#acct-pw-again"), "password-2"))
	submit(t, ann, "#acct-pw-form")
	browsertest.WaitTrue(t, ann, statusIs("acct-password", `t === "The current password is wrong."`))
	browsertest.Do(t, ann,
		chromedp.SetValue(chromedp.CSS("#acct-pw-current"), "password-1"),
		chromedp.SetValue(chromedp.CSS("#acct-pw-new"), "password-2"),
		chromedp.SetValue(chromedp.CSS("#acct-pw-again"), "password-2"))
	submit(t, ann, "#acct-pw-form")
	browsertest.WaitTrue(t, ann, statusIs("acct-password", `t.startsWith("Password changed.")`))
	browsertest.WaitTrue(t, other, signedOutWith("Your session has ended"))
	browsertest.WaitTrue(t, ann, `document.querySelectorAll("#acct-sessions-list li[data-id]").length === 1`)
	browsertest.WaitTrue(t, ann, liveWithAlerts)
	if st, _ := pageFetch(t, ann, "GET", "/api/me", nil); st != 200 {
		t.Errorf("the browser that changed the password: GET /api/me = %d", st)
	}
	script.must("GET", "/api/me", "", 200)
	browsertest.Do(t, other,
		chromedp.Click(chromedp.CSS("#signin-open")),
		chromedp.SetValue(chromedp.CSS("#auth-email"), "ann@example.com"),
		chromedp.SetValue(chromedp.CSS("#auth-password"), "password-1"),
		chromedp.Click(chromedp.CSS("#auth-login")))
	browsertest.WaitTrue(t, other, `document.querySelector("#auth-error").textContent !== "" && !document.querySelector("#who")`)

	// Revoke the token "deploy": it gets 401 from then on.
	browsertest.Eval[bool](t, ann, `([...document.querySelectorAll("#acct-tokens-list li[data-id]")].find(li => li.textContent.includes("deploy")).querySelector("button").click(), true)`)
	browsertest.WaitTrue(t, ann, `document.querySelectorAll("#acct-tokens-list li[data-id]").length === 1 && document.querySelector("#acct-tokens-list").textContent.includes("cron")`)
	script.must("GET", "/api/me", "", 401)
}

// TestBrowser_AccountDeleteSignsOutEveryTab: deleting the account from
// the account page (after a wrong password is refused) signs out the tab,
// the browser's other tab and another browser.
func TestBrowser_AccountDeleteSignsOutEveryTab(t *testing.T) {
	a, _ := startApp(t, streamTestConfig(t))
	base := a.URL()
	first := pageSignIn(t, base, "ann@example.com", "password-1", true)
	ann := browsertest.NewTab(t, first)
	browsertest.Do(t, ann, chromedp.Navigate(base+"/#account"))
	second := browsertest.NewTab(t, first)
	browsertest.Do(t, second, chromedp.Navigate(base+"/#alerts"))
	other := pageSignIn(t, base, "ann@example.com", "password-1", false)
	for _, tab := range []context.Context{first, ann, second} {
		browsertest.WaitVisible(t, tab, "#who")
		browsertest.WaitTrue(t, tab, liveWithAlerts)
	}

	browsertest.WaitVisible(t, ann, "#acct-delete-form")
	for _, tab := range []context.Context{first, ann, second, other} {
		logToasts(t, tab) // the tabs are looked at one after another
	}
	browsertest.Do(t, ann, chromedp.SetValue(chromedp.CSS("#acct-delete-password"), "not-the-password"))
	click(t, ann, "#acct-delete-sure")
	submit(t, ann, "#acct-delete-form")
	browsertest.WaitTrue(t, ann, statusIs("acct-delete", `t === "The password is wrong."`))
	browsertest.Do(t, ann, chromedp.SetValue(chromedp.CSS("#acct-delete-password"), "password-1"))
	submit(t, ann, "#acct-delete-form")
	for i, tab := range []context.Context{ann, first, second} {
		browsertest.WaitTrue(t, tab, signedOutWith("Your account was deleted."))
		if !browsertest.Eval[bool](t, tab, `document.querySelector("#tab-account").hidden && document.querySelector("#tab-account").children.length === 0`) {
			t.Errorf("tab %d still shows the account page", i)
		}
	}
	browsertest.WaitTrue(t, other, signedOutWith("Your session has ended"))
	newBrowser(t, base).must("POST", "/api/login", `{"email":"ann@example.com","password":"password-1"}`, 401)
}

// TestBrowser_AccountRequireVerification: with
// BIRJOB_REQUIRE_EMAIL_VERIFICATION=true an unconfirmed account's new
// alert is refused and the form says to confirm the address first; once
// the link from the mail is opened, the same form creates it.
func TestBrowser_AccountRequireVerification(t *testing.T) {
	a, smtpd := mailNode(t, true)
	base := a.URL()
	ann := pageSignIn(t, base, "ann@example.com", "password-1", true)
	link := waitMailLink(t, smtpd, "ann@example.com", verifySubject)
	newAlert := func() {
		t.Helper()
		browsertest.Do(t, ann, chromedp.Navigate(base+"/#alerts"))
		browsertest.WaitVisible(t, ann, "#alert-new")
		click(t, ann, "#alert-new")
		browsertest.Do(t, ann,
			chromedp.SetValue(chromedp.CSS("#alert-form input[name=name]"), "Go"),
			chromedp.SetValue(chromedp.CSS("#alert-form input[name=query]"), "golang"))
		submit(t, ann, "#alert-form form")
	}
	newAlert()
	browsertest.WaitTrue(t, ann, `(s => s && !s.hidden && s.textContent.startsWith("Confirm your email address first"))(document.querySelector("#alert-form .status"))`)
	if got := browsertest.Eval[string](t, ann, `document.querySelector("#alert-form .status a")?.getAttribute("href") || ""`); got != "#account" {
		t.Errorf("the message links to %q, want the account page", got)
	}
	if n := browsertest.Eval[int](t, ann, `document.querySelectorAll("#alerts-list li.alert").length`); n != 0 {
		t.Errorf("%d alerts listed", n)
	}

	browsertest.Do(t, ann, chromedp.Navigate(link))
	browsertest.WaitTrue(t, ann, `document.querySelector("#toasts").textContent.includes("is confirmed")`)
	newAlert()
	browsertest.WaitVisible(t, ann, "#alerts-list li.alert")
}
