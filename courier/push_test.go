package courier

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/birjob/birjob/internal/netguard"
	"github.com/birjob/birjob/internal/pushtest"
)

func payloadOf(t *testing.T, m pushtest.Message) Payload {
	t.Helper()
	if m.Err != nil {
		t.Fatalf("push service refused the message: %v", m.Err)
	}
	var p Payload
	if err := json.Unmarshal(m.Plaintext, &p); err != nil {
		t.Fatalf("payload %q: %v", m.Plaintext, err)
	}
	return p
}

// A matching job reaches the push service encrypted for the subscription
// (RFC 8291) and signed with the cluster's VAPID key (RFC 8292), with the
// job's title; a burst of matches of one alert is one push with a count.
func TestPush_MatchReachesEndpointDecryptedAndSigned(t *testing.T) {
	f := newFixture(t)
	ps := pushtest.New(t)
	sub := ps.Subscribe(t)
	ann := f.user("ann@example.com")
	goAlert := f.alert(ann, "Go", "off", false)
	f.subscribe(ann, sub.Endpoint, sub.P256dh, sub.Auth)
	r := f.start(testConfig(), nil)

	f.match(ann, job(1, "Senior Go developer", goAlert))
	m := recv(t, ps.Messages, wait, "push")
	p := payloadOf(t, m)
	want := Payload{Title: "Senior Go developer", Body: "Acme · Bakı", URL: "https://jobs.example/1",
		Tag: "alert-" + strconv.FormatInt(goAlert, 10), Count: 1, Alert: goAlert, Job: 1}
	if p != want {
		t.Errorf("payload = %+v, want %+v", p, want)
	}
	keys, err := Keys(f.ctx, f.store, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if m.VAPIDKey != keys.VAPIDPublic {
		t.Errorf("signed with k=%s, want the stored VAPID key %s", m.VAPIDKey, keys.VAPIDPublic)
	}
	if m.Claims.Sub != "mailto:birjob@example.com" || m.Claims.Aud != ps.URL {
		t.Errorf("claims = %+v", m.Claims)
	}
	if m.Topic != want.Tag || m.TTL == "" || m.TTL == "0" {
		t.Errorf("Topic %q TTL %q, want Topic %q and a TTL", m.Topic, m.TTL, want.Tag)
	}

	f.match(ann, job(2, "Go dev 2", goAlert), job(3, "Go dev 3", goAlert), job(4, "Go dev 4", goAlert))
	p = payloadOf(t, recv(t, ps.Messages, wait, "push of the burst"))
	if p.Count != 3 || p.Job != 4 || p.Title != "3 new jobs: Go" || !strings.HasPrefix(p.Body, "Go dev 4") || p.Tag != want.Tag {
		t.Errorf("burst payload = %+v, want one push with count 3", p)
	}
	f.idle(r, wait)
	if len(ps.Messages) != 0 {
		t.Errorf("%d more pushes than the two expected", len(ps.Messages))
	}
	subs, err := f.store.ListPushSubscriptions(f.ctx, ann)
	if err != nil || len(subs) != 1 || subs[0].LastSuccessAt == nil {
		t.Errorf("subscription after success = %+v, %v; want last success stamped", subs, err)
	}
	if got := testutil.ToFloat64(r.m.pushSent); got != 2 {
		t.Errorf("birjob_push_sent_total = %v, want 2", got)
	}
	families, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range families {
		names[mf.GetName()] = true
	}
	for _, n := range []string{"birjob_push_sent_total", "birjob_push_failed_total", "birjob_push_retried_total",
		"birjob_mail_sent_total", "birjob_mail_failed_total", "birjob_mail_retried_total", "birjob_courier_oldest_unsent_seconds"} {
		if !names[n] {
			t.Errorf("/metrics lacks %s", n)
		}
	}
	if got := testutil.ToFloat64(r.m.oldest.WithLabelValues("push")); got != 0 {
		t.Errorf("oldest unsent push = %vs with nothing queued, want 0", got)
	}
}

// A subscription the push service reports gone (410) is removed.
func TestPush_GoneRemovesSubscription(t *testing.T) {
	f := newFixture(t)
	ps := pushtest.New(t)
	ps.Respond = func(string, int) int { return http.StatusGone }
	sub := ps.Subscribe(t)
	ann := f.user("ann@example.com")
	a := f.alert(ann, "Go", "off", false)
	f.subscribe(ann, sub.Endpoint, sub.P256dh, sub.Auth)
	r := f.start(testConfig(), nil)

	f.match(ann, job(1, "Go developer", a))
	if m := recv(t, ps.Messages, wait, "push"); m.Status != http.StatusGone {
		t.Fatalf("status %d, err %v", m.Status, m.Err)
	}
	f.idle(r, wait)
	subs, err := f.store.ListPushSubscriptions(f.ctx, ann)
	if err != nil || len(subs) != 0 {
		t.Fatalf("subscriptions after 410 = %+v, %v; want none", subs, err)
	}
	if n, _ := f.store.QueueLen(f.ctx); n != 0 {
		t.Errorf("%d rows still queued for the removed subscription", n)
	}
	f.match(ann, job(2, "Go developer 2", a))
	f.idle(r, wait)
	if len(ps.Messages) != 0 {
		t.Errorf("a removed subscription got %d more pushes", len(ps.Messages))
	}
	if got := testutil.ToFloat64(r.m.pushFailed); got != 1 {
		t.Errorf("birjob_push_failed_total = %v, want 1", got)
	}
}

// A 500 is retried with exponential backoff, and the push then delivered
// with the whole group.
func TestPush_ServerErrorRetriedWithBackoff(t *testing.T) {
	f := newFixture(t)
	ps := pushtest.New(t)
	ps.Respond = func(_ string, n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusCreated
	}
	sub := ps.Subscribe(t)
	ann := f.user("ann@example.com")
	a := f.alert(ann, "Go", "off", false)
	f.subscribe(ann, sub.Endpoint, sub.P256dh, sub.Auth)
	cfg := testConfig()
	cfg.RetryBase = 150 * time.Millisecond
	r := f.start(cfg, nil)

	f.match(ann, job(1, "Go developer", a))
	m1 := recv(t, ps.Messages, wait, "first attempt")
	m2 := recv(t, ps.Messages, wait, "second attempt")
	// The step after the first failure measured the waiting push.
	if age := testutil.ToFloat64(r.m.oldest.WithLabelValues("push")); age <= 0 {
		t.Errorf("birjob_courier_oldest_unsent_seconds{kind=push} = %v while a push waits for its retry", age)
	}
	m3 := recv(t, ps.Messages, wait, "third attempt")
	if m1.Status != 500 || m2.Status != 500 || m3.Status != 201 {
		t.Fatalf("statuses %d %d %d", m1.Status, m2.Status, m3.Status)
	}
	if d := m2.At.Sub(m1.At); d < cfg.RetryBase {
		t.Errorf("second attempt %s after the first, want at least %s", d, cfg.RetryBase)
	}
	if d := m3.At.Sub(m2.At); d < 2*cfg.RetryBase {
		t.Errorf("third attempt %s after the second, want at least %s (doubled)", d, 2*cfg.RetryBase)
	}
	if p := payloadOf(t, m3); p.Title != "Go developer" || p.Count != 1 {
		t.Errorf("delivered payload = %+v", p)
	}
	f.idle(r, wait)
	if got := testutil.ToFloat64(r.m.pushRetried); got != 2 {
		t.Errorf("birjob_push_retried_total = %v, want 2", got)
	}
	subs, _ := f.store.ListPushSubscriptions(f.ctx, ann)
	if len(subs) != 1 || subs[0].Failures != 0 || subs[0].LastSuccessAt == nil {
		t.Errorf("subscription after recovery = %+v", subs)
	}
}

func TestCheckEndpoint(t *testing.T) {
	for _, c := range []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://fcm.googleapis.com/fcm/send/abc", false, true},
		{"https://updates.push.services.mozilla.com/wpush/v2/x", false, true},
		{"https://8.8.8.8/push", false, true},
		{"http://fcm.googleapis.com/fcm/send/abc", false, false},
		{"https://127.0.0.1/push", false, false},
		{"https://10.0.0.1/push", false, false},
		{"https://[::1]/push", false, false},
		{"https://localhost/push", false, false},
		{"https://169.254.169.254/latest", false, false},
		{"http://127.0.0.1:8080/push", false, false},
		{"http://127.0.0.1:8080/push", true, true},
		{"http://localhost:8080/push", true, true},
		{"https://10.0.0.1/push", true, true},
		{"http://10.0.0.1/push", true, false}, // plain http only on loopback
		{"ftp://example.com/x", true, false},
		{"https://user:pw@example.com/x", false, false},
		{"not a url", false, false},
	} {
		err := CheckEndpoint(c.url, c.allowPrivate)
		if (err == nil) != c.ok {
			t.Errorf("CheckEndpoint(%q, %v) = %v, want ok=%v", c.url, c.allowPrivate, err, c.ok)
		}
	}
}

// A host name that resolves to a private address is refused when the
// connection is made (DNS rebinding cannot get past the pre-check).
func TestPushClient_RefusesPrivateAddressAfterDNS(t *testing.T) {
	ps := pushtest.New(t)
	_, port, _ := strings.Cut(strings.TrimPrefix(ps.URL, "http://"), ":")
	resp, err := pushClient(false).Get("http://localhost:" + port + "/")
	if err == nil {
		resp.Body.Close()
		t.Fatal("connected to loopback")
	}
	if !errors.Is(err, netguard.ErrForbidden) {
		t.Errorf("err = %v, want netguard.ErrForbidden", err)
	}
}
