package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/courier"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/internal/pushtest"
	"github.com/birjob/birjob/internal/smtptest"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// newNotifEnv is newEnv with the push and mail routes configured by cfg.
func newNotifEnv(t *testing.T, cfg courier.Config) (*env, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.New(t)
	store := storage.New(pool)
	as := auth.NewService(store, slog.New(slog.DiscardHandler), auth.WithHashCost(bcrypt.MinCost))
	mux := http.NewServeMux()
	api.New(store, nil).WithAuth(as).WithNotifications(cfg).Routes(mux)
	srv := httptest.NewServer(as.Middleware(mux))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, store: store, auth: as}, pool
}

func TestPush_SubscriptionRoutes(t *testing.T) {
	e, _ := newNotifEnv(t, courier.Config{AllowPrivate: true})
	ps := pushtest.New(t)
	ann, bob := e.client(), e.client()
	ann.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "password1"}, 201)
	bob.mustDo("POST", "/api/signup", map[string]string{"email": "bob@example.com", "password": "password1"}, 201)

	key := ann.mustDo("GET", "/api/push/key", nil, 200)["publicKey"].(string)
	if raw, err := base64.RawURLEncoding.DecodeString(key); err != nil || len(raw) != 65 || raw[0] != 4 {
		t.Fatalf("publicKey %q is not an uncompressed P-256 point", key)
	}
	if again := bob.mustDo("GET", "/api/push/key", nil, 200)["publicKey"]; again != key {
		t.Errorf("a second read gave another key")
	}
	e.client().mustDo("POST", "/api/push/subscriptions", map[string]any{}, 401)

	sub := ps.Subscribe(t)
	body := func(endpoint, p256dh, auth string) map[string]any {
		return map[string]any{"endpoint": endpoint, "expirationTime": nil, "keys": map[string]string{"p256dh": p256dh, "auth": auth}}
	}
	for name, b := range map[string]map[string]any{
		"scheme":  body("ftp://push.example/x", sub.P256dh, sub.Auth),
		"private": body("http://10.1.2.3/x", sub.P256dh, sub.Auth), // http only on loopback
		"p256dh":  body(sub.Endpoint, "AAAA", sub.Auth),
		"auth":    body(sub.Endpoint, sub.P256dh, "c2hvcnQ"),
	} {
		if code, out := ann.do("POST", "/api/push/subscriptions", b); code != 400 {
			t.Errorf("%s: %d %v, want 400", name, code, out)
		}
	}
	created := ann.mustDo("POST", "/api/push/subscriptions", body(sub.Endpoint, sub.P256dh, sub.Auth), 201)
	id := int64(created["id"].(float64))
	list := ann.mustDo("GET", "/api/push/subscriptions", nil, 200)["subscriptions"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["endpoint"] != sub.Endpoint || list[0].(map[string]any)["userAgent"] == "" {
		t.Fatalf("subscriptions = %v", list)
	}
	if got := bob.mustDo("GET", "/api/push/subscriptions", nil, 200)["subscriptions"].([]any); len(got) != 0 {
		t.Errorf("bob sees ann's browsers: %v", got)
	}
	bob.mustDo("DELETE", fmt.Sprintf("/api/push/subscriptions/%d", id), nil, 404)
	ann.mustDo("DELETE", fmt.Sprintf("/api/push/subscriptions/%d", id), nil, 204)
	if got := ann.mustDo("GET", "/api/push/subscriptions", nil, 200)["subscriptions"].([]any); len(got) != 0 {
		t.Errorf("after delete: %v", got)
	}

	strict, _ := newNotifEnv(t, courier.Config{})
	c := strict.client()
	c.mustDo("POST", "/api/signup", map[string]string{"email": "cy@example.com", "password": "password1"}, 201)
	c.mustDo("POST", "/api/push/subscriptions", body(sub.Endpoint, sub.P256dh, sub.Auth), 400) // loopback
	c.mustDo("POST", "/api/push/subscriptions", body("https://fcm.googleapis.com/fcm/send/x", sub.P256dh, sub.Auth), 201)
}

func TestAlerts_EmailModeAndTimeZone(t *testing.T) {
	e, _ := newNotifEnv(t, courier.Config{})
	ann := e.client()
	ann.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "password1"}, 201)
	ann.mustDo("POST", "/api/alerts", map[string]any{"name": "Go", "query": "golang", "email": "weekly"}, 400)
	a := ann.mustDo("POST", "/api/alerts", map[string]any{"name": "Go", "query": "golang"}, 201)
	if a["email"] != "off" {
		t.Errorf("default email = %v, want off", a["email"])
	}
	path := fmt.Sprintf("/api/alerts/%d", int64(a["id"].(float64)))
	if got := ann.mustDo("PUT", path, map[string]any{"email": "daily"}, 200); got["email"] != "daily" {
		t.Errorf("after PUT email: %v", got)
	}
	if got := ann.mustDo("PUT", path, map[string]any{"paused": true}, 200); got["email"] != "daily" {
		t.Errorf("a PUT without email changed it: %v", got)
	}
	ann.mustDo("PUT", "/api/me/notifications", map[string]any{"timeZone": "Mars/Olympus"}, 400)
	ann.mustDo("PUT", "/api/me/notifications", map[string]any{"timeZone": "Asia/Baku"}, 200)
	if got := ann.mustDo("GET", "/api/me/notifications", nil, 200); got["timeZone"] != "Asia/Baku" {
		t.Errorf("time zone = %v", got)
	}
}

func TestAdminMail_Outbox(t *testing.T) {
	e, _ := newNotifEnv(t, courier.Config{})
	ctx := context.Background()
	if _, err := e.auth.BootstrapAdmin(ctx, "root@example.com", "admin-pass"); err != nil {
		t.Fatal(err)
	}
	if err := e.store.AddOutboxMail(ctx, "ann@example.com", "New job for Go: Go developer", "Subject: x\r\n\r\nbody"); err != nil {
		t.Fatal(err)
	}
	admin, user := e.client(), e.client()
	admin.mustDo("POST", "/api/login", map[string]string{"email": "root@example.com", "password": "admin-pass"}, 200)
	user.mustDo("POST", "/api/signup", map[string]string{"email": "u@example.com", "password": "password1"}, 201)
	user.mustDo("GET", "/api/admin/mail", nil, 403)
	body := admin.mustDo("GET", "/api/admin/mail", nil, 200)
	mails := body["mails"].([]any)
	if len(mails) != 1 || mails[0].(map[string]any)["to"] != "ann@example.com" || body["smtp"] != false || body["next"] != nil {
		t.Fatalf("outbox = %v", body)
	}
	if m := mails[0].(map[string]any); m["kind"] != "account" || m["text"] != "body" {
		t.Errorf("mail taken apart: kind %v, text %q", m["kind"], m["text"])
	}
	// Pages of 50, newest first; "next" asks for the older ones.
	for i := range 50 {
		if err := e.store.AddOutboxMail(ctx, "ann@example.com", fmt.Sprintf("mail %d", i), "Subject: x\r\n\r\nbody"); err != nil {
			t.Fatal(err)
		}
	}
	first := admin.mustDo("GET", "/api/admin/mail", nil, 200)
	if n, top := len(first["mails"].([]any)), first["mails"].([]any)[0].(map[string]any)["subject"]; n != 50 || top != "mail 49" || first["next"] == nil {
		t.Fatalf("first page: %d mails, newest %v, next %v", n, top, first["next"])
	}
	rest := admin.mustDo("GET", fmt.Sprintf("/api/admin/mail?before=%v", first["next"]), nil, 200)
	if m := rest["mails"].([]any); len(m) != 1 || m[0].(map[string]any)["subject"] != "New job for Go: Go developer" || rest["next"] != nil {
		t.Errorf("second page: %v", rest)
	}
	admin.mustDo("GET", "/api/admin/mail?before=x", nil, 400)
}

// A mail's List-Unsubscribe link, POSTed as RFC 8058 one-click (no
// cookie, no Origin: a mail provider's server), turns the alert's mail
// off: the next match of it mails nothing, while another alert still does.
func TestUnsubscribe_ByLink(t *testing.T) {
	smtpd := smtptest.New(t)
	e, pool := newNotifEnv(t, courier.Config{})
	ann := e.client()
	ann.mustDo("POST", "/api/signup", map[string]string{"email": "ann@example.com", "password": "password1"}, 201)
	me := ann.mustDo("GET", "/api/me", nil, 200)
	goA := int64(ann.mustDo("POST", "/api/alerts", map[string]any{"name": "Go", "query": "golang", "email": "instant"}, 201)["id"].(float64))
	rust := int64(ann.mustDo("POST", "/api/alerts", map[string]any{"name": "Rust", "query": "rust", "email": "instant"}, 201)["id"].(float64))

	c, err := courier.New(pool, courier.Config{PublicURL: e.srv.URL, SMTPURL: smtpd.URL(), BurstWindow: -1}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	match := func(jobID int64, alerts ...int64) {
		data, _ := json.Marshal(model.JobEvent{Job: model.Job{ID: jobID, Title: fmt.Sprintf("Job %d", jobID), URL: fmt.Sprintf("https://jobs.example/%d", jobID)}, Alerts: alerts})
		_, err := e.store.AppendEvents(ctx, model.Event{Channel: model.UserChannel(int64(me["id"].(float64))), Type: model.EventNewJob, Data: data})
		if err != nil {
			t.Fatal(err)
		}
	}
	match(1, goA)
	msg := nextMail(t, smtpd)
	link := strings.Trim(msg.Header.Get("List-Unsubscribe"), "<>")
	if msg.Header.Get("X-Birjob-Alert") != fmt.Sprint(goA) || !strings.HasPrefix(link, e.srv.URL+"/api/unsubscribe?t=") {
		t.Fatalf("mail for alert %s with List-Unsubscribe %q", msg.Header.Get("X-Birjob-Alert"), link)
	}

	// GET shows a confirm page and changes nothing (link scanners).
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `<form method="post">`) || !strings.Contains(string(page), "“Go”") {
		t.Fatalf("GET %s = %d\n%s", link, resp.StatusCode, page)
	}
	resp, err = http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("one-click POST: %s", resp.Status)
	}
	if a := ann.mustDo("GET", fmt.Sprintf("/api/alerts/%d", goA), nil, 200); a["email"] != "off" {
		t.Fatalf("email after unsubscribe = %v", a["email"])
	}
	resp, _ = http.Post(e.srv.URL+"/api/unsubscribe?t="+fmt.Sprint(goA)+".forged", "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("forged token: %s, want 400", resp.Status)
	}

	// Both alerts match one job: the queue rows of both are written in one
	// transaction, so once Rust's mail is here, Go's would have been too.
	match(2, goA, rust)
	if got := nextMail(t, smtpd).Header.Get("X-Birjob-Alert"); got != fmt.Sprint(rust) {
		t.Fatalf("mail for alert %s, want only %d's", got, rust)
	}
	if n, _ := e.store.QueueLen(ctx); n > 1 || len(smtpd.Mails) != 0 {
		t.Errorf("after unsubscribe: %d rows queued, %d more mails", n, len(smtpd.Mails))
	}
}

func nextMail(t *testing.T, s *smtptest.Server) *mail.Message {
	t.Helper()
	select {
	case m := <-s.Mails:
		msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
		if err != nil {
			t.Fatal(err)
		}
		return msg
	case <-time.After(30 * time.Second): // generous: CI runs every package at once under -race
		t.Fatal("no mail within 30s")
		return nil
	}
}
