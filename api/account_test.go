package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/courier"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/internal/smtptest"
	"github.com/birjob/birjob/matcher"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// testClock is the clock mailed tokens are issued and checked by.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// accountEnv is an API server whose account mails go to a real SMTP
// server, with the auth clock in the test's hand.
type accountEnv struct {
	*env
	smtpd *smtptest.Server
	clock *testClock
}

const publicURL = "https://birjob.test"

func newAccountEnv(t *testing.T, requireVerification bool) *accountEnv {
	t.Helper()
	smtpd := smtptest.New(t)
	clock := &testClock{now: time.Now()}
	store := storage.New(pgtest.New(t))
	as := auth.NewService(store, slog.New(slog.DiscardHandler), auth.WithHashCost(bcrypt.MinCost), auth.WithClock(clock.Now))
	mailer, err := courier.NewAccountMailer(store, courier.Config{PublicURL: publicURL, SMTPURL: smtpd.URL(), MailFrom: "accounts@birjob.test"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.New(store, nil).WithSearch(matcher.Search).WithAuth(as).WithAccounts(mailer, requireVerification).Routes(mux)
	srv := httptest.NewServer(as.Middleware(mux))
	t.Cleanup(srv.Close)
	return &accountEnv{env: &env{t: t, srv: srv, store: store, auth: as}, smtpd: smtpd, clock: clock}
}

// linkToken waits for the next mail, checks that it went to to, and
// returns the token of its link to the page (?verify= or ?reset=).
func (e *accountEnv) linkToken(to, param string) string {
	e.t.Helper()
	var m smtptest.Mail
	select {
	case m = <-e.smtpd.Mails:
	case <-time.After(30 * time.Second):
		e.t.Fatalf("no mail to %s within 30s", to)
	}
	if len(m.To) != 1 || m.To[0] != to || m.From != "accounts@birjob.test" {
		e.t.Fatalf("mail from %s to %v, want to %s", m.From, m.To, to)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	if err != nil {
		e.t.Fatal(err)
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(msg.Body)
	}
	text, _ := io.ReadAll(body)
	link := regexp.MustCompile(regexp.QuoteMeta(publicURL+"/?"+param+"=") + `(\S+)`).FindStringSubmatch(string(text))
	if link == nil {
		e.t.Fatalf("mail %q has no %s link: %s", msg.Header.Get("Subject"), param, text)
	}
	tok, err := url.QueryUnescape(link[1])
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *accountEnv) signup(email string) *client {
	e.t.Helper()
	c := e.client()
	c.mustDo("POST", "/api/signup", map[string]string{"email": email, "password": "password-1"}, 201)
	return c
}

func (e *accountEnv) login(email, pw string) *client {
	e.t.Helper()
	c := e.client()
	c.mustDo("POST", "/api/login", map[string]string{"email": email, "password": pw}, 200)
	return c
}

func errorHas(t *testing.T, out map[string]any, want string) {
	t.Helper()
	if msg, _ := out["error"].(string); !strings.Contains(msg, want) {
		t.Errorf("error %q does not say %q", msg, want)
	}
}

// TestAccounts_VerifyEmail: signup mails a link; its token confirms the
// address once, and is refused after; the account says so.
func TestAccounts_VerifyEmail(t *testing.T) {
	e := newAccountEnv(t, false)
	ann := e.client()
	me := ann.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "password-1"}, 201)
	if me["emailVerified"] != false || me["createdAt"] == nil {
		t.Fatalf("signup answer %v: want emailVerified false and createdAt", me)
	}
	tok := e.linkToken("ann@example.com", "verify")

	// The link may be opened in another browser, signed in or not.
	got := e.client().mustDo("POST", "/api/verify", map[string]string{"token": tok}, 200)
	if got["emailVerified"] != true || got["email"] != "ann@example.com" {
		t.Fatalf("verify answer %v", got)
	}
	if got := ann.mustDo("GET", "/api/me", nil, 200); got["emailVerified"] != true {
		t.Fatalf("me after verify: %v", got)
	}
	_, out := e.client().do("POST", "/api/verify", map[string]string{"token": tok})
	errorHas(t, out, "already used")
	e.client().mustDo("POST", "/api/verify", map[string]string{"token": tok}, 400)
	_, out = e.client().do("POST", "/api/verify", map[string]string{"token": "bjv_madeup"})
	errorHas(t, out, "not valid")
	e.client().mustDo("POST", "/api/verify", map[string]any{"token": tok, "extra": 1}, 400)
	ann.mustDo("POST", "/api/me/verification", nil, 409)

	// Only a hash of the token is stored.
	var stored int
	if err := e.store.DB().QueryRow(context.Background(), `SELECT count(*) FROM account_tokens WHERE token_hash = $1`,
		storage.HashToken(tok)).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("stored rows for the token's hash: %d (%v), want 1", stored, err)
	}
}

// TestAccounts_VerificationExpiresAndResendIsLimited: a link older than
// 48 h is refused as expired; asking for mails again at once is a 429 with
// Retry-After, and the resent link works.
func TestAccounts_VerificationExpiresAndResendIsLimited(t *testing.T) {
	e := newAccountEnv(t, false)
	bob := e.signup("bob@example.com")
	old := e.linkToken("bob@example.com", "verify")
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/me/verification", nil)
	for _, c := range bob.http.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("resend right after the signup mail: %d Retry-After %q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	e.clock.Advance(auth.VerifyTTL + time.Minute)
	_, out := e.client().do("POST", "/api/verify", map[string]string{"token": old})
	errorHas(t, out, "expired")
	e.client().mustDo("POST", "/api/verify", map[string]string{"token": old}, 400)

	// A minute later (by the database's clock) a new mail may go.
	if _, err := e.store.DB().Exec(context.Background(), `UPDATE account_tokens SET created_at = created_at - interval '2 minutes'`); err != nil {
		t.Fatal(err)
	}
	bob.mustDo("POST", "/api/me/verification", nil, 202)
	fresh := e.linkToken("bob@example.com", "verify")
	if got := e.client().mustDo("POST", "/api/verify", map[string]string{"token": fresh}, 200); got["emailVerified"] != true {
		t.Fatalf("verify with the resent link: %v", got)
	}
}

// TestAccounts_PasswordReset: forgot answers alike for every address and
// mails only real accounts; the link sets the password once, ends every
// session and signs this browser in; API tokens stay; an expired link is
// refused.
func TestAccounts_PasswordReset(t *testing.T) {
	e := newAccountEnv(t, false)
	ann1 := e.signup("ann@example.com")
	e.linkToken("ann@example.com", "verify")
	ann2 := e.login("ann@example.com", "password-1")
	tok := ann1.mustDo("POST", "/api/tokens", map[string]string{"name": "cron"}, 201)["token"].(string)
	script := &client{e: e.env, http: http.DefaultClient, bearer: tok}

	anon := e.client()
	if got := anon.mustDo("POST", "/api/password/forgot", map[string]string{"email": "nobody@example.com"}, 202); got["sent"] != true {
		t.Fatalf("forgot for an unknown address: %v", got)
	}
	anon.mustDo("POST", "/api/password/forgot", map[string]string{"email": "ANN@example.com"}, 202)
	anon.mustDo("POST", "/api/password/forgot", map[string]string{"email": "not an address"}, 400)
	reset := e.linkToken("ann@example.com", "reset") // the unknown address got none: this is the next mail

	// A bad new password spends nothing.
	anon.mustDo("POST", "/api/password/reset", map[string]string{"token": reset, "password": "short"}, 400)
	got := anon.mustDo("POST", "/api/password/reset", map[string]string{"token": reset, "password": "new-password-2"}, 200)
	if got["email"] != "ann@example.com" || got["emailVerified"] != true {
		t.Fatalf("reset answer %v", got)
	}
	anon.mustDo("GET", "/api/me", nil, 200) // signed in by the reset
	ann1.mustDo("GET", "/api/me", nil, 401)
	ann2.mustDo("GET", "/api/me", nil, 401)
	script.mustDo("GET", "/api/me", nil, 200)
	e.client().mustDo("POST", "/api/login", map[string]string{"email": "ann@example.com", "password": "password-1"}, 401)
	e.login("ann@example.com", "new-password-2")

	_, out := e.client().do("POST", "/api/password/reset", map[string]string{"token": reset, "password": "third-password"})
	errorHas(t, out, "already used")

	// Another account's link, expired.
	e.signup("bob@example.com")
	e.linkToken("bob@example.com", "verify")
	e.client().mustDo("POST", "/api/password/forgot", map[string]string{"email": "bob@example.com"}, 202)
	bobReset := e.linkToken("bob@example.com", "reset")
	e.clock.Advance(auth.ResetTTL + time.Second)
	code, out := e.client().do("POST", "/api/password/reset", map[string]string{"token": bobReset, "password": "bobs-new-one"})
	if code != 400 {
		t.Fatalf("expired reset link: %d %v, want 400", code, out)
	}
	errorHas(t, out, "expired")
	e.login("bob@example.com", "password-1")
}

// TestAccounts_ChangePassword: the current password is checked; the other
// sessions end, this one stays, and so do API tokens.
func TestAccounts_ChangePassword(t *testing.T) {
	e := newAccountEnv(t, false)
	ann1 := e.signup("ann@example.com")
	ann2 := e.login("ann@example.com", "password-1")
	tok := ann1.mustDo("POST", "/api/tokens", map[string]string{"name": "cron"}, 201)["token"].(string)
	script := &client{e: e.env, http: http.DefaultClient, bearer: tok}

	body := map[string]string{"currentPassword": "wrong-one", "newPassword": "new-password-2"}
	ann1.mustDo("PUT", "/api/me/password", body, 403)
	ann2.mustDo("GET", "/api/me", nil, 200) // a wrong try ends nothing
	body["currentPassword"] = "password-1"
	body["newPassword"] = "short"
	ann1.mustDo("PUT", "/api/me/password", body, 400)
	body["newPassword"] = "new-password-2"
	if got := ann1.mustDo("PUT", "/api/me/password", body, 200); got["email"] != "ann@example.com" {
		t.Fatalf("change answer %v", got)
	}
	ann1.mustDo("GET", "/api/me", nil, 200)
	ann2.mustDo("GET", "/api/me", nil, 401)
	script.mustDo("GET", "/api/me", nil, 200)
	e.client().mustDo("POST", "/api/login", map[string]string{"email": "ann@example.com", "password": "password-1"}, 401)
	e.login("ann@example.com", "new-password-2")
}

// TestAccounts_SessionsAndTokensRevoked: the lists show what each
// credential is, never a secret; a revoked one is refused at once.
func TestAccounts_SessionsAndTokensRevoked(t *testing.T) {
	e := newAccountEnv(t, false)
	ann1 := e.signup("ann@example.com")
	ann2 := e.login("ann@example.com", "password-1")
	created := ann1.mustDo("POST", "/api/tokens", map[string]string{"name": "cron"}, 201)
	script := &client{e: e.env, http: http.DefaultClient, bearer: created["token"].(string)}
	if created["id"] == "" || created["createdAt"] == nil || created["name"] != "cron" {
		t.Fatalf("token answer %v", created)
	}
	script.mustDo("GET", "/api/me", nil, 200) // used: lastUsedAt is recorded

	sessions := ann1.list("/api/me/sessions")
	if len(sessions) != 2 {
		t.Fatalf("sessions %v, want 2", sessions)
	}
	var other string
	for _, s := range sessions {
		if s["userAgent"] == "" || s["createdAt"] == nil || s["expiresAt"] == nil || s["id"] == "" {
			t.Errorf("session %v lacks a field", s)
		}
		if s["current"] == true {
			continue
		}
		other = s["id"].(string)
	}
	if other == "" {
		t.Fatalf("no current session and one other in %v", sessions)
	}
	tokens := ann1.list("/api/tokens")
	if len(tokens) != 1 || tokens[0]["id"] != created["id"] || tokens[0]["name"] != "cron" || tokens[0]["lastUsedAt"] == nil {
		t.Fatalf("tokens %v, want the one used token", tokens)
	}
	if _, has := tokens[0]["token"]; has {
		t.Fatalf("the token list shows the secret: %v", tokens[0])
	}

	// Another account cannot revoke them.
	bob := e.signup("bob@example.com")
	bob.mustDo("DELETE", "/api/me/sessions/"+other, nil, 404)
	bob.mustDo("DELETE", "/api/tokens/"+created["id"].(string), nil, 404)
	ann2.mustDo("GET", "/api/me", nil, 200)

	ann1.mustDo("DELETE", "/api/me/sessions/"+other, nil, 204)
	ann2.mustDo("GET", "/api/me", nil, 401)
	ann1.mustDo("DELETE", "/api/tokens/"+created["id"].(string), nil, 204)
	script.mustDo("GET", "/api/me", nil, 401)
	if l := ann1.list("/api/tokens"); len(l) != 0 {
		t.Fatalf("tokens after revoking: %v", l)
	}
	ann1.mustDo("DELETE", "/api/tokens/x", nil, 400)
	ann1.mustDo("GET", "/api/me", nil, 200)
}

// TestAccounts_RequiredVerification: with verification required, an
// unconfirmed account signs in and reads but may not create or change
// alerts or push subscriptions until it confirms.
func TestAccounts_RequiredVerification(t *testing.T) {
	e := newAccountEnv(t, true)
	ann := e.signup("ann@example.com")
	tok := e.linkToken("ann@example.com", "verify")
	alert := map[string]any{"name": "go", "query": "golang", "email": "instant"}
	_, out := ann.do("POST", "/api/alerts", alert)
	errorHas(t, out, "confirm your email address first")
	ann.mustDo("POST", "/api/alerts", alert, 403)
	ann.mustDo("POST", "/api/push/subscriptions", map[string]any{"endpoint": "https://push.example/x", "keys": map[string]string{"p256dh": "x", "auth": "y"}}, 403)
	ann.mustDo("GET", "/api/jobs", nil, 200)
	ann.mustDo("GET", "/api/alerts", nil, 200)

	ann.mustDo("POST", "/api/verify", map[string]string{"token": tok}, 200)
	a := ann.mustDo("POST", "/api/alerts", alert, 201)
	ann.mustDo("PUT", fmt.Sprintf("/api/alerts/%v", a["id"]), map[string]any{"paused": true}, 200)
}

// TestAccounts_DeleteAccount: the password is checked; the account, its
// alerts, push subscriptions, personal events and sessions go; the cookie
// is cleared and signing in fails afterwards.
func TestAccounts_DeleteAccount(t *testing.T) {
	e := newAccountEnv(t, false)
	ctx := context.Background()
	ann := e.signup("ann@example.com")
	me := ann.mustDo("GET", "/api/me", nil, 200)
	id := int64(me["id"].(float64))
	ann.mustDo("POST", "/api/alerts", map[string]any{"name": "go", "query": "golang", "email": "instant"}, 201)
	if _, err := e.store.AppendEvents(ctx, model.Event{Channel: model.UserChannel(id), Type: "new-job", Data: []byte(`{"title":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	bob := e.signup("bob@example.com")
	bob.mustDo("POST", "/api/alerts", map[string]any{"name": "php", "query": "php"}, 201)

	ann.mustDo("DELETE", "/api/me", map[string]string{"password": "wrong-password"}, 403)
	ann.mustDo("DELETE", "/api/me", map[string]string{}, 403)
	ann.mustDo("GET", "/api/me", nil, 200)

	req, _ := http.NewRequest("DELETE", e.srv.URL+"/api/me", strings.NewReader(`{"password":"password-1"}`))
	resp, err := ann.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	cleared := false
	for _, c := range resp.Cookies() {
		cleared = cleared || (c.Name == auth.CookieName && c.MaxAge < 0)
	}
	if !cleared {
		t.Errorf("delete did not clear the session cookie: %v", resp.Header["Set-Cookie"])
	}
	e.client().mustDo("POST", "/api/login", map[string]string{"email": "ann@example.com", "password": "password-1"}, 401)
	if alerts, err := e.store.ListAlerts(ctx, id); err != nil || len(alerts) != 0 {
		t.Errorf("alerts after deletion: %v (%v)", alerts, err)
	}
	n, err := e.store.ChannelEvents(ctx, []string{model.UserChannel(id)}, 0, 1<<62, 100, func(int64, string, string, time.Time, []byte) error { return nil })
	if err != nil || n != 0 {
		t.Errorf("personal events after deletion: %d (%v)", n, err)
	}
	if alerts := bob.mustDo("GET", "/api/alerts", nil, 200)["alerts"].([]any); len(alerts) != 1 {
		t.Errorf("bob's alerts after ann's deletion: %v", alerts)
	}
	// The address is free again.
	e.signup("ann@example.com")
}

// list GETs path, whose answer is a JSON array of objects.
func (c *client) list(path string) []map[string]any {
	c.e.t.Helper()
	req, _ := http.NewRequest("GET", c.e.srv.URL+path, nil)
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		c.e.t.Fatalf("GET %s: %d, not a JSON array (%v)", path, resp.StatusCode, err)
	}
	return out
}
