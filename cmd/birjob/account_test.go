package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/birjob/birjob/config"
)

// accountUser is a browser (a cookie jar) or a script (a bearer token) of
// a running node.
type accountUser struct {
	t      *testing.T
	base   string
	http   *http.Client
	bearer string
}

func newBrowser(t *testing.T, base string) *accountUser {
	jar, _ := cookiejar.New(nil)
	return &accountUser{t: t, base: base, http: &http.Client{Jar: jar}}
}

func (u *accountUser) do(method, path, body string) (*http.Response, map[string]any) {
	u.t.Helper()
	req, _ := http.NewRequest(method, u.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if u.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+u.bearer)
	}
	resp, err := u.http.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &out)
	return resp, out
}

func (u *accountUser) must(method, path, body string, want int) map[string]any {
	u.t.Helper()
	resp, out := u.do(method, path, body)
	if resp.StatusCode != want {
		u.t.Fatalf("%s %s = %d %v, want %d", method, path, resp.StatusCode, out, want)
	}
	return out
}

// stream opens the user's `me` SSE stream and waits for `connected`.
func (u *accountUser) stream() <-chan sseFrame {
	u.t.Helper()
	req, _ := http.NewRequest("GET", u.base+"/api/events/me", nil)
	if u.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+u.bearer)
	}
	resp, err := u.http.Do(req)
	if err != nil || resp.StatusCode != 200 {
		u.t.Fatalf("me stream: %v %v", resp, err)
	}
	u.t.Cleanup(func() { resp.Body.Close() })
	f := readSSE(resp.Body)
	waitFrame(u.t, f, 15*time.Second, "connected", func(f sseFrame) bool { return f.event == "connected" })
	return f
}

// waitEnded waits for the stream's session-ended event and its end.
func waitEnded(t *testing.T, frames <-chan sseFrame, who string) {
	t.Helper()
	waitFrame(t, frames, 30*time.Second, "session-ended on "+who+"'s stream", func(f sseFrame) bool { return f.event == "session-ended" })
	deadline := time.After(30 * time.Second)
	for {
		select {
		case _, open := <-frames:
			if !open {
				return
			}
		case <-deadline:
			t.Fatalf("%s's stream did not end after session-ended", who)
		}
	}
}

func accountNode(t *testing.T) string {
	cfg := testConfig(t)
	cfg.Demo = config.DemoOff
	cfg.Scrape = false
	a, _ := startApp(t, cfg)
	return a.URL()
}

// TestE2E_PasswordChangeEndsOtherStreams: a password change ends the
// other sessions and closes the streams they opened; a session revoked
// from the list closes its stream too; the session that changed the
// password keeps working, and its stream still gets its matches.
func TestE2E_PasswordChangeEndsOtherStreams(t *testing.T) {
	base := accountNode(t)
	ann1 := newBrowser(t, base)
	ann1.must("POST", "/api/signup", `{"email":"ann@example.com","password":"password-1"}`, 201)
	ann1.must("POST", "/api/alerts", `{"name":"go","query":"golang"}`, 201)
	ann2, ann3 := newBrowser(t, base), newBrowser(t, base)
	ann2.must("POST", "/api/login", `{"email":"ann@example.com","password":"password-1"}`, 200)
	ann3.must("POST", "/api/login", `{"email":"ann@example.com","password":"password-1"}`, 200)
	own, other, revoked := ann1.stream(), ann2.stream(), ann3.stream()

	// ann1 revokes ann3's session from the list.
	resp, err := ann1.http.Get(base + "/api/me/sessions")
	if err != nil {
		t.Fatal(err)
	}
	var sessions []map[string]any
	json.NewDecoder(resp.Body).Decode(&sessions)
	resp.Body.Close()
	if len(sessions) != 3 {
		t.Fatalf("sessions %v, want 3", sessions)
	}
	ann3ID := sessions[0]["id"].(string) // newest first: ann3 signed in last
	ann1.must("DELETE", "/api/me/sessions/"+ann3ID, "", 204)
	waitEnded(t, revoked, "the revoked session")
	ann3.must("GET", "/api/me", "", 401)

	ann1.must("PUT", "/api/me/password", `{"currentPassword":"password-1","newPassword":"password-2"}`, 200)
	waitEnded(t, other, "the other session")
	ann2.must("GET", "/api/me", "", 401)
	ann1.must("GET", "/api/me", "", 200)

	admin := newBrowser(t, base)
	admin.must("POST", "/api/login", `{"email":"admin@example.com","password":"admin-password"}`, 200)
	admin.must("POST", "/api/jobs", `{"title":"Golang developer","url":"https://example.com/jobs/go-1"}`, 201)
	waitFrame(t, own, 30*time.Second, "ann's match on the session that changed the password", func(f sseFrame) bool {
		if f.event == "session-ended" {
			t.Fatal("the session that changed the password had its stream ended")
		}
		return f.event == "new-job" && strings.Contains(f.data, "Golang developer")
	})
}

// TestE2E_DeleteAccountClosesStreams: deleting the account closes the
// streams of its session and of its API token (migration 007's trigger on
// the cascade), clears the cookie, and its alerts go; signing in fails.
// With no SMTP server configured, the signup's confirmation mail is in
// the outbox the admin reads.
func TestE2E_DeleteAccountClosesStreams(t *testing.T) {
	cfg := testConfig(t)
	cfg.Demo = config.DemoOff
	cfg.Scrape = false
	a, _ := startApp(t, cfg)
	base := a.URL()
	ann := newBrowser(t, base)
	me := ann.must("POST", "/api/signup", `{"email":"ann@example.com","password":"password-1"}`, 201)
	ann.must("POST", "/api/alerts", `{"name":"go","query":"golang","email":"instant"}`, 201)
	script := &accountUser{t: t, base: base, http: http.DefaultClient}
	script.bearer = ann.must("POST", "/api/tokens", `{"name":"cron"}`, 201)["token"].(string)
	cookieStream, tokenStream := ann.stream(), script.stream()

	admin := newBrowser(t, base)
	admin.must("POST", "/api/login", `{"email":"admin@example.com","password":"admin-password"}`, 200)
	raw, _ := json.Marshal(admin.must("GET", "/api/admin/mail", "", 200))
	if !strings.Contains(string(raw), "Confirm your email address") || !strings.Contains(string(raw), "ann@example.com") {
		t.Fatalf("no confirmation mail to ann in the outbox once signup answered: %s", raw)
	}

	ann.must("DELETE", "/api/me", `{"password":"not-it"}`, 403)
	resp, _ := ann.do("DELETE", "/api/me", `{"password":"password-1"}`)
	if resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	cleared := false
	for _, c := range resp.Cookies() {
		cleared = cleared || (c.Name == "birjob_session" && c.MaxAge < 0)
	}
	if !cleared {
		t.Errorf("the cookie was not cleared: %v", resp.Header["Set-Cookie"])
	}
	waitEnded(t, cookieStream, "the cookie")
	waitEnded(t, tokenStream, "the API token")
	script.must("GET", "/api/me", "", 401)
	newBrowser(t, base).must("POST", "/api/login", `{"email":"ann@example.com","password":"password-1"}`, 401)
	var alerts int
	if err := a.Pool().QueryRow(context.Background(), `SELECT count(*) FROM alerts WHERE user_id = $1`, int64(me["id"].(float64))).Scan(&alerts); err != nil || alerts != 0 {
		t.Fatalf("alerts of the deleted account: %d (%v)", alerts, err)
	}
}
