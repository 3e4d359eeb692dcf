package matcher

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/model"
)

// Notification channels the worker listens on.
const (
	ChannelJobsNotify   = "birjob_jobs"
	ChannelAlertsNotify = "birjob_alerts"
)

// Defaults of the worker's options.
const (
	// DefaultBatchSize is how many outbox rows one transaction claims: big
	// enough to amortise a commit, small enough that a batch of jobs each
	// matching many users stays a short transaction.
	DefaultBatchSize = 100
	// DefaultPollInterval is how often the worker looks for work when no
	// notification arrives; notifications are the fast path, this is the
	// safety net for a lost one.
	DefaultPollInterval = 30 * time.Second
	// DefaultChangeRetention is how long criteria_changes rows are kept.
	DefaultChangeRetention = 24 * time.Hour
)

// loadBatch is how many alerts a start-up load compiles at a time.
const loadBatch = 20000

// Option configures a Worker.
type Option func(*Worker)

// WithBatchSize sets how many job changes one transaction claims.
func WithBatchSize(n int) Option {
	return func(w *Worker) {
		if n > 0 {
			w.batch = n
		}
	}
}

// WithPollInterval sets the safety-net polling interval.
func WithPollInterval(d time.Duration) Option {
	return func(w *Worker) {
		if d > 0 {
			w.poll = d
		}
	}
}

// WithChangeRetention sets how long criteria changes are kept.
func WithChangeRetention(d time.Duration) Option {
	return func(w *Worker) {
		if d > 0 {
			w.retention = d
		}
	}
}

// WithNewIndex sets the constructor of the alerts index (tests use it to
// run the pipeline on Brute). The default is NewIndex.
func WithNewIndex(f func() Matcher) Option {
	return func(w *Worker) { w.newIndex = f }
}

// Worker is the matching stage of the pipeline: it keeps every active
// alert and feed in memory, claims new and expired jobs from the
// job_changes outbox and writes their events. Run it on any number of
// nodes against one database: each change is matched exactly once.
type Worker struct {
	pool      *pgxpool.Pool
	log       *slog.Logger
	batch     int
	poll      time.Duration
	retention time.Duration
	newIndex  func() Matcher

	// Touched only by the Run goroutine, except through atomics.
	alerts     atomic.Pointer[matcherBox]
	feeds      atomic.Pointer[matcherBox]
	feedNames  map[int64]string // feed id → channel name
	hitBuf     []Hit            // reused from job to job
	cursor     int64
	loaded     bool
	lastPrune  time.Time
	ready      chan struct{}
	readyOnce  bool
	matched    atomic.Int64
	eventsSent atomic.Int64
}

type matcherBox struct{ m Matcher }

// NewWorker returns a worker on pool; call Run to start it.
func NewWorker(pool *pgxpool.Pool, log *slog.Logger, opts ...Option) *Worker {
	if log == nil {
		log = slog.Default()
	}
	w := &Worker{
		pool:      pool,
		log:       log.With("component", "matcher"),
		batch:     DefaultBatchSize,
		poll:      DefaultPollInterval,
		retention: DefaultChangeRetention,
		newIndex:  func() Matcher { return NewIndex() },
		ready:     make(chan struct{}),
	}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Ready is closed once the worker has loaded every criteria and processed
// the outbox once.
func (w *Worker) Ready() <-chan struct{} { return w.ready }

// Stats are counters of a worker since it started.
type Stats struct {
	Alerts  int   // criteria in the alerts index
	Feeds   int   // feeds held
	Changes int64 // job changes processed
	Events  int64 // events written
}

// Stats returns the worker's counters.
func (w *Worker) Stats() Stats {
	var s Stats
	if b := w.alerts.Load(); b != nil {
		s.Alerts = b.m.Len()
	}
	if b := w.feeds.Load(); b != nil {
		s.Feeds = b.m.Len()
	}
	s.Changes = w.matched.Load()
	s.Events = w.eventsSent.Load()
	return s
}

// Run matches until ctx ends, then returns nil. A lost database connection
// is retried with backoff; on reconnect the worker listens again and
// catches up on everything it may have missed.
func (w *Worker) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		err := w.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		w.log.Warn("matcher session ended, retrying", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// session holds one listening connection until it fails or ctx ends.
func (w *Worker) session(ctx context.Context) error {
	pc, err := w.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire listen connection: %w", err)
	}
	// The listening connection is ours until it breaks: never hand a
	// connection with LISTENs (or a broken one) back to the pool.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	for _, ch := range []string{ChannelJobsNotify, ChannelAlertsNotify} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	if !w.loaded {
		if err := w.loadAll(ctx); err != nil {
			return err
		}
	}
	for {
		if err := w.catchUp(ctx); err != nil {
			return err
		}
		if !w.readyOnce {
			w.readyOnce = true
			close(w.ready)
		}
		wctx, cancel := context.WithTimeout(ctx, w.poll)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && !pgconn.Timeout(err) {
			return fmt.Errorf("wait for notification: %w", err)
		}
		if err != nil && conn.IsClosed() {
			return fmt.Errorf("listen connection closed: %w", err)
		}
	}
}

// Drain loads the criteria (the first time), applies criteria changes and
// processes the outbox until it is empty, then returns the number of job
// changes it processed. It is for tools and benchmarks; do not call it on
// a Worker whose Run is running.
func (w *Worker) Drain(ctx context.Context) (int, error) {
	if !w.loaded {
		if err := w.loadAll(ctx); err != nil {
			return 0, err
		}
	}
	if err := w.applyChanges(ctx, w.pool); err != nil {
		return 0, err
	}
	total := 0
	for {
		n, err := w.processBatch(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// catchUp applies criteria changes and processes the outbox until empty.
func (w *Worker) catchUp(ctx context.Context) error {
	if err := w.applyChanges(ctx, w.pool); err != nil {
		return err
	}
	for {
		n, err := w.processBatch(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	if time.Since(w.lastPrune) > time.Hour {
		w.lastPrune = time.Now()
		if err := w.prune(ctx); err != nil {
			w.log.Warn("prune criteria changes", "err", err)
		}
	}
	return nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// loadAll builds fresh indexes from every active alert and feed, and sets
// the change cursor from the same snapshot.
func (w *Worker) loadAll(ctx context.Context) error {
	start := time.Now()
	alerts, feeds := w.newIndex(), Matcher(NewBrute())
	feedNames := map[int64]string{}
	var cursor int64
	err := pgx.BeginTxFunc(ctx, w.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM criteria_changes`).Scan(&cursor); err != nil {
			return fmt.Errorf("change cursor: %w", err)
		}
		if g, ok := alerts.(interface{ Grow(int) }); ok {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM alerts WHERE NOT paused`).Scan(&n); err != nil {
				return fmt.Errorf("count alerts: %w", err)
			}
			g.Grow(n)
		}
		rows, err := tx.Query(ctx, `SELECT id, user_id, criteria FROM alerts WHERE NOT paused`)
		if err != nil {
			return fmt.Errorf("load alerts: %w", err)
		}
		var id, user int64
		var crit []byte
		batcher, bulk := alerts.(interface {
			AddBatch(items []Item, onErr func(Item, error))
		})
		var batch []Item
		flush := func() {
			batcher.AddBatch(batch, func(it Item, err error) {
				w.log.Warn("skipping invalid criteria", "criteria_id", it.ID, "user_id", it.Owner.UserID, "err", err)
			})
			batch = batch[:0]
		}
		_, err = pgx.ForEachRow(rows, []any{&id, &user, &crit}, func() error {
			if !bulk {
				w.put(alerts, id, Owner{UserID: user}, crit)
				return nil
			}
			var c model.Criteria
			if err := json.Unmarshal(crit, &c); err != nil {
				w.log.Warn("skipping criteria that is not valid JSON", "criteria_id", id, "user_id", user, "err", err)
				return nil
			}
			batch = append(batch, Item{ID: id, Owner: Owner{UserID: user}, Criteria: c})
			if len(batch) == loadBatch {
				flush()
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("load alerts: %w", err)
		}
		if len(batch) > 0 {
			flush()
		}
		var name string
		rows, err = tx.Query(ctx, `SELECT id, name, criteria FROM feeds`)
		if err != nil {
			return fmt.Errorf("load feeds: %w", err)
		}
		_, err = pgx.ForEachRow(rows, []any{&id, &name, &crit}, func() error {
			w.put(feeds, id, Owner{}, crit)
			feedNames[id] = name
			return nil
		})
		if err != nil {
			return fmt.Errorf("load feeds: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.alerts.Store(&matcherBox{alerts})
	w.feeds.Store(&matcherBox{feeds})
	w.feedNames = feedNames
	w.cursor = cursor
	w.loaded = true
	w.log.Info("matcher loaded criteria", "alerts", alerts.Len(), "feeds", feeds.Len(),
		"change_cursor", cursor, "took_ms", time.Since(start).Milliseconds())
	return nil
}

// put adds criteria stored as JSON; bad criteria are logged and left out,
// never stopping the others.
func (w *Worker) put(m Matcher, id int64, owner Owner, crit []byte) {
	var c model.Criteria
	if err := json.Unmarshal(crit, &c); err != nil {
		m.Remove(id)
		w.log.Warn("skipping criteria that is not valid JSON", "criteria_id", id, "user_id", owner.UserID, "err", err)
		return
	}
	if err := m.Update(id, owner, c); err != nil {
		m.Remove(id)
		w.log.Warn("skipping invalid criteria", "criteria_id", id, "user_id", owner.UserID, "err", err)
	}
}

// applyChanges brings the indexes up to every criteria change committed so
// far.
func (w *Worker) applyChanges(ctx context.Context, q querier) error {
	rows, err := q.Query(ctx, `SELECT id, kind, ref_id FROM criteria_changes WHERE id > $1 ORDER BY id`, w.cursor)
	if err != nil {
		return fmt.Errorf("read criteria changes: %w", err)
	}
	var id, ref, last int64
	var kind string
	var alertIDs, feedIDs []int64
	_, err = pgx.ForEachRow(rows, []any{&id, &kind, &ref}, func() error {
		last = id
		if kind == "alert" {
			alertIDs = append(alertIDs, ref)
		} else {
			feedIDs = append(feedIDs, ref)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read criteria changes: %w", err)
	}
	var purged int64
	if err := q.QueryRow(ctx, `SELECT purged_upto FROM criteria_changes_retention`).Scan(&purged); err != nil {
		return fmt.Errorf("read criteria retention: %w", err)
	}
	if purged > w.cursor {
		w.log.Info("criteria changes were pruned past this node's cursor; reloading", "cursor", w.cursor, "purged_upto", purged)
		return w.loadAll(ctx)
	}
	if last == 0 {
		return nil
	}
	alerts, feeds := w.alerts.Load().m, w.feeds.Load().m
	if len(alertIDs) > 0 {
		alertIDs = uniq(alertIDs)
		seen := map[int64]bool{}
		rows, err := q.Query(ctx, `SELECT id, user_id, criteria, paused FROM alerts WHERE id = ANY($1)`, alertIDs)
		if err != nil {
			return fmt.Errorf("read changed alerts: %w", err)
		}
		var user int64
		var crit []byte
		var paused bool
		_, err = pgx.ForEachRow(rows, []any{&id, &user, &crit, &paused}, func() error {
			seen[id] = true
			if paused {
				alerts.Remove(id)
			} else {
				w.put(alerts, id, Owner{UserID: user}, crit)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read changed alerts: %w", err)
		}
		for _, a := range alertIDs {
			if !seen[a] {
				alerts.Remove(a)
			}
		}
	}
	if len(feedIDs) > 0 {
		feedIDs = uniq(feedIDs)
		seen := map[int64]bool{}
		rows, err := q.Query(ctx, `SELECT id, name, criteria FROM feeds WHERE id = ANY($1)`, feedIDs)
		if err != nil {
			return fmt.Errorf("read changed feeds: %w", err)
		}
		var name string
		var crit []byte
		_, err = pgx.ForEachRow(rows, []any{&id, &name, &crit}, func() error {
			seen[id] = true
			w.put(feeds, id, Owner{}, crit)
			w.feedNames[id] = name
			return nil
		})
		if err != nil {
			return fmt.Errorf("read changed feeds: %w", err)
		}
		for _, f := range feedIDs {
			if !seen[f] {
				feeds.Remove(f)
				delete(w.feedNames, f)
			}
		}
	}
	w.log.Debug("applied criteria changes", "alerts", len(alertIDs), "feeds", len(feedIDs), "change_cursor", last)
	w.cursor = last
	return nil
}

func uniq(s []int64) []int64 {
	slices.Sort(s)
	return slices.Compact(s)
}

// prune deletes old criteria changes and records how far it went.
func (w *Worker) prune(ctx context.Context) error {
	_, err := w.pool.Exec(ctx, `
		WITH d AS (DELETE FROM criteria_changes WHERE created_at < now() - make_interval(secs => $1) RETURNING id)
		UPDATE criteria_changes_retention
		SET purged_upto = greatest(purged_upto, (SELECT coalesce(max(id), 0) FROM d))`,
		w.retention.Seconds())
	if err != nil {
		return fmt.Errorf("prune criteria changes: %w", err)
	}
	return nil
}

type change struct {
	id    int64
	jobID int64
	kind  string
}

const jobCols = `j.id, j.source_id, s.name, j.external_id, j.url, j.title, j.company, j.location, j.remote,
	j.salary_min, j.salary_max, j.salary_currency, j.salary_period, j.employment_type, j.description,
	j.posted_at, j.valid_through, j.first_seen_at, j.expired_at`

func scanJob(row pgx.Row) (*model.Job, error) {
	var j model.Job
	var smin, smax *float64
	var cur, per string
	if err := row.Scan(&j.ID, &j.SourceID, &j.Source, &j.ExternalID, &j.URL, &j.Title, &j.Company, &j.Location,
		&j.Remote, &smin, &smax, &cur, &per, &j.EmploymentType, &j.Description, &j.PostedAt, &j.ValidThrough,
		&j.FirstSeenAt, &j.ExpiredAt); err != nil {
		return nil, err
	}
	if smin != nil || smax != nil {
		j.Salary = &model.Salary{Currency: cur, Period: per}
		if smin != nil {
			j.Salary.Min = *smin
		}
		if smax != nil {
			j.Salary.Max = *smax
		}
	}
	return &j, nil
}

// batchWriter accumulates the rows one batch writes. An event's data is
// base, or base with an "alerts" member when alerts is not nil; it is
// encoded while the COPY streams, so that building 100,000 users' payloads
// overlaps with the server storing the first ones.
type batchWriter struct {
	channels, types []string
	bases           [][]byte
	alerts          [][]int64
	audiences       []audience
}

func (b *batchWriter) event(channel, typ string, base []byte, alerts []int64) {
	b.channels = append(b.channels, channel)
	b.types = append(b.types, typ)
	b.bases = append(b.bases, base)
	b.alerts = append(b.alerts, alerts)
}

// audience is who was told about a job: users[i] was told because of
// alertIDs[i] (ordered by user, then alert), and the feeds.
type audience struct {
	jobID    int64
	users    []int64
	alertIDs []int64
	feeds    []string
}

// deliveries lists a's channels, each user's with its alert ids.
func (a *audience) deliveries() []delivery {
	var out []delivery
	for i := 0; i < len(a.users); {
		k := i + 1
		for k < len(a.users) && a.users[k] == a.users[i] {
			k++
		}
		out = append(out, delivery{model.UserChannel(a.users[i]), a.alertIDs[i:k:k]})
		i = k
	}
	for _, f := range a.feeds {
		out = append(out, delivery{f, nil})
	}
	return out
}

type delivery struct {
	channel string
	alerts  []int64 // nil for a feed
}

// appendWithAlerts appends the job event JSON base (an object) with an
// "alerts" member added.
func appendWithAlerts(out, base []byte, ids []int64) []byte {
	out = append(out, base[:len(base)-1]...)
	out = append(out, `,"alerts":[`...)
	for i, id := range ids {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendInt(out, id, 10)
	}
	return append(out, "]}"...)
}

// eventJSON is the data of a job's events: the job as the spec describes
// it, without the description (clients fetch it with the job) and internal
// fields, so that a job matching many users stays cheap to write.
func eventJSON(j *model.Job) ([]byte, error) {
	e := *j
	e.Description = ""
	e.ExternalID = ""
	return json.Marshal(model.JobEvent{Job: e})
}

// writeAudiences records who was told about which job, one row per job; a
// job announced again replaces its earlier audience.
func writeAudiences(ctx context.Context, tx pgx.Tx, as []audience) error {
	batch := &pgx.Batch{}
	for _, a := range as {
		batch.Queue(`
			INSERT INTO job_audience (job_id, users, alert_ids, feeds) VALUES ($1, $2, $3, $4)
			ON CONFLICT (job_id) DO UPDATE SET users = EXCLUDED.users, alert_ids = EXCLUDED.alert_ids, feeds = EXCLUDED.feeds`,
			a.jobID, nonNil(a.users), nonNil(a.alertIDs), nonNil(a.feeds))
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("write job audiences: %w", err)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// copyEvents streams the batch's events into the log.
func copyEvents(ctx context.Context, tx pgx.Tx, b *batchWriter) error {
	var buf []byte
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"channel", "type", "data"},
		pgx.CopyFromSlice(len(b.channels), func(i int) ([]any, error) {
			data := b.bases[i]
			if b.alerts[i] != nil {
				// pgx encodes a row before it asks for the next one, so one
				// buffer serves every row.
				buf = appendWithAlerts(buf[:0], data, b.alerts[i])
				data = buf
			}
			return []any{b.channels[i], b.types[i], data}, nil
		}))
	if err != nil {
		return fmt.Errorf("write events: %w", err)
	}
	return nil
}

// processBatch claims up to w.batch outbox rows, writes their events and
// deletes them, in one transaction. It returns the number of rows claimed.
func (w *Worker) processBatch(ctx context.Context) (int, error) {
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("begin batch: %w", err)
	}
	defer tx.Rollback(context.Background())

	// A change waits while an earlier change of its job is pending (maybe
	// being matched on another node): a job's expiry must follow its
	// deliveries. Rows another node has claimed are skipped, not waited for.
	rows, err := tx.Query(ctx, `
		SELECT c.id, c.job_id, c.kind FROM job_changes c
		WHERE NOT EXISTS (SELECT 1 FROM job_changes p WHERE p.job_id = c.job_id AND p.id < c.id)
		ORDER BY c.id LIMIT $1 FOR UPDATE SKIP LOCKED`, w.batch)
	if err != nil {
		return 0, fmt.Errorf("claim job changes: %w", err)
	}
	changes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (change, error) {
		var c change
		err := r.Scan(&c.id, &c.jobID, &c.kind)
		return c, err
	})
	if err != nil {
		return 0, fmt.Errorf("claim job changes: %w", err)
	}
	if len(changes) == 0 {
		return 0, nil
	}
	// A node with a stale index must not miss an alert saved before the
	// job was ingested: apply every criteria change committed so far.
	if err := w.applyChanges(ctx, tx); err != nil {
		return 0, err
	}
	jobIDs := make([]int64, 0, len(changes))
	var expiredIDs []int64
	for _, c := range changes {
		jobIDs = append(jobIDs, c.jobID)
		if c.kind == "expired" {
			expiredIDs = append(expiredIDs, c.jobID)
		}
	}
	rows, err = tx.Query(ctx, `SELECT `+jobCols+` FROM jobs j JOIN sources s ON s.id = j.source_id WHERE j.id = ANY($1)`, uniq(jobIDs))
	if err != nil {
		return 0, fmt.Errorf("load jobs: %w", err)
	}
	jobs := map[int64]*model.Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("load jobs: %w", err)
		}
		jobs[j.ID] = j
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("load jobs: %w", err)
	}
	told := map[int64][]delivery{}
	if len(expiredIDs) > 0 {
		rows, err := tx.Query(ctx, `SELECT job_id, users, alert_ids, feeds FROM job_audience WHERE job_id = ANY($1)`, uniq(expiredIDs))
		if err != nil {
			return 0, fmt.Errorf("load audiences: %w", err)
		}
		var a audience
		_, err = pgx.ForEachRow(rows, []any{&a.jobID, &a.users, &a.alertIDs, &a.feeds}, func() error {
			if len(a.users) != len(a.alertIDs) {
				return fmt.Errorf("job %d: %d users but %d alert ids", a.jobID, len(a.users), len(a.alertIDs))
			}
			told[a.jobID] = a.deliveries()
			a = audience{}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("load audiences: %w", err)
		}
	}

	alerts, feeds := w.alerts.Load().m, w.feeds.Load().m
	tMatch := time.Now()
	var b batchWriter
	for _, c := range changes {
		j := jobs[c.jobID]
		if j == nil {
			continue // deleted since; its outbox row goes too
		}
		base, err := eventJSON(j)
		if err != nil {
			return 0, fmt.Errorf("job %d: encode event: %w", j.ID, err)
		}
		switch c.kind {
		case "new":
			b.event(model.ChannelJobs, model.EventNewJob, base, nil)
			var hits []Hit
			if ma, ok := alerts.(interface {
				MatchAppend([]Hit, *model.Job) []Hit
			}); ok {
				w.hitBuf = ma.MatchAppend(w.hitBuf[:0], j)
				hits = w.hitBuf
			} else {
				hits = alerts.Match(j)
			}
			slices.SortFunc(hits, func(x, y Hit) int {
				if c := cmp.Compare(x.Owner.UserID, y.Owner.UserID); c != 0 {
					return c
				}
				return cmp.Compare(x.AlertID, y.AlertID)
			})
			// The audience owns its slices (hitBuf is reused by the next
			// job); each user's event shares its part of alertIDs.
			a := audience{jobID: j.ID, users: make([]int64, len(hits)), alertIDs: make([]int64, len(hits))}
			for i, h := range hits {
				a.users[i], a.alertIDs[i] = h.Owner.UserID, h.AlertID
			}
			var feedNames []string
			for _, h := range feeds.Match(j) {
				if name, ok := w.feedNames[h.AlertID]; ok {
					feedNames = append(feedNames, name)
				}
			}
			slices.Sort(feedNames)
			a.feeds = slices.Compact(feedNames)
			ds := a.deliveries()
			for _, d := range ds {
				b.event(d.channel, model.EventNewJob, base, d.alerts)
			}
			told[j.ID] = ds
			b.audiences = append(b.audiences, a)
			w.log.Debug("matched job", "job_id", j.ID, "users", len(ds)-len(a.feeds), "feeds", len(a.feeds))
		case "expired":
			b.event(model.ChannelJobs, model.EventJobExpired, base, nil)
			for _, d := range told[j.ID] {
				b.event(d.channel, model.EventJobExpired, base, d.alerts)
			}
			delete(told, j.ID) // a second expiry in the batch tells only jobs
		}
	}
	tEvents := time.Now()
	if len(b.channels) > 0 {
		if err := copyEvents(ctx, tx, &b); err != nil {
			return 0, err
		}
	}
	tAudiences := time.Now()
	if len(b.audiences) > 0 {
		if err := writeAudiences(ctx, tx, b.audiences); err != nil {
			return 0, err
		}
	}
	ids := make([]int64, len(changes))
	for i, c := range changes {
		ids[i] = c.id
	}
	if _, err := tx.Exec(ctx, `DELETE FROM job_changes WHERE id = ANY($1)`, ids); err != nil {
		return 0, fmt.Errorf("delete job changes: %w", err)
	}
	tCommit := time.Now()
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("commit batch: %w", err)
	}
	w.log.Debug("matched batch", "changes", len(changes), "events", len(b.channels),
		"match_ms", tEvents.Sub(tMatch).Milliseconds(), "events_ms", tAudiences.Sub(tEvents).Milliseconds(),
		"audiences_ms", tCommit.Sub(tAudiences).Milliseconds(), "commit_ms", time.Since(tCommit).Milliseconds())
	w.matched.Add(int64(len(changes)))
	w.eventsSent.Add(int64(len(b.channels)))
	return len(changes), nil
}
