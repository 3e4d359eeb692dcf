package scraper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Run statuses (scrape_runs.status).
const (
	StatusRunning     = "running"
	StatusOK          = "ok"
	StatusFailed      = "failed"
	StatusSuspect     = "suspect"
	StatusNotModified = "not-modified"
)

// Run is one recorded scrape of a source.
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
	// Errors holds samples of what went wrong (at most MaxErrorSamples),
	// and notes such as why the run was judged suspect.
	Errors []string `json:"errors"`
}

// MaxErrorSamples is how many error messages a run record keeps.
const MaxErrorSamples = 20

const runColumns = `id, source_id, tick, node, trigger, started_at, finished_at, status, pages, found, new, updated, expired, error_count, errors`

func scanRun(row pgx.Row) (Run, error) {
	var r Run
	var errs []byte
	err := row.Scan(&r.ID, &r.SourceID, &r.Tick, &r.Node, &r.Trigger, &r.StartedAt, &r.FinishedAt, &r.Status,
		&r.Pages, &r.Found, &r.New, &r.Updated, &r.Expired, &r.ErrorCount, &errs)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, err
	}
	_ = json.Unmarshal(errs, &r.Errors)
	if r.Errors == nil {
		r.Errors = []string{}
	}
	return r, nil
}

// claimRun inserts the run record of a tick (nil tick: a run started by
// hand). For a tick, only the first node to claim it gets a run; the others
// get ok=false.
func claimRun(ctx context.Context, db *pgxpool.Pool, sourceID int64, tick *time.Time, node, trigger string) (Run, bool, error) {
	r, err := scanRun(db.QueryRow(ctx, `
		INSERT INTO scrape_runs (source_id, tick, node, trigger) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING
		RETURNING `+runColumns, sourceID, tick, node, trigger))
	if errors.Is(err, ErrNotFound) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("claim run of source %d: %w", sourceID, err)
	}
	return r, true, nil
}

func finishRun(ctx context.Context, db *pgxpool.Pool, r *Run) error {
	if r.Errors == nil {
		r.Errors = []string{}
	}
	errs, _ := json.Marshal(r.Errors)
	err := db.QueryRow(ctx, `
		UPDATE scrape_runs SET finished_at = clock_timestamp(), status = $2, pages = $3, found = $4, new = $5,
			updated = $6, expired = $7, error_count = $8, errors = $9
		WHERE id = $1 RETURNING finished_at`,
		r.ID, r.Status, r.Pages, r.Found, r.New, r.Updated, r.Expired, r.ErrorCount, errs).Scan(&r.FinishedAt)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", r.ID, err)
	}
	return nil
}

// ListRuns returns the newest runs of a source, newest first.
func ListRuns(ctx context.Context, db *pgxpool.Pool, sourceID int64, limit int) ([]Run, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := db.Query(ctx, `SELECT `+runColumns+` FROM scrape_runs WHERE source_id = $1 ORDER BY id DESC LIMIT $2`, sourceID, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs of source %d: %w", sourceID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Run, error) { return scanRun(r) })
	if err != nil {
		return nil, fmt.Errorf("list runs of source %d: %w", sourceID, err)
	}
	return out, nil
}

// recentFound returns the found counts of the source's last healthy runs.
func recentFound(ctx context.Context, db *pgxpool.Pool, sourceID, beforeRun int64, n int) ([]int, error) {
	rows, err := db.Query(ctx, `
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

// expireMissing counts a healthy run against every live job of the source
// it did not see (last_seen_at before the run started), and expires those
// missing from threshold runs in a row, with their 'expired' outbox rows, in
// one statement.
func expireMissing(ctx context.Context, db *pgxpool.Pool, sourceID int64, runStarted time.Time, threshold int) (int, error) {
	if threshold < 1 {
		threshold = 1
	}
	var n int
	err := db.QueryRow(ctx, `
		WITH miss AS (
			UPDATE jobs SET missing_runs = missing_runs + 1,
				expired_at = CASE WHEN missing_runs + 1 >= $3 THEN now() END,
				expired_reason = CASE WHEN missing_runs + 1 >= $3 THEN 'missing' ELSE '' END
			WHERE source_id = $1 AND expired_at IS NULL AND last_seen_at < $2
			RETURNING id, expired_at
		), outbox AS (
			INSERT INTO job_changes (job_id, kind) SELECT id, 'expired' FROM miss WHERE expired_at IS NOT NULL
		)
		SELECT count(*) FROM miss WHERE expired_at IS NOT NULL`, sourceID, runStarted, threshold).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("expire missing jobs of source %d: %w", sourceID, err)
	}
	return n, nil
}

// expireJobs expires the given live jobs of a source (detail page gone) with
// the reason, writing their outbox rows.
func expireJobs(ctx context.Context, db *pgxpool.Pool, sourceID int64, dedupeKeys []string, reason string) (int, error) {
	if len(dedupeKeys) == 0 {
		return 0, nil
	}
	var n int
	err := db.QueryRow(ctx, `
		WITH gone AS (
			UPDATE jobs SET expired_at = now(), expired_reason = $3
			WHERE source_id = $1 AND dedupe_key = ANY($2) AND expired_at IS NULL
			RETURNING id
		), outbox AS (
			INSERT INTO job_changes (job_id, kind) SELECT id, 'expired' FROM gone
		)
		SELECT count(*) FROM gone`, sourceID, dedupeKeys, reason).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("expire gone jobs of source %d: %w", sourceID, err)
	}
	return n, nil
}

// ExpireValidThrough expires every live job (of sourceID, or of every source
// when it is 0) whose
// validThrough has passed, with its outbox row. Safe on many nodes at once:
// a row is expired by whichever statement locks it first, the other's WHERE
// no longer matches it.
func ExpireValidThrough(ctx context.Context, db *pgxpool.Pool, sourceID int64) (int, error) {
	var n int
	err := db.QueryRow(ctx, `
		WITH gone AS (
			UPDATE jobs SET expired_at = now(), expired_reason = 'validThrough'
			WHERE expired_at IS NULL AND valid_through < now() AND ($1 = 0 OR source_id = $1)
			RETURNING id
		), outbox AS (
			INSERT INTO job_changes (job_id, kind) SELECT id, 'expired' FROM gone
		)
		SELECT count(*) FROM gone`, sourceID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("expire past validThrough: %w", err)
	}
	return n, nil
}

// saveValidators stores the first page's ETag and Last-Modified after a
// healthy run (without touching updated_at, so no reload is triggered).
func saveValidators(ctx context.Context, db *pgxpool.Pool, sourceID int64, etag, lastModified string) error {
	_, err := db.Exec(ctx, `UPDATE sources SET etag = $2, last_modified = $3 WHERE id = $1`, sourceID, etag, lastModified)
	if err != nil {
		return fmt.Errorf("save validators of source %d: %w", sourceID, err)
	}
	return nil
}

func loadValidators(ctx context.Context, db *pgxpool.Pool, sourceID int64) (etag, lastModified string, err error) {
	err = db.QueryRow(ctx, `SELECT etag, last_modified FROM sources WHERE id = $1`, sourceID).Scan(&etag, &lastModified)
	if err != nil {
		return "", "", fmt.Errorf("load validators of source %d: %w", sourceID, err)
	}
	return etag, lastModified, nil
}
