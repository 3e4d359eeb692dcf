package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The kinds of criteria change: which table the changed row is in.
const (
	CriteriaChangeAlert = "alert"
	CriteriaChangeFeed  = "feed"
)

// CriteriaChange is a row of criteria_changes: the alert or feed RefID was
// inserted, updated or deleted. Triggers write the rows in commit order
// (migration 003), so a reader that remembers the highest id it has seen
// misses none.
type CriteriaChange struct {
	ID    int64
	Kind  string // CriteriaChangeAlert or CriteriaChangeFeed
	RefID int64
}

// CriteriaChangeCursor returns the highest criteria change id (0 when there
// is none): read in the same snapshot as the criteria, it is where a reader
// that has loaded them starts.
func (s *Store) CriteriaChangeCursor(ctx context.Context) (int64, error) {
	var cursor int64
	if err := s.db.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM criteria_changes`).Scan(&cursor); err != nil {
		return 0, fmt.Errorf("criteria change cursor: %w", err)
	}
	return cursor, nil
}

// CriteriaChangesAfter returns the criteria changes with an id above
// cursor, oldest first.
func (s *Store) CriteriaChangesAfter(ctx context.Context, cursor int64) ([]CriteriaChange, error) {
	rows, err := s.db.Query(ctx, `SELECT id, kind, ref_id FROM criteria_changes WHERE id > $1 ORDER BY id`, cursor)
	if err != nil {
		return nil, fmt.Errorf("read criteria changes: %w", err)
	}
	changes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CriteriaChange, error) {
		var c CriteriaChange
		err := r.Scan(&c.ID, &c.Kind, &c.RefID)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read criteria changes: %w", err)
	}
	return changes, nil
}

// CriteriaChangesPurgedUpTo returns the highest criteria change id that
// pruning has removed: a reader whose cursor is below it has missed
// changes and must load every criteria again.
func (s *Store) CriteriaChangesPurgedUpTo(ctx context.Context) (int64, error) {
	var purged int64
	if err := s.db.QueryRow(ctx, `SELECT purged_upto FROM criteria_changes_retention`).Scan(&purged); err != nil {
		return 0, fmt.Errorf("read criteria retention: %w", err)
	}
	return purged, nil
}

// PruneCriteriaChanges deletes the criteria changes older than retention
// and records, in the same statement, how far it went.
func (s *Store) PruneCriteriaChanges(ctx context.Context, retention time.Duration) error {
	_, err := s.db.Exec(ctx, `
		WITH d AS (DELETE FROM criteria_changes WHERE created_at < now() - make_interval(secs => $1) RETURNING id)
		UPDATE criteria_changes_retention
		SET purged_upto = greatest(purged_upto, (SELECT coalesce(max(id), 0) FROM d))`,
		retention.Seconds())
	if err != nil {
		return fmt.Errorf("prune criteria changes: %w", err)
	}
	return nil
}
