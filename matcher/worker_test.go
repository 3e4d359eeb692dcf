package matcher

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func testLogger() *slog.Logger {
	if os.Getenv("BIRJOB_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type fixture struct {
	t      *testing.T
	pool   *pgxpool.Pool
	source int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := pgtest.New(t)
	f := &fixture{t: t, pool: pool}
	if err := pool.QueryRow(context.Background(),
		`INSERT INTO sources (name, kind) VALUES ('boss.az', 'manual') RETURNING id`).Scan(&f.source); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) user(email string) int64 {
	f.t.Helper()
	var id int64
	if err := f.pool.QueryRow(context.Background(),
		`INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, email).Scan(&id); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) alert(user int64, c model.Criteria) int64 {
	f.t.Helper()
	crit, _ := json.Marshal(c)
	var id int64
	if err := f.pool.QueryRow(context.Background(),
		`INSERT INTO alerts (user_id, name, criteria) VALUES ($1, 'a', $2) RETURNING id`, user, crit).Scan(&id); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) feed(name string, c model.Criteria) int64 {
	f.t.Helper()
	crit, _ := json.Marshal(c)
	var id int64
	if err := f.pool.QueryRow(context.Background(),
		`INSERT INTO feeds (name, criteria) VALUES ($1, $2) RETURNING id`, name, crit).Scan(&id); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.pool.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatal(err)
	}
}

// job inserts a job and its 'new' outbox row in one transaction, as the
// scraper does.
func (f *fixture) job(j model.Job) int64 {
	f.t.Helper()
	var id int64
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		var smin, smax *float64
		cur, per := "", ""
		if j.Salary != nil {
			smin, smax, cur, per = &j.Salary.Min, &j.Salary.Max, j.Salary.Currency, j.Salary.Period
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO jobs (source_id, dedupe_key, url, title, company, location, remote, salary_min, salary_max,
				salary_currency, salary_period, employment_type, description, content_hash)
			VALUES ($1, 'url:' || $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, '\x00') RETURNING id`,
			f.source, j.URL, j.Title, j.Company, j.Location, j.Remote, smin, smax, cur, per, j.EmploymentType, j.Description).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO job_changes (job_id, kind) VALUES ($1, 'new')`, id)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) expire(jobID int64) {
	f.t.Helper()
	f.exec(`UPDATE jobs SET expired_at = now() WHERE id = $1`, jobID)
	f.exec(`INSERT INTO job_changes (job_id, kind) VALUES ($1, 'expired')`, jobID)
}

// run starts a worker and waits until it is ready; it stops at test end.
func (f *fixture) run(opts ...Option) *Worker {
	f.t.Helper()
	w := NewWorker(f.pool, testLogger(), opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	f.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			f.t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-w.Ready():
	case <-time.After(30 * time.Second):
		f.t.Fatal("worker not ready")
	}
	return w
}

// drained waits until the outbox is empty.
func (f *fixture) drained() {
	f.t.Helper()
	f.waitFor("outbox drained", func() bool {
		var n int
		f.pool.QueryRow(context.Background(), `SELECT count(*) FROM job_changes`).Scan(&n)
		return n == 0
	})
}

// waitFor polls cond until it holds or a generous deadline passes.
func (f *fixture) waitFor(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

type ev struct {
	Channel string
	Type    string
	JobID   int64
	Alerts  []int64
}

func (f *fixture) events() []ev {
	f.t.Helper()
	rows, err := f.pool.Query(context.Background(), `SELECT channel, type, data::text FROM events ORDER BY id`)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []ev
	var ch, typ, data string
	_, err = pgx.ForEachRow(rows, []any{&ch, &typ, &data}, func() error {
		var je model.JobEvent
		if err := json.Unmarshal([]byte(data), &je); err != nil {
			return fmt.Errorf("event data %s: %w", data, err)
		}
		out = append(out, ev{ch, typ, je.ID, je.Alerts})
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func TestWorker_NewAndExpired(t *testing.T) {
	f := newFixture(t)
	ann, bob := f.user("ann@x"), f.user("bob@x")
	a1 := f.alert(ann, model.Criteria{Query: "golang OR go", Location: "Bakı"})
	a2 := f.alert(ann, model.Criteria{Query: `"backend developer"`})
	f.alert(bob, model.Criteria{Query: "python"})
	f.feed("job-alerts-baku", model.Criteria{Location: "Baku"})
	f.run()

	job := f.job(model.Job{Title: "Senior Golang Backend Developer", Company: "PASHA Bank", Location: "Baku, Azerbaijan", URL: "https://x/1"})
	f.drained()
	got := f.events()
	want := []ev{
		{"jobs", "new-job", job, nil},
		{model.UserChannel(ann), "new-job", job, []int64{a1, a2}},
		{"job-alerts-baku", "new-job", job, nil},
	}
	if !equalEvents(got, want) {
		t.Fatalf("events = %+v\nwant %+v", got, want)
	}
	var users, alertIDs []int64
	var feeds []string
	if err := f.pool.QueryRow(context.Background(), `SELECT users, alert_ids, feeds FROM job_audience WHERE job_id = $1`, job).
		Scan(&users, &alertIDs, &feeds); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(users, []int64{ann, ann}) || !slices.Equal(alertIDs, []int64{a1, a2}) || !slices.Equal(feeds, []string{"job-alerts-baku"}) {
		t.Fatalf("audience = %v %v %v, want [%d %d] [%d %d] [job-alerts-baku]", users, alertIDs, feeds, ann, ann, a1, a2)
	}

	f.expire(job)
	f.drained()
	got = f.events()[3:]
	want = []ev{ // in the order of the announcement: users, then feeds
		{"jobs", "job-expired", job, nil},
		{model.UserChannel(ann), "job-expired", job, []int64{a1, a2}},
		{"job-alerts-baku", "job-expired", job, nil},
	}
	if !equalEvents(got, want) {
		t.Fatalf("expiry events = %+v\nwant %+v", got, want)
	}
}

func equalEvents(a, b []ev) bool {
	return slices.EqualFunc(a, b, func(x, y ev) bool {
		return x.Channel == y.Channel && x.Type == y.Type && x.JobID == y.JobID && slices.Equal(x.Alerts, y.Alerts)
	})
}

func TestWorker_EventDataShape(t *testing.T) {
	f := newFixture(t)
	ann := f.user("ann@x")
	a := f.alert(ann, model.Criteria{Query: "mühəndis"})
	f.run()
	f.job(model.Job{Title: "BAŞ MÜHƏNDİS", Company: "SOCAR", Location: "Sumqayıt", URL: "https://x/2",
		Salary: &model.Salary{Min: 1500, Max: 2000, Currency: "AZN", Period: "month"}, Description: "long text"})
	f.drained()
	var data string
	if err := f.pool.QueryRow(context.Background(), `SELECT data::text FROM events WHERE channel = $1`, model.UserChannel(ann)).Scan(&data); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "title", "company", "location", "remote", "salary", "url", "source", "alerts"} {
		if _, ok := m[k]; !ok {
			t.Errorf("event data lacks %q: %s", k, data)
		}
	}
	if m["source"] != "boss.az" || m["title"] != "BAŞ MÜHƏNDİS" {
		t.Errorf("event data = %s", data)
	}
	if al, _ := m["alerts"].([]any); len(al) != 1 || int64(al[0].(float64)) != a {
		t.Errorf("alerts = %v, want [%d]", m["alerts"], a)
	}
	if _, ok := m["description"]; ok {
		t.Errorf("event data carries the description: %s", data)
	}
}

// TestWorker_TwoNodesExactlyOnce runs two workers on one database and
// checks that every change was matched exactly once.
func TestWorker_TwoNodesExactlyOnce(t *testing.T) {
	f := newFixture(t)
	const users = 5
	var uids []int64
	for i := range users {
		u := f.user(fmt.Sprintf("u%d@x", i))
		uids = append(uids, u)
		f.alert(u, model.Criteria{Query: "developer"})
	}
	f.run(WithBatchSize(3))
	f.run(WithBatchSize(3))
	const jobs = 60
	var ids []int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs / 3 {
				id := f.job(model.Job{Title: "Developer", URL: fmt.Sprintf("https://x/%d/%d", g, i)})
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, id := range ids[:jobs/2] {
		f.expire(id)
	}
	f.drained()
	count := map[string]int{}
	for _, e := range f.events() {
		count[fmt.Sprintf("%s %s %d", e.Channel, e.Type, e.JobID)]++
	}
	for i, id := range ids {
		for _, ch := range append([]string{"jobs"}, chans(uids)...) {
			if n := count[fmt.Sprintf("%s new-job %d", ch, id)]; n != 1 {
				t.Errorf("%s new-job %d: %d events", ch, id, n)
			}
			wantExp := 0
			if i < jobs/2 {
				wantExp = 1
			}
			if n := count[fmt.Sprintf("%s job-expired %d", ch, id)]; n != wantExp {
				t.Errorf("%s job-expired %d: %d events, want %d", ch, id, n, wantExp)
			}
		}
	}
}

func chans(uids []int64) []string {
	var out []string
	for _, u := range uids {
		out = append(out, model.UserChannel(u))
	}
	return out
}

// TestWorker_AlertChangesApplied checks that alerts created, edited, paused
// and deleted while a worker runs are honoured for jobs ingested after.
func TestWorker_AlertChangesApplied(t *testing.T) {
	f := newFixture(t)
	ann := f.user("ann@x")
	w := f.run(WithPollInterval(time.Hour))
	a := f.alert(ann, model.Criteria{Query: "java"})
	j1 := f.job(model.Job{Title: "Java Developer", URL: "https://x/1"})
	f.drained()

	f.exec(`UPDATE alerts SET criteria = '{"query":"kotlin"}' WHERE id = $1`, a)
	j2 := f.job(model.Job{Title: "Java Developer", URL: "https://x/2"})
	j3 := f.job(model.Job{Title: "Kotlin Developer", URL: "https://x/3"})
	f.drained()

	f.exec(`UPDATE alerts SET paused = true WHERE id = $1`, a)
	j4 := f.job(model.Job{Title: "Kotlin Developer", URL: "https://x/4"})
	f.drained()

	f.exec(`UPDATE alerts SET paused = false WHERE id = $1`, a)
	j5 := f.job(model.Job{Title: "Kotlin Developer", URL: "https://x/5"})
	f.drained()

	f.exec(`DELETE FROM alerts WHERE id = $1`, a)
	j6 := f.job(model.Job{Title: "Kotlin Developer", URL: "https://x/6"})
	f.drained()

	var got []int64
	for _, e := range f.events() {
		if e.Channel == model.UserChannel(ann) {
			got = append(got, e.JobID)
		}
	}
	if want := []int64{j1, j3, j5}; !slices.Equal(got, want) {
		t.Fatalf("ann was told about %v, want %v (j2=%d j4=%d j6=%d)", got, want, j2, j4, j6)
	}
	if s := w.Stats(); s.Alerts != 0 {
		t.Fatalf("index holds %d alerts after delete", s.Alerts)
	}
}

// TestWorker_BadCriteriaSkipped: criteria written around the API's
// validation are logged and skipped; other alerts still match.
func TestWorker_BadCriteriaSkipped(t *testing.T) {
	f := newFixture(t)
	ann := f.user("ann@x")
	f.exec(`INSERT INTO alerts (user_id, criteria) VALUES ($1, '{"query":"\"unclosed"}')`, ann)
	f.exec(`INSERT INTO alerts (user_id, criteria) VALUES ($1, '{"query": 5}')`, ann)
	good := f.alert(ann, model.Criteria{Query: "sql"})
	f.run()
	j := f.job(model.Job{Title: "SQL analyst", URL: "https://x/1"})
	f.drained()
	evs := f.events()
	if len(evs) != 2 || evs[1].JobID != j || !slices.Equal(evs[1].Alerts, []int64{good}) {
		t.Fatalf("events = %+v", evs)
	}
}

// BenchmarkWorker_Fanout100k measures the commit of one job that matches
// 100,000 users' alerts: claim, match, 100,001 events and the job's
// audience in one transaction.
func BenchmarkWorker_Fanout100k(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.New(b)
	for _, s := range []string{
		`INSERT INTO sources (name, kind) VALUES ('bench', 'manual')`,
		`INSERT INTO users (email, password_hash) SELECT 'u' || i || '@x', 'x' FROM generate_series(1, 100000) i`,
		`INSERT INTO alerts (user_id, criteria) SELECT id, '{"query":"golang","location":"Bakı"}' FROM users`,
	} {
		if _, err := pool.Exec(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	w := NewWorker(pool, testLogger())
	if _, err := w.Drain(ctx); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		b.StopTimer()
		if _, err := pool.Exec(ctx, `
			WITH j AS (INSERT INTO jobs (source_id, dedupe_key, url, title, company, location, content_hash)
				SELECT id, 'bench' || $1, 'https://x/' || $1, 'Senior Golang Developer', 'PASHA Bank', 'Baku', '\x00' FROM sources
				RETURNING id)
			INSERT INTO job_changes (job_id, kind) SELECT id, 'new' FROM j`, fmt.Sprint(i)); err != nil {
			b.Fatal(err)
		}
		i++
		b.StartTimer()
		if n, err := w.Drain(ctx); err != nil || n != 1 {
			b.Fatalf("Drain = %d, %v", n, err)
		}
	}
}

// TestWorker_ExpiryWaitsForNew: while a job's 'new' change is held by
// another node, its 'expired' change is not claimed, so the expiry cannot
// overtake the deliveries it must reach.
func TestWorker_ExpiryWaitsForNew(t *testing.T) {
	f := newFixture(t)
	ann := f.user("ann@x")
	f.alert(ann, model.Criteria{Query: "rust"})
	ctx := context.Background()
	w := NewWorker(f.pool, testLogger())
	if _, err := w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	job := f.job(model.Job{Title: "Rust engineer", URL: "https://x/1"})
	f.expire(job)

	// Another node has claimed the 'new' change and is still working.
	other, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var claimed int64
	if err := other.QueryRow(ctx, `SELECT id FROM job_changes WHERE kind = 'new' FOR UPDATE`).Scan(&claimed); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Drain(ctx); err != nil || n != 0 {
		t.Fatalf("Drain while 'new' is held = %d, %v; want 0", n, err)
	}
	other.Rollback(ctx) // that node died: its change is back in the outbox

	if n, err := w.Drain(ctx); err != nil || n != 2 {
		t.Fatalf("Drain = %d, %v; want 2", n, err)
	}
	want := []ev{
		{"jobs", "new-job", job, nil},
		{model.UserChannel(ann), "new-job", job, nil},
		{"jobs", "job-expired", job, nil},
		{model.UserChannel(ann), "job-expired", job, nil},
	}
	got := f.events()
	for i := range got {
		got[i].Alerts = nil
	}
	if !equalEvents(got, want) {
		t.Fatalf("events = %+v\nwant %+v", got, want)
	}
}

// TestWorker_ListenConnectionLost: when the listening connection dies, the
// worker listens again and catches up, without waiting for its poll.
func TestWorker_ListenConnectionLost(t *testing.T) {
	f := newFixture(t)
	ann := f.user("ann@x")
	f.alert(ann, model.Criteria{Query: "scala"})
	f.run(WithPollInterval(time.Hour))
	var killed int
	if err := f.pool.QueryRow(context.Background(), `
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no listening backend found")
	}
	job := f.job(model.Job{Title: "Scala developer", URL: "https://x/1"})
	f.drained()
	evs := f.events()
	if len(evs) != 2 || evs[1].JobID != job || evs[1].Channel != model.UserChannel(ann) {
		t.Fatalf("events = %+v", evs)
	}
	// And it keeps listening: a later job is matched without a poll too.
	job2 := f.job(model.Job{Title: "Scala engineer", URL: "https://x/2"})
	f.drained()
	if evs := f.events(); len(evs) != 4 || evs[3].JobID != job2 {
		t.Fatalf("events = %+v", evs)
	}
}
