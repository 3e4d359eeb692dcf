package courier

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		runChild() // the crash test's courier process; never returns
	}
	pgtest.Main(m)
}

// fixture is a migrated database with helpers to make users, alerts and
// matches.
type fixture struct {
	t     *testing.T
	url   string // the database's URL
	ctx   context.Context
	pool  *pgxpool.Pool
	store *storage.Store
}

func newFixture(t *testing.T) *fixture {
	url := pgtest.NewURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &fixture{t: t, url: url, ctx: t.Context(), pool: pool, store: storage.New(pool)}
}

func (f *fixture) user(email string) int64 {
	f.t.Helper()
	u, err := f.store.CreateUser(f.ctx, email, "x", false)
	if err != nil {
		f.t.Fatal(err)
	}
	return u.ID
}

func (f *fixture) alert(user int64, name, email string, paused bool) int64 {
	f.t.Helper()
	a, err := f.store.CreateAlert(f.ctx, model.Alert{UserID: user, Name: name, Email: email, Paused: paused,
		Criteria: model.Criteria{Query: name}})
	if err != nil {
		f.t.Fatal(err)
	}
	return a.ID
}

func (f *fixture) subscribe(user int64, endpoint, p256dh, auth string) storage.PushSubscription {
	f.t.Helper()
	s, err := f.store.SavePushSubscription(f.ctx, storage.PushSubscription{UserID: user, Endpoint: endpoint, P256dh: p256dh, Auth: auth})
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// match appends, in one transaction, the matcher's new-job events of jobs
// for the user.
func (f *fixture) match(user int64, jobs ...model.JobEvent) {
	f.t.Helper()
	evs := make([]model.Event, len(jobs))
	for i, j := range jobs {
		data, err := json.Marshal(j)
		if err != nil {
			f.t.Fatal(err)
		}
		evs[i] = model.Event{Channel: model.UserChannel(user), Type: model.EventNewJob, Data: data}
	}
	if _, err := f.store.AppendEvents(f.ctx, evs...); err != nil {
		f.t.Fatal(err)
	}
}

func job(id int64, title string, alerts ...int64) model.JobEvent {
	return model.JobEvent{Job: model.Job{ID: id, Title: title, Company: "Acme", Location: "Bakı",
		URL: fmt.Sprintf("https://jobs.example/%d", id)}, Alerts: alerts}
}

// wait bounds a test's wait for a send or an idle courier: generous, since
// CI runs every package at once under -race on two cores (on a shared
// machine a courier test took 8 s where it takes 1 s alone); a passing
// test never waits it out.
const wait = 30 * time.Second

// testConfig is a courier configuration for tests: loopback endpoints,
// no burst window, quick retries.
func testConfig() Config {
	return Config{AllowPrivate: true, BurstWindow: -1, RetryBase: 50 * time.Millisecond, PollInterval: 200 * time.Millisecond, DigestHour: 8,
		PublicURL: "http://127.0.0.1:9", MailFrom: "birjob@example.com"}
}

// running is a courier running in the test, with a signal after every
// recorded send.
type running struct {
	*Courier
	reg  *prometheus.Registry
	sent chan struct{}
	stop func() // ends Run and waits for it
}

// start runs a courier until the test ends; tweak, when set, adjusts it
// before it starts.
func (f *fixture) start(cfg Config, tweak func(*Courier)) *running {
	f.t.Helper()
	reg := prometheus.NewRegistry()
	c, err := New(f.pool, cfg, slog.New(slog.DiscardHandler), reg)
	if err != nil {
		f.t.Fatal(err)
	}
	r := &running{Courier: c, reg: reg, sent: make(chan struct{}, 1)}
	c.afterSend = func() {
		select {
		case r.sent <- struct{}{}:
		default:
		}
	}
	if tweak != nil {
		tweak(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	r.stop = func() { cancel(); <-done }
	f.t.Cleanup(r.stop)
	return r
}

// idle waits until the courier has taken every event and sent everything
// due: the cursors are at the log's end and the queue holds nothing due.
func (f *fixture) idle(r *running, within time.Duration) {
	f.t.Helper()
	deadline := time.After(within)
	for {
		if f.drained(r) {
			return
		}
		select {
		case <-r.sent:
		case <-deadline:
			n, _ := f.store.QueueLen(f.ctx)
			f.t.Fatalf("courier not idle after %s: %d rows queued", within, n)
		}
	}
}

func (f *fixture) drained(r *running) bool {
	last, err := f.store.LastEventID(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, k := range []string{storage.CourierPush, storage.CourierMail} {
		if cur, err := f.store.CourierCursor(f.ctx, k); err != nil || cur < last {
			return false
		}
	}
	items, err := f.store.DueQueue(f.ctx, storage.CourierPush, r.now(), 1)
	if err != nil || len(items) > 0 {
		return false
	}
	for _, k := range []string{storage.CourierMail, storage.CourierDigest} {
		if items, err := f.store.DueQueue(f.ctx, k, r.now(), 1); err != nil || len(items) > 0 {
			return false
		}
	}
	return true
}

// clock is a settable time for the digest tests.
type clock struct{ t atomic.Pointer[time.Time] }

func (c *clock) now() time.Time  { return *c.t.Load() }
func (c *clock) set(t time.Time) { c.t.Store(&t) }

func recv[T any](t *testing.T, ch <-chan T, within time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(within):
		t.Fatalf("no %s within %s", what, within)
		panic("unreachable")
	}
}

// wake appends an event no one is told about, so that the courier wakes
// (its NOTIFY) and looks at its queue with the test's clock.
func (f *fixture) wake() {
	f.t.Helper()
	if _, err := f.store.AppendEvents(f.ctx, model.Event{Channel: model.ChannelJobs, Type: "ping", Data: []byte(`{}`)}); err != nil {
		f.t.Fatal(err)
	}
}
