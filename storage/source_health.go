package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SourceHealth is a source's health across its runs (a source_health row).
// A source that never ran has a zero SourceHealth.
type SourceHealth struct {
	SourceID      int64      `json:"-"`
	FailureStreak int        `json:"failureStreak"`
	EmptyStreak   int        `json:"emptyStreak"`
	LastRunAt     *time.Time `json:"lastRunAt,omitempty"`
	LastStatus    string     `json:"lastStatus,omitempty"`
	LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
	PausedAt      *time.Time `json:"pausedAt,omitempty"`
	PausedReason  string     `json:"pausedReason,omitempty"`
	// RunLeaseUntil is set while a node holds the source for a run.
	RunHolder     string     `json:"-"`
	RunLeaseUntil *time.Time `json:"-"`
}

const healthCols = `source_id, failure_streak, empty_streak, last_run_at, last_status, last_success_at, last_error,
	paused_at, paused_reason, run_holder, run_lease_until`

func scanHealth(row pgx.Row) (SourceHealth, error) {
	var h SourceHealth
	err := row.Scan(&h.SourceID, &h.FailureStreak, &h.EmptyStreak, &h.LastRunAt, &h.LastStatus, &h.LastSuccessAt,
		&h.LastError, &h.PausedAt, &h.PausedReason, &h.RunHolder, &h.RunLeaseUntil)
	return h, notFound(err)
}

// GetSourceHealth returns the health of source id; a source that never ran
// has a zero health (not ErrNotFound).
func (s *Store) GetSourceHealth(ctx context.Context, id int64) (SourceHealth, error) {
	h, err := scanHealth(s.db.QueryRow(ctx, `SELECT `+healthCols+` FROM source_health WHERE source_id = $1`, id))
	if errors.Is(err, ErrNotFound) {
		return SourceHealth{SourceID: id}, nil
	}
	if err != nil {
		return h, fmt.Errorf("health of source %d: %w", id, err)
	}
	return h, nil
}

// SourceHealthRow is a source with its health, for metrics.
type SourceHealthRow struct {
	Name    string
	Enabled bool
	SourceHealth
}

// ListSourceHealth returns every scraped source (not the manual ones) with
// its health, by id.
func (s *Store) ListSourceHealth(ctx context.Context) ([]SourceHealthRow, error) {
	rows, err := s.db.Query(ctx, `
		SELECT s.name, s.enabled, s.id, COALESCE(h.failure_streak, 0), COALESCE(h.empty_streak, 0), h.last_run_at,
			COALESCE(h.last_status, ''), h.last_success_at, COALESCE(h.last_error, ''), h.paused_at,
			COALESCE(h.paused_reason, ''), COALESCE(h.run_holder, ''), h.run_lease_until
		FROM sources s LEFT JOIN source_health h ON h.source_id = s.id
		WHERE s.kind <> 'manual' ORDER BY s.id`)
	if err != nil {
		return nil, fmt.Errorf("list source health: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SourceHealthRow, error) {
		var x SourceHealthRow
		h := &x.SourceHealth
		err := r.Scan(&x.Name, &x.Enabled, &h.SourceID, &h.FailureStreak, &h.EmptyStreak, &h.LastRunAt, &h.LastStatus,
			&h.LastSuccessAt, &h.LastError, &h.PausedAt, &h.PausedReason, &h.RunHolder, &h.RunLeaseUntil)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("list source health: %w", err)
	}
	return out, nil
}

// RunOutcome is what a finished run tells the source's health.
type RunOutcome struct {
	SourceID int64
	Status   string
	// Failed: the run counts as a failure; Empty: as an empty run;
	// Success: it reached the board and read it. A run that is none of the
	// three (it never reached the board: back-off) leaves the streaks alone.
	Failed, Empty, Success bool
	// Error is the run's first error, kept as the last error when Failed.
	Error string
}

// RecordRunHealth updates the source's streaks after a run and returns its
// health as updated.
func (s *Store) RecordRunHealth(ctx context.Context, o RunOutcome) (SourceHealth, error) {
	counted := o.Failed || o.Empty || o.Success
	h, err := scanHealth(s.db.QueryRow(ctx, `
		INSERT INTO source_health AS h (source_id, last_run_at, last_status, failure_streak, empty_streak, last_success_at, last_error)
		VALUES ($1, clock_timestamp(), $2, CASE WHEN $3 THEN 1 ELSE 0 END, CASE WHEN $4 THEN 1 ELSE 0 END,
			CASE WHEN $5 THEN clock_timestamp() END, CASE WHEN $3 THEN $7 ELSE '' END)
		ON CONFLICT (source_id) DO UPDATE SET
			last_run_at = clock_timestamp(), last_status = $2,
			failure_streak = CASE WHEN $3 THEN h.failure_streak + 1 WHEN $6 THEN 0 ELSE h.failure_streak END,
			empty_streak = CASE WHEN $4 THEN h.empty_streak + 1 WHEN $6 THEN 0 ELSE h.empty_streak END,
			last_success_at = CASE WHEN $5 THEN clock_timestamp() ELSE h.last_success_at END,
			last_error = CASE WHEN $3 THEN $7 WHEN $5 THEN '' ELSE h.last_error END
		RETURNING `+healthCols, o.SourceID, o.Status, o.Failed, o.Empty, o.Success, counted, o.Error))
	if err != nil {
		return h, fmt.Errorf("record the health of source %d: %w", o.SourceID, fkNotFound(err))
	}
	return h, nil
}

// PauseSource disables source id because of its health, with the reason
// (updated_at moves, so every node's scheduler drops it), and reports
// whether it was enabled. Enabling the source clears the pause (a trigger,
// migration 009).
func (s *Store) PauseSource(ctx context.Context, id int64, reason string) (bool, error) {
	var paused bool
	err := s.Tx(ctx, func(tx *Store) error {
		tag, err := tx.db.Exec(ctx, `UPDATE sources SET enabled = false, updated_at = clock_timestamp() WHERE id = $1 AND enabled`, id)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		paused = true
		_, err = tx.db.Exec(ctx, `
			UPDATE source_health SET paused_at = clock_timestamp(), paused_reason = $2 WHERE source_id = $1`, id, reason)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("pause source %d: %w", id, err)
	}
	return paused, nil
}

// AcquireRunLease makes holder the one runner of source id for lease,
// unless another holder's lease has not run out: then ok is false and
// heldBy names that holder. ErrNotFound when there is no such source.
func (s *Store) AcquireRunLease(ctx context.Context, id int64, holder string, lease time.Duration) (ok bool, heldBy string, err error) {
	err = s.db.QueryRow(ctx, `
		INSERT INTO source_health AS h (source_id, run_holder, run_lease_until)
		VALUES ($1, $2, clock_timestamp() + $3::interval)
		ON CONFLICT (source_id) DO UPDATE SET run_holder = EXCLUDED.run_holder, run_lease_until = EXCLUDED.run_lease_until
			WHERE h.run_lease_until IS NULL OR h.run_lease_until <= clock_timestamp()
		RETURNING true`, id, holder, interval(lease)).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.db.QueryRow(ctx, `SELECT run_holder FROM source_health WHERE source_id = $1`, id).Scan(&heldBy)
		if errors.Is(err, pgx.ErrNoRows) { // released in between
			err = nil
		}
		return false, heldBy, err
	}
	if err != nil {
		return false, "", fmt.Errorf("lease source %d: %w", id, fkNotFound(err))
	}
	return ok, "", nil
}

// RenewRunLease extends holder's lease of source id, and reports whether
// holder still had it.
func (s *Store) RenewRunLease(ctx context.Context, id int64, holder string, lease time.Duration) (bool, error) {
	tag, err := s.db.Exec(ctx, `
		UPDATE source_health SET run_lease_until = clock_timestamp() + $3::interval
		WHERE source_id = $1 AND run_holder = $2`, id, holder, interval(lease))
	if err != nil {
		return false, fmt.Errorf("renew the lease of source %d: %w", id, err)
	}
	return tag.RowsAffected() > 0, nil
}

// ReleaseRunLease ends holder's lease of source id (another holder's lease
// is left alone).
func (s *Store) ReleaseRunLease(ctx context.Context, id int64, holder string) error {
	_, err := s.db.Exec(ctx, `
		UPDATE source_health SET run_holder = '', run_lease_until = NULL
		WHERE source_id = $1 AND run_holder = $2`, id, holder)
	if err != nil {
		return fmt.Errorf("release the lease of source %d: %w", id, err)
	}
	return nil
}

// fkNotFound turns a foreign-key violation (the source is gone) into
// ErrNotFound.
func fkNotFound(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" {
		return ErrNotFound
	}
	return err
}
