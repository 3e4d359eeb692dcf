package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/birjob/birjob/config"
	"github.com/birjob/birjob/internal/smtptest"
)

// TestE2E_MatchIsMailed runs the whole pipeline of a node with the courier
// role: an ingested job is matched, and the owner of the alert, with mail
// on "instant", gets a mail whose unsubscribe link points at this node;
// the courier's metrics are on /metrics.
func TestE2E_MatchIsMailed(t *testing.T) {
	smtpd := smtptest.New(t)
	cfg := testConfig(t)
	cfg.Demo = config.DemoOff
	cfg.SMTPURL, cfg.MailFrom = smtpd.URL(), "alerts@birjob.example"
	a, _ := startApp(t, cfg)

	jar, _ := cookiejar.New(nil)
	ann := &http.Client{Jar: jar}
	post(t, ann, a.URL()+"/api/signup", `{"email":"ann@example.com","password":"password-1"}`, 201)
	post(t, ann, a.URL()+"/api/alerts", `{"name":"go","query":"golang OR \"go developer\"","email":"instant"}`, 201)
	jar, _ = cookiejar.New(nil)
	admin := &http.Client{Jar: jar}
	post(t, admin, a.URL()+"/api/login", `{"email":"admin@example.com","password":"admin-password"}`, 200)
	post(t, admin, a.URL()+"/api/jobs", `{"title":"Senior Go Developer","url":"https://example.com/jobs/go","company":"Acme"}`, 201)

	var m smtptest.Mail
	var msg *mail.Message
	for msg == nil {
		select {
		case m = <-smtpd.Mails:
		case <-time.After(30 * time.Second):
			t.Fatal("no mail within 30s of the match")
		}
		var err error
		if msg, err = mail.ReadMessage(strings.NewReader(string(m.Data))); err != nil {
			t.Fatal(err)
		}
		if msg.Header.Get("X-Birjob-Alert") == "" {
			msg = nil // the signup's confirmation mail, not an alert's
		}
	}
	if got := msg.Header.Get("Subject"); got != "New job for go: Senior Go Developer" {
		t.Errorf("subject %q", got)
	}
	if len(m.To) != 1 || m.To[0] != "ann@example.com" || m.From != "alerts@birjob.example" {
		t.Errorf("envelope from %s to %v", m.From, m.To)
	}
	if lu := msg.Header.Get("List-Unsubscribe"); !strings.HasPrefix(lu, "<"+a.URL()+"/api/unsubscribe?t=") {
		t.Errorf("List-Unsubscribe %q does not point at this node", lu)
	}
	// The age gauge's series appear once a courier pass has finished: the
	// pass that sent the mail sets them after the mail is out, so the
	// metrics are polled, with a deadline, rather than read once.
	var missing []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(a.URL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		missing = missing[:0]
		for _, name := range []string{"birjob_push_sent_total", "birjob_mail_sent_total", "birjob_courier_oldest_unsent_seconds{kind=\"mail\"}"} {
			if !strings.Contains(string(body), name) {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %v 30 s after the mail", missing)
		}
		time.Sleep(100 * time.Millisecond) // polling the condition, with a deadline
	}
}
