package courier

import (
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pushtest"
	"github.com/birjob/birjob/internal/smtptest"
	"github.com/birjob/birjob/model"
)

// TestCourier_MutedAlertSendsNothing: a muted alert's matches queue no
// push and no mail (an unmuted alert of the same user, matching the same
// job, gets both), and matches queued before the alert was muted are
// dropped unsent when they fall due.
func TestCourier_MutedAlertSendsNothing(t *testing.T) {
	f := newFixture(t)
	ps := pushtest.New(t)
	smtpd := smtptest.New(t)
	sub := ps.Subscribe(t)
	ann := f.user("ann@example.com")
	goA := f.alert(ann, "Go", model.EmailInstant, false)
	rust := f.alert(ann, "Rust", model.EmailInstant, false)
	setMuted(t, f, ann, goA, true)
	f.subscribe(ann, sub.Endpoint, sub.P256dh, sub.Auth)
	clk := &clock{}
	clk.set(time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC))
	cfg := testConfig()
	cfg.SMTPURL = smtpd.URL()
	cfg.BurstWindow = time.Minute
	r := f.start(cfg, func(c *Courier) { c.now = clk.now })

	f.match(ann, job(1, "Go and Rust", goA, rust))
	f.idle(r, wait) // taken and queued, not due yet
	if n, _ := f.store.QueueLen(f.ctx); n != 2 {
		t.Fatalf("%d rows queued, want 2 (Rust's push and mail; none for the muted Go)", n)
	}
	clk.set(clk.now().Add(2 * time.Minute))
	f.wake()
	p := payloadOf(t, recv(t, ps.Messages, wait, "push for Rust"))
	if p.Alert != rust {
		t.Errorf("push for alert %d, want Rust's %d", p.Alert, rust)
	}
	if s := parseMail(t, recv(t, smtpd.Mails, wait, "mail for Rust").Data).subject(t); s != "New job for Rust: Go and Rust" {
		t.Errorf("mail subject %q", s)
	}
	f.idle(r, wait)

	// Queued while Rust was loud, muted before the rows fell due: dropped.
	f.match(ann, job(2, "Rust developer", rust))
	f.idle(r, wait)
	if n, _ := f.store.QueueLen(f.ctx); n != 2 {
		t.Fatalf("%d rows queued for Rust's second match, want 2", n)
	}
	setMuted(t, f, ann, rust, true)
	clk.set(clk.now().Add(2 * time.Minute))
	f.wake()
	f.idle(r, wait)
	if n, _ := f.store.QueueLen(f.ctx); n != 0 {
		t.Errorf("%d rows left queued for a muted alert", n)
	}
	if len(ps.Messages) != 0 || len(smtpd.Mails) != 0 {
		t.Errorf("a muted alert sent %d pushes and %d mails", len(ps.Messages), len(smtpd.Mails))
	}
}

func setMuted(t *testing.T, f *fixture, user, id int64, muted bool) {
	t.Helper()
	a, err := f.store.GetAlert(f.ctx, user, id)
	if err != nil {
		t.Fatal(err)
	}
	a.Muted = muted
	if _, err := f.store.UpdateAlert(f.ctx, a); err != nil {
		t.Fatal(err)
	}
}
