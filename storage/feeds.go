package storage

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/birjob/birjob/model"
)

const feedCols = "id, name, title, criteria, created_at"

func scanFeed(row pgx.Row) (model.Feed, error) {
	var f model.Feed
	var crit []byte
	if err := row.Scan(&f.ID, &f.Name, &f.Title, &crit, &f.CreatedAt); err != nil {
		return f, notFound(err)
	}
	if err := json.Unmarshal(crit, &f.Criteria); err != nil {
		return f, fmt.Errorf("feed %d: criteria: %w", f.ID, err)
	}
	return f, nil
}

// ListFeeds returns all public feeds by name.
func (s *Store) ListFeeds(ctx context.Context) ([]model.Feed, error) {
	rows, err := s.db.Query(ctx, `SELECT `+feedCols+` FROM feeds ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list feeds: %w", err)
	}
	feeds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.Feed, error) { return scanFeed(r) })
	if err != nil {
		return nil, fmt.Errorf("list feeds: %w", err)
	}
	return feeds, nil
}

// GetFeed returns the feed with this id.
func (s *Store) GetFeed(ctx context.Context, id int64) (model.Feed, error) {
	f, err := scanFeed(s.db.QueryRow(ctx, `SELECT `+feedCols+` FROM feeds WHERE id = $1`, id))
	if err != nil {
		return f, fmt.Errorf("feed %d: %w", id, err)
	}
	return f, nil
}

// FeedExists reports whether a public feed is named name.
func (s *Store) FeedExists(ctx context.Context, name string) (bool, error) {
	var ok bool
	if err := s.db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM feeds WHERE name = $1)", name).Scan(&ok); err != nil {
		return false, fmt.Errorf("look up feed %q: %w", name, err)
	}
	return ok, nil
}

// CreateFeed stores a feed; ErrConflict when the name is taken.
func (s *Store) CreateFeed(ctx context.Context, f model.Feed) (model.Feed, error) {
	crit, err := json.Marshal(f.Criteria)
	if err != nil {
		return f, err
	}
	out, err := scanFeed(s.db.QueryRow(ctx,
		`INSERT INTO feeds (name, title, criteria) VALUES ($1, $2, $3) RETURNING `+feedCols, f.Name, f.Title, crit))
	if isUniqueViolation(err) {
		return out, fmt.Errorf("create feed %q: %w", f.Name, ErrConflict)
	}
	if err != nil {
		return out, fmt.Errorf("create feed: %w", err)
	}
	return out, nil
}

// UpdateFeed replaces a feed's title and criteria (its name is its channel
// and does not change).
func (s *Store) UpdateFeed(ctx context.Context, f model.Feed) (model.Feed, error) {
	crit, err := json.Marshal(f.Criteria)
	if err != nil {
		return f, err
	}
	out, err := scanFeed(s.db.QueryRow(ctx,
		`UPDATE feeds SET title = $2, criteria = $3 WHERE id = $1 RETURNING `+feedCols, f.ID, f.Title, crit))
	if err != nil {
		return out, fmt.Errorf("update feed %d: %w", f.ID, err)
	}
	return out, nil
}

// DeleteFeed deletes a feed.
func (s *Store) DeleteFeed(ctx context.Context, id int64) error {
	tag, err := s.db.Exec(ctx, `DELETE FROM feeds WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete feed %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete feed %d: %w", id, ErrNotFound)
	}
	return nil
}

// FeedCriteria is a feed as the matcher indexes it. Its criteria stay the
// stored JSON, so that one row written around the API's validation is
// skipped by the reader instead of failing the whole read.
type FeedCriteria struct {
	ID       int64
	Name     string // the feed's channel
	Criteria []byte // JSON of a model.Criteria
}

// ListFeedCriteria returns every feed's criteria, in no particular order.
func (s *Store) ListFeedCriteria(ctx context.Context) ([]FeedCriteria, error) {
	return s.feedCriteria(ctx, "load feeds", `SELECT id, name, criteria FROM feeds`)
}

// FeedCriteriaByID returns the feeds among ids that exist, in no
// particular order.
func (s *Store) FeedCriteriaByID(ctx context.Context, ids []int64) ([]FeedCriteria, error) {
	return s.feedCriteria(ctx, "read changed feeds", `SELECT id, name, criteria FROM feeds WHERE id = ANY($1)`, ids)
}

func (s *Store) feedCriteria(ctx context.Context, what, sql string, args ...any) ([]FeedCriteria, error) {
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FeedCriteria, error) {
		var f FeedCriteria
		err := r.Scan(&f.ID, &f.Name, &f.Criteria)
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
