package matcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
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
	pool      *pgxpool.Pool // for the listening connection
	store     *storage.Store
	log       *slog.Logger
	batch     int
	poll      time.Duration
	retention time.Duration
	newIndex  func() Matcher

	// Touched only by the Run goroutine, except through atomics.
	alerts      atomic.Pointer[matcherBox]
	feeds       atomic.Pointer[matcherBox]
	feedNames   map[int64]string // feed id → channel name
	hitBuf      []Hit            // reused from job to job
	cursor      int64
	loaded      bool
	lastPrune   time.Time
	ready       chan struct{}
	readyOnce   bool
	matched     atomic.Int64
	eventsSent  atomic.Int64
	jobsMatched atomic.Int64 // new jobs matched against the alerts
	matchNanos  atomic.Int64 // time spent matching them
	metrics     *metrics
}

type matcherBox struct{ m Matcher }

// NewWorker returns a worker on pool; call Run to start it.
func NewWorker(pool *pgxpool.Pool, log *slog.Logger, opts ...Option) *Worker {
	if log == nil {
		log = slog.Default()
	}
	w := &Worker{
		pool:      pool,
		store:     storage.New(pool),
		log:       log.With("component", "matcher"),
		batch:     DefaultBatchSize,
		poll:      DefaultPollInterval,
		retention: DefaultChangeRetention,
		newIndex:  func() Matcher { return NewIndex() },
		ready:     make(chan struct{}),
		metrics:   newMetrics(),
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
	// Matched counts the new jobs matched against the alerts, and
	// MatchTime the time that took (the admin page's matching time).
	Matched   int64
	MatchTime time.Duration
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
	s.Matched = w.jobsMatched.Load()
	s.MatchTime = time.Duration(w.matchNanos.Load())
	return s
}

// ListenAppName is the application_name of the matcher's LISTEN
// connection (operators and tests find it in pg_stat_activity).
const ListenAppName = "birjob-matcher"

// Reconnect backoff: from retryMin, doubling while sessions keep failing,
// back to retryMin after a session that listened and caught up (an old
// outage must not slow the recovery from a new one). retryMax bounds how
// long matching waits after the database is back: at most a second (a
// longer cap left jobs unmatched for up to 10 s after a restart; see
// internal/faulttest). A refused connection a second is nothing to a
// database that is away.
const (
	retryMin = 100 * time.Millisecond
	retryMax = time.Second
)

// Run matches until ctx ends, then returns nil. A lost database connection
// is retried with backoff; on reconnect the worker listens again and
// catches up on everything it may have missed.
func (w *Worker) Run(ctx context.Context) error {
	backoff := retryMin
	for {
		healthy, err := w.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if healthy {
			backoff = retryMin
		}
		w.log.Warn("matcher session ended, retrying", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, retryMax)
	}
}

// session holds one listening connection until it fails or ctx ends;
// healthy reports whether it listened and caught up at least once.
func (w *Worker) session(ctx context.Context) (healthy bool, err error) {
	// A connection of its own, outside the pool (a connection with LISTENs,
	// or a broken one, must never go back to it), named for pg_stat_activity.
	cfg := w.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = ListenAppName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("connect the listen connection: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	for _, ch := range []string{ChannelJobsNotify, ChannelAlertsNotify} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return false, fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	if !w.loaded {
		if err := w.loadAll(ctx); err != nil {
			return false, err
		}
	}
	for {
		if err := w.catchUp(ctx); err != nil {
			return healthy, err
		}
		healthy = true
		if !w.readyOnce {
			w.readyOnce = true
			close(w.ready)
		}
		wctx, cancel := context.WithTimeout(ctx, w.poll)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return healthy, ctx.Err()
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && !pgconn.Timeout(err) {
			return healthy, fmt.Errorf("wait for notification: %w", err)
		}
		if err != nil && conn.IsClosed() {
			return healthy, fmt.Errorf("listen connection closed: %w", err)
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
	if err := w.applyChanges(ctx, w.store); err != nil {
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
	if err := w.applyChanges(ctx, w.store); err != nil {
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

// processBatch claims up to w.batch outbox rows, writes their events and
// audiences and deletes them, in one transaction: claim (storage), read
// what the plan needs, match, plan (no I/O), write (storage). It returns
// the number of rows claimed.
func (w *Worker) processBatch(ctx context.Context) (int, error) {
	var claimed, events int
	var claimedChanges []storage.JobChange
	var t batchTimes
	err := w.store.Tx(ctx, func(tx *storage.Store) error {
		changes, err := tx.ClaimJobChanges(ctx, w.batch)
		if err != nil || len(changes) == 0 {
			return err
		}
		// A node with a stale index must not miss an alert saved before the
		// job was ingested: apply every criteria change committed so far.
		if err := w.applyChanges(ctx, tx); err != nil {
			return err
		}
		in, err := readBatch(ctx, tx, changes)
		if err != nil {
			return err
		}
		t.match = time.Now()
		in.matched = w.matchNew(in)
		p, err := planBatch(in)
		if err != nil {
			return err
		}
		w.logAudiences(ctx, p.audiences)
		if err := writeBatch(ctx, tx, changes, &p, &t); err != nil {
			return err
		}
		claimed, events, claimedChanges = len(changes), len(p.channels), changes
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("match batch: %w", err)
	}
	if claimed == 0 {
		return 0, nil
	}
	w.log.Debug("matched batch", "changes", claimed, "events", events,
		"match_ms", t.events.Sub(t.match).Milliseconds(), "events_ms", t.audiences.Sub(t.events).Milliseconds(),
		"audiences_ms", t.commit.Sub(t.audiences).Milliseconds(), "commit_ms", time.Since(t.commit).Milliseconds())
	w.matched.Add(int64(claimed))
	w.eventsSent.Add(int64(events))
	w.metrics.counted(claimedChanges, events)
	return claimed, nil
}

// batchTimes are when each step of a batch began, for the debug log.
type batchTimes struct {
	match, events, audiences, commit time.Time
}

// readBatch reads the changed jobs and, for the expiring and listed ones,
// who was told about them.
func readBatch(ctx context.Context, tx *storage.Store, changes []storage.JobChange) (batchInput, error) {
	in := batchInput{changes: changes}
	jobIDs := make([]int64, 0, len(changes))
	var toldIDs []int64
	for _, c := range changes {
		jobIDs = append(jobIDs, c.JobID)
		if c.Kind == storage.JobChangeExpired || c.Kind == storage.JobChangeListed {
			toldIDs = append(toldIDs, c.JobID)
		}
	}
	jobs, err := tx.JobsByID(ctx, uniq(jobIDs))
	if err != nil {
		return in, err
	}
	in.jobs = make(map[int64]*model.Job, len(jobs))
	for i := range jobs {
		in.jobs[jobs[i].ID] = &jobs[i]
	}
	if len(toldIDs) > 0 {
		if in.stored, err = tx.JobAudiences(ctx, uniq(toldIDs)); err != nil {
			return in, err
		}
	}
	return in, nil
}

// matchNew matches each new or listed job of the batch against the
// indexes: who it goes to, by job id.
func (w *Worker) matchNew(in batchInput) map[int64]storage.Audience {
	alerts, feeds := w.alerts.Load().m, w.feeds.Load().m
	ma, reuse := alerts.(interface {
		MatchAppend([]Hit, *model.Job) []Hit
	})
	out := make(map[int64]storage.Audience, len(in.changes))
	for _, c := range in.changes {
		j := in.jobs[c.JobID]
		if c.Kind == storage.JobChangeExpired || c.Backlog || j == nil {
			continue // a backlog job goes to "jobs" only: nobody to match
		}
		if _, done := out[c.JobID]; done {
			continue // new and listed in one batch: one match serves both
		}
		var hits []Hit
		start := time.Now()
		if reuse {
			w.hitBuf = ma.MatchAppend(w.hitBuf[:0], j)
			hits = w.hitBuf
		} else {
			hits = alerts.Match(j)
		}
		took := time.Since(start)
		w.metrics.matchDuration.Observe(took.Seconds())
		w.jobsMatched.Add(1)
		w.matchNanos.Add(int64(took))
		w.metrics.matchesPerJob.Observe(float64(len(hits)))
		var feedNames []string
		for _, h := range feeds.Match(j) {
			if name, ok := w.feedNames[h.AlertID]; ok {
				feedNames = append(feedNames, name)
			}
		}
		out[j.ID] = newAudience(j.ID, hits, feedNames)
	}
	return out
}

// logAudiences logs, at debug level, who each announced job goes to.
func (w *Worker) logAudiences(ctx context.Context, as []storage.Audience) {
	if !w.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	for i := range as {
		a := &as[i]
		w.log.Debug("matched job", "job_id", a.JobID, "users", len(deliveries(a))-len(a.Feeds), "feeds", len(a.Feeds))
	}
}

// writeBatch writes a batch's plan and deletes its claimed changes.
func writeBatch(ctx context.Context, tx *storage.Store, changes []storage.JobChange, p *batchPlan, t *batchTimes) error {
	t.events = time.Now()
	if len(p.channels) > 0 {
		var buf []byte // pgx encodes a row before it asks for the next: one buffer serves every row
		err := tx.CopyEvents(ctx, len(p.channels), func(i int) (string, string, []byte) {
			var data []byte
			data, buf = p.eventData(i, buf)
			return p.channels[i], p.types[i], data
		})
		if err != nil {
			return err
		}
	}
	t.audiences = time.Now()
	if len(p.audiences) > 0 {
		if err := tx.PutJobAudiences(ctx, p.audiences); err != nil {
			return err
		}
	}
	ids := make([]int64, len(changes))
	for i, c := range changes {
		ids[i] = c.ID
	}
	if err := tx.DeleteJobChanges(ctx, ids); err != nil {
		return err
	}
	t.commit = time.Now()
	return nil
}
