package storage

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Audience is a row of job_audience: who was told about a job when it was
// announced. Users and AlertIDs are parallel, one element per (user,
// matching alert) pair, ordered by user then alert; Feeds are the public
// feeds told.
type Audience struct {
	JobID    int64
	Users    []int64
	AlertIDs []int64
	Feeds    []string
}

// JobAudiences returns the stored audiences of the jobs among jobIDs that
// have one, in no particular order. A row whose Users and AlertIDs differ
// in length is an error.
func (s *Store) JobAudiences(ctx context.Context, jobIDs []int64) ([]Audience, error) {
	rows, err := s.db.Query(ctx, `SELECT job_id, users, alert_ids, feeds FROM job_audience WHERE job_id = ANY($1)`, jobIDs)
	if err != nil {
		return nil, fmt.Errorf("load audiences: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Audience, error) {
		var a Audience
		if err := r.Scan(&a.JobID, &a.Users, &a.AlertIDs, &a.Feeds); err != nil {
			return a, err
		}
		if len(a.Users) != len(a.AlertIDs) {
			return a, fmt.Errorf("job %d: %d users but %d alert ids", a.JobID, len(a.Users), len(a.AlertIDs))
		}
		return a, nil
	})
	if err != nil {
		return nil, fmt.Errorf("load audiences: %w", err)
	}
	return out, nil
}

// PutJobAudiences stores the audiences, one row per job, in one round trip;
// a job's new audience replaces the one it had.
func (s *Store) PutJobAudiences(ctx context.Context, as []Audience) error {
	batch := &pgx.Batch{}
	for _, a := range as {
		batch.Queue(`
			INSERT INTO job_audience (job_id, users, alert_ids, feeds) VALUES ($1, $2, $3, $4)
			ON CONFLICT (job_id) DO UPDATE SET users = EXCLUDED.users, alert_ids = EXCLUDED.alert_ids, feeds = EXCLUDED.feeds`,
			a.JobID, emptyIfNil(a.Users), emptyIfNil(a.AlertIDs), emptyIfNil(a.Feeds))
	}
	if err := s.db.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("write job audiences: %w", err)
	}
	return nil
}

// ForgetUserAudiences removes the user from every job's stored audience,
// keeping Users and AlertIDs parallel, so that a job that expires after
// the account is deleted writes no event to its channel. A scan of
// job_audience: it runs only when an account is deleted.
func (s *Store) ForgetUserAudiences(ctx context.Context, userID int64) error {
	_, err := s.db.Exec(ctx, `
		UPDATE job_audience SET
			users = ARRAY(SELECT u FROM unnest(users, alert_ids) WITH ORDINALITY AS t(u, a, o) WHERE u <> $1 ORDER BY o),
			alert_ids = ARRAY(SELECT a FROM unnest(users, alert_ids) WITH ORDINALITY AS t(u, a, o) WHERE u <> $1 ORDER BY o)
		WHERE $1 = ANY(users)`, userID)
	if err != nil {
		return fmt.Errorf("forget user %d in audiences: %w", userID, err)
	}
	return nil
}

// emptyIfNil returns s, or an empty slice for nil: the columns are NOT NULL.
func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
