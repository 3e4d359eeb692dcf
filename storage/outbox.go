package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The kinds of job change.
const (
	JobChangeNew     = "new"
	JobChangeExpired = "expired"
	JobChangeListed  = "listed"
)

// JobChange is a row of the job_changes outbox: job JobID was announced
// (JobChangeNew), expired (JobChangeExpired), or is listed by one more
// source while live (JobChangeListed), and its events are not written yet.
type JobChange struct {
	ID    int64
	JobID int64
	Kind  string // JobChangeNew, JobChangeExpired or JobChangeListed
	// Backlog marks a 'new' job that is listed but is not news: it goes
	// to the public jobs channel only (see scraper/doc.go, "Backlog").
	Backlog bool
}

// AddNewJobChanges writes one 'new' outbox row per job id, with its backlog
// mark (backlog is parallel to ids; nil marks none).
func (s *Store) AddNewJobChanges(ctx context.Context, ids []int64, backlog []bool) error {
	if len(ids) == 0 {
		return nil
	}
	if backlog == nil {
		backlog = make([]bool, len(ids))
	}
	_, err := s.db.Exec(ctx, `
		INSERT INTO job_changes (job_id, kind, backlog)
		SELECT id, 'new', b FROM unnest($1::bigint[], $2::bool[]) WITH ORDINALITY AS t(id, b, n) ORDER BY n`, ids, backlog)
	if err != nil {
		return fmt.Errorf("add job changes: %w", err)
	}
	return nil
}

// AddListedJobChanges writes one 'listed' outbox row per job id: a source
// started listing the live job after another source announced it (see
// ListingUpserted.Listed), so the users and feeds that match it now may
// not all have been told.
func (s *Store) AddListedJobChanges(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.db.Exec(ctx, `
		INSERT INTO job_changes (job_id, kind)
		SELECT id, 'listed' FROM unnest($1::bigint[]) WITH ORDINALITY AS t(id, n) ORDER BY n`, ids)
	if err != nil {
		return fmt.Errorf("add listed job changes: %w", err)
	}
	return nil
}

// ClaimJobChanges locks and returns up to limit outbox rows, oldest first.
// Call it in a transaction (Store.Tx): the rows stay claimed until it ends,
// and DeleteJobChanges in the same transaction removes them.
//
// Rows another transaction has claimed are skipped, not waited for, and a
// change waits while an earlier change of its job is pending (maybe being
// handled in another transaction): a job's expiry must follow its
// deliveries (migration 004).
func (s *Store) ClaimJobChanges(ctx context.Context, limit int) ([]JobChange, error) {
	rows, err := s.db.Query(ctx, `
		SELECT c.id, c.job_id, c.kind, c.backlog FROM job_changes c
		WHERE NOT EXISTS (SELECT 1 FROM job_changes p WHERE p.job_id = c.job_id AND p.id < c.id)
		ORDER BY c.id LIMIT $1 FOR UPDATE SKIP LOCKED`, limit)
	if err != nil {
		return nil, fmt.Errorf("claim job changes: %w", err)
	}
	changes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (JobChange, error) {
		var c JobChange
		err := r.Scan(&c.ID, &c.JobID, &c.Kind, &c.Backlog)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim job changes: %w", err)
	}
	return changes, nil
}

// DeleteJobChanges removes outbox rows by id: their events are written.
func (s *Store) DeleteJobChanges(ctx context.Context, ids []int64) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM job_changes WHERE id = ANY($1)`, ids); err != nil {
		return fmt.Errorf("delete job changes: %w", err)
	}
	return nil
}

// OldestJobChangeAge is how long the oldest job change has waited to be
// matched, by the database's clock (0 when none waits).
func (s *Store) OldestJobChangeAge(ctx context.Context) (time.Duration, error) {
	var secs float64
	err := s.db.QueryRow(ctx, `SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM job_changes`).Scan(&secs)
	if err != nil {
		return 0, fmt.Errorf("oldest job change: %w", err)
	}
	return time.Duration(secs * float64(time.Second)), nil
}
