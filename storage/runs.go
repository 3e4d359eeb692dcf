package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Run is one recorded scrape of a source (a scrape_runs row). Its statuses
// are the scraper's (scraper.StatusOK and the others).
type Run struct {
	ID         int64      `json:"id"`
	SourceID   int64      `json:"sourceId"`
	Tick       *time.Time `json:"tick,omitempty"`
	Node       string     `json:"node"`
	Trigger    string     `json:"trigger"`
	StartedAt  time.Time  `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	Status     string     `json:"status"`
	Pages      int        `json:"pages"`
	Found      int        `json:"found"`
	New        int        `json:"new"`
	Updated    int        `json:"updated"`
	Expired    int        `json:"expired"`
	ErrorCount int        `json:"errorCount"`
	// Errors holds samples of what went wrong, and notes such as why the
	// run was judged suspect.
	Errors []string `json:"errors"`
}

// runCols selects a run; scanRun reads them.
const runCols = `id, source_id, tick, node, trigger, started_at, finished_at, status, pages, found, new, updated, expired, error_count, errors`

// scanRun scans a row of runCols.
func scanRun(row pgx.Row) (Run, error) {
	var r Run
	var errs []byte
	err := row.Scan(&r.ID, &r.SourceID, &r.Tick, &r.Node, &r.Trigger, &r.StartedAt, &r.FinishedAt, &r.Status,
		&r.Pages, &r.Found, &r.New, &r.Updated, &r.Expired, &r.ErrorCount, &errs)
	if err != nil {
		return r, notFound(err)
	}
	_ = json.Unmarshal(errs, &r.Errors)
	if r.Errors == nil {
		r.Errors = []string{}
	}
	return r, nil
}

// ClaimRun inserts the run record of a tick (nil tick: a run started by
// hand), status running. For a tick, only the first node to claim it gets
// a run; the others get ok=false.
func (s *Store) ClaimRun(ctx context.Context, sourceID int64, tick *time.Time, node, trigger string) (Run, bool, error) {
	r, err := scanRun(s.db.QueryRow(ctx, `
		INSERT INTO scrape_runs (source_id, tick, node, trigger) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING
		RETURNING `+runCols, sourceID, tick, node, trigger))
	if errors.Is(err, ErrNotFound) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("claim run of source %d: %w", sourceID, err)
	}
	return r, true, nil
}

// FinishRun records the outcome of run r (status, counts, errors) and sets
// r.FinishedAt.
func (s *Store) FinishRun(ctx context.Context, r *Run) error {
	if r.Errors == nil {
		r.Errors = []string{}
	}
	errs, _ := json.Marshal(r.Errors)
	err := s.db.QueryRow(ctx, `
		UPDATE scrape_runs SET finished_at = clock_timestamp(), status = $2, pages = $3, found = $4, new = $5,
			updated = $6, expired = $7, error_count = $8, errors = $9
		WHERE id = $1 RETURNING finished_at`,
		r.ID, r.Status, r.Pages, r.Found, r.New, r.Updated, r.Expired, r.ErrorCount, errs).Scan(&r.FinishedAt)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", r.ID, notFound(err))
	}
	return nil
}

// ListRuns returns the newest runs of a source, newest first: limit of them
// (50 when limit is not between 1 and 500).
func (s *Store) ListRuns(ctx context.Context, sourceID int64, limit int) ([]Run, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := s.db.Query(ctx, `SELECT `+runCols+` FROM scrape_runs WHERE source_id = $1 ORDER BY id DESC LIMIT $2`, sourceID, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs of source %d: %w", sourceID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Run, error) { return scanRun(r) })
	if err != nil {
		return nil, fmt.Errorf("list runs of source %d: %w", sourceID, err)
	}
	return out, nil
}

// RecentFound returns the found counts of the source's last n runs with
// status ok before run beforeRun, newest first.
func (s *Store) RecentFound(ctx context.Context, sourceID, beforeRun int64, n int) ([]int, error) {
	rows, err := s.db.Query(ctx, `
		SELECT found FROM scrape_runs
		WHERE source_id = $1 AND id < $2 AND status = 'ok'
		ORDER BY id DESC LIMIT $3`, sourceID, beforeRun, n)
	if err != nil {
		return nil, fmt.Errorf("recent runs of source %d: %w", sourceID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("recent runs of source %d: %w", sourceID, err)
	}
	return out, nil
}

// MarkInterruptedRuns closes, as failed, the runs node left running that
// started more than olderThan ago (the node stopped during them: crash or
// kill).
func (s *Store) MarkInterruptedRuns(ctx context.Context, node string, olderThan time.Duration) error {
	_, err := s.db.Exec(ctx, `
		UPDATE scrape_runs SET status = 'failed', finished_at = clock_timestamp(),
			error_count = error_count + 1,
			errors = errors || '["interrupted: the node stopped during the run"]'::jsonb
		WHERE node = $1 AND status = 'running' AND started_at < now() - $2::interval`,
		node, fmt.Sprintf("%d seconds", int(olderThan.Seconds())))
	if err != nil {
		return fmt.Errorf("mark interrupted runs of node %q: %w", node, err)
	}
	return nil
}

// RunCount is the number of runs of one status started in one time bucket.
type RunCount struct {
	At     time.Time
	Status string
	N      int64
}

// RunCountsByStatus counts the scrape runs started since from, by status,
// in buckets of step aligned on from, oldest first.
func (s *Store) RunCountsByStatus(ctx context.Context, from time.Time, step time.Duration) ([]RunCount, error) {
	rows, _ := s.db.Query(ctx, `
		SELECT date_bin(make_interval(secs => $2), started_at, $1) AS bucket, status, count(*)
		FROM scrape_runs WHERE started_at >= $1
		GROUP BY 1, 2 ORDER BY 1, 2`, from, step.Seconds())
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[RunCount])
	if err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	return out, nil
}
