package scraper

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/robfig/cron/v3"

	"github.com/birjob/birjob/model"
)

// SourcesChannel is the LISTEN/NOTIFY channel a trigger on sources
// notifies on every create, edit and delete (migration 002).
const SourcesChannel = "birjob_sources"

// sweepInterval is how often the scheduler expires jobs whose validThrough
// passed.
const sweepInterval = time.Minute

// Run is the scheduler. It loads the enabled sources, schedules each with
// robfig/cron (Recover on, overlapping runs of a source skipped, schedules
// in UTC unless the spec says CRON_TZ=...), and reloads them within a
// moment of any change, on every node, through LISTEN birjob_sources (and
// every ReloadInterval as a safety net). Each tick is claimed in scrape_runs
// so that, of all nodes whose cron fired for it, exactly one runs it. Run
// returns when ctx ends, after the runs in progress have recorded their
// results.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	if err := s.markInterrupted(ctx); err != nil {
		s.log.Warn("could not close runs interrupted by an earlier stop", "err", err)
	}

	logger := cronLogger{s.log}
	c := cron.New(
		cron.WithLocation(time.UTC),
		cron.WithLogger(logger),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)),
	)
	sch := &scheduler{s: s, c: c, ctx: ctx, entries: map[int64]*entry{}}
	c.Start()
	defer func() {
		// Stop firing, then wait for the runs in progress: their contexts
		// are cancelled with ctx, so they end promptly and record what they
		// found.
		<-c.Stop().Done()
	}()

	wake := make(chan struct{}, 1)
	notify := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.listen(ctx, notify)
	}()

	if err := sch.reload(ctx); err != nil {
		s.log.Error("loading sources failed", "err", err)
	}
	reload := time.NewTicker(s.cfg.ReloadInterval)
	defer reload.Stop()
	sweep := time.NewTicker(sweepInterval)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
			if err := sch.reload(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("reloading sources failed", "err", err)
			}
		case <-reload.C:
			if err := sch.reload(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("reloading sources failed", "err", err)
			}
		case <-sweep.C:
			if n, err := s.store.ExpireValidThrough(ctx, 0); err != nil && ctx.Err() == nil {
				s.log.Error("validThrough sweep failed", "err", err)
			} else if n > 0 {
				s.log.Info("expired jobs past their validThrough", "count", n)
			}
		}
	}
}

// markInterrupted closes the runs this node left running when it stopped
// (crash or kill).
func (s *Service) markInterrupted(ctx context.Context) error {
	return s.store.MarkInterruptedRuns(ctx, s.cfg.Node, s.cfg.RunTimeout+time.Minute)
}

// ListenAppName is the application_name of the scheduler's LISTEN
// connection (operators and tests find it in pg_stat_activity).
const ListenAppName = "birjob-scheduler"

// Reconnect backoff of the LISTEN connection: from listenRetryMin, doubling
// while reconnecting fails, back to listenRetryMin once a connection has
// listened (an old outage must not slow the recovery from a new one).
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = time.Second // one attempt a second is cheap; a longer wait is a slower recovery
)

// listen LISTENs on SourcesChannel and calls notify for each notification
// and after each (re)connection, until ctx ends.
func (s *Service) listen(ctx context.Context, notify func()) {
	backoff := listenRetryMin
	for ctx.Err() == nil {
		healthy, err := s.listenOnce(ctx, notify)
		if ctx.Err() != nil {
			return
		}
		if healthy {
			backoff = listenRetryMin
		}
		s.log.Warn("source change listener lost its connection; retrying", "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, listenRetryMax)
	}
}

// listenOnce holds one LISTEN connection until it fails; healthy reports
// whether it got as far as listening.
func (s *Service) listenOnce(ctx context.Context, notify func()) (healthy bool, err error) {
	// A connection of its own, outside the pool, named for pg_stat_activity.
	cfg := s.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = ListenAppName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{SourcesChannel}.Sanitize()); err != nil {
		return false, err
	}
	notify() // changes made while we were not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, err
		}
		notify()
	}
}

type entry struct {
	id       cron.EntryID
	schedule string
}

type scheduler struct {
	s       *Service
	c       *cron.Cron
	ctx     context.Context
	entries map[int64]*entry
}

// reload makes the cron entries match the enabled sources: cron has no
// update, so a changed schedule is removed and added again.
func (sch *scheduler) reload(ctx context.Context) error {
	srcs, err := sch.s.store.ListSources(ctx)
	if err != nil {
		return err
	}
	want := map[int64]model.Source{}
	for _, src := range srcs {
		if src.Enabled && src.Kind != model.SourceManual {
			want[src.ID] = src
		}
	}
	for id, e := range sch.entries {
		if src, ok := want[id]; !ok || src.Schedule != e.schedule {
			sch.c.Remove(e.id)
			delete(sch.entries, id)
			sch.s.log.Info("source unscheduled", "source_id", id)
		}
	}
	for id, src := range want {
		if _, ok := sch.entries[id]; ok {
			continue
		}
		inner, err := ParseSchedule(src.Schedule)
		if err != nil {
			sch.s.log.Warn("source has an invalid schedule; not scheduled", "source_id", id, "err", err)
			continue
		}
		ts := &tickSchedule{inner: inner}
		eid := sch.c.Schedule(ts, &tickJob{s: sch.s, ctx: sch.ctx, sourceID: id, sched: ts})
		sch.entries[id] = &entry{id: eid, schedule: src.Schedule}
		sch.s.log.Info("source scheduled", "source_id", id, "schedule", src.Schedule)
	}
	if sch.s.afterReload != nil {
		sch.s.afterReload(len(sch.entries))
	}
	return nil
}

// tickSchedule remembers the tick cron last fired for. Cron computes the
// entry's next time right before it starts the job, so at the job's start
// "prev" is the tick being served: the exact scheduled time, the same on
// every node, whatever the job's start delay.
type tickSchedule struct {
	inner cron.Schedule

	mu        sync.Mutex
	cur, prev time.Time
}

func (t *tickSchedule) Next(now time.Time) time.Time {
	n := t.inner.Next(now)
	t.mu.Lock()
	t.prev, t.cur = t.cur, n
	t.mu.Unlock()
	return n
}

func (t *tickSchedule) fired() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.prev
}

type tickJob struct {
	s        *Service
	ctx      context.Context
	sourceID int64
	sched    *tickSchedule
}

func (j *tickJob) Run() {
	tick := j.sched.fired()
	if tick.IsZero() || j.ctx.Err() != nil {
		return
	}
	if _, _, err := j.s.runTick(j.ctx, j.sourceID, tick); err != nil && j.ctx.Err() == nil {
		j.s.log.Error("scheduled run failed", "source_id", j.sourceID, "tick", tick, "err", err)
	}
}

// cronLogger adapts slog to cron.Logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	c.l.Debug("cron: "+msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
