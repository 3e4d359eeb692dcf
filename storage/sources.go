package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/birjob/birjob/model"
)

// sourceCols selects a source; scanSource reads them.
const sourceCols = `id, name, kind, url, schedule, enabled, selectors, respect_robots, settings, created_at, updated_at`

// scanSource scans a row of sourceCols.
func scanSource(row pgx.Row) (model.Source, error) {
	var s model.Source
	var settings []byte
	err := row.Scan(&s.ID, &s.Name, &s.Kind, &s.URL, &s.Schedule, &s.Enabled, &s.Selectors, &s.RespectRobots, &settings, &s.CreatedAt, &s.UpdatedAt)
	if err != nil {
		return s, notFound(err)
	}
	if len(settings) > 0 && string(settings) != "{}" {
		s.Settings = json.RawMessage(settings)
	}
	return s, nil
}

// settingsJSON is the settings column of s: an empty object for none.
func settingsJSON(s model.Source) []byte {
	if len(s.Settings) == 0 || string(s.Settings) == "null" {
		return []byte("{}")
	}
	return s.Settings
}

// selectorsOrEmpty is the selectors column of s: an empty object for none.
func selectorsOrEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// sourceNameTaken turns the unique violation of sources_name_key into
// ErrConflict.
func sourceNameTaken(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && strings.Contains(pe.ConstraintName, "name") {
		return ErrConflict
	}
	return err
}

// GetSource returns the source with the given id, or ErrNotFound.
func (s *Store) GetSource(ctx context.Context, id int64) (model.Source, error) {
	src, err := scanSource(s.db.QueryRow(ctx, `SELECT `+sourceCols+` FROM sources WHERE id = $1`, id))
	if err != nil {
		return src, fmt.Errorf("get source %d: %w", id, err)
	}
	return src, nil
}

// ListSources returns all sources (the manual one included), by id.
func (s *Store) ListSources(ctx context.Context) ([]model.Source, error) {
	rows, err := s.db.Query(ctx, `SELECT `+sourceCols+` FROM sources ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.Source, error) { return scanSource(r) })
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return out, nil
}

// CreateSource stores a new source as given (the scraper validates it
// first), or returns ErrConflict when its name is taken.
func (s *Store) CreateSource(ctx context.Context, src model.Source) (model.Source, error) {
	out, err := scanSource(s.db.QueryRow(ctx, `
		INSERT INTO sources (name, kind, url, schedule, enabled, selectors, respect_robots, settings)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		RETURNING `+sourceCols,
		src.Name, src.Kind, src.URL, src.Schedule, src.Enabled,
		selectorsOrEmpty(src.Selectors), src.RespectRobots, settingsJSON(src)))
	if err != nil {
		return src, fmt.Errorf("create source: %w", sourceNameTaken(err))
	}
	return out, nil
}

// UpdateSource replaces the editable fields of source src.ID: ErrNotFound
// when there is no such source or it is the manual one, ErrConflict when the
// new name is taken. Changing the URL or selectors forgets the stored
// ETag/Last-Modified, so the next run fetches in full.
func (s *Store) UpdateSource(ctx context.Context, src model.Source) (model.Source, error) {
	out, err := scanSource(s.db.QueryRow(ctx, `
		UPDATE sources SET name = $2, kind = $3, url = $4, schedule = $5, enabled = $6,
			selectors = $7, respect_robots = $8, settings = $9,
			etag = CASE WHEN url = $4 AND selectors = $7::jsonb THEN etag ELSE '' END,
			last_modified = CASE WHEN url = $4 AND selectors = $7::jsonb THEN last_modified ELSE '' END,
			updated_at = clock_timestamp()
		WHERE id = $1 AND kind <> 'manual'
		RETURNING `+sourceCols,
		src.ID, src.Name, src.Kind, src.URL, src.Schedule, src.Enabled,
		selectorsOrEmpty(src.Selectors), src.RespectRobots, settingsJSON(src)))
	if err != nil {
		return src, fmt.Errorf("update source %d: %w", src.ID, sourceNameTaken(err))
	}
	return out, nil
}

// DeleteSource removes a source with its jobs and runs, or returns
// ErrNotFound.
func (s *Store) DeleteSource(ctx context.Context, id int64) error {
	tag, err := s.db.Exec(ctx, `DELETE FROM sources WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete source %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete source %d: %w", id, ErrNotFound)
	}
	return nil
}

// EnsureSource returns the source named src.Name, creating it from src when
// no source of that name exists (an existing one is returned unchanged).
func (s *Store) EnsureSource(ctx context.Context, src model.Source) (model.Source, error) {
	_, err := s.db.Exec(ctx, `
		INSERT INTO sources (name, kind, url, schedule, enabled, selectors, respect_robots, settings)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (name) DO NOTHING`,
		src.Name, src.Kind, src.URL, src.Schedule, src.Enabled, selectorsOrEmpty(src.Selectors), src.RespectRobots, settingsJSON(src))
	if err != nil {
		return src, fmt.Errorf("ensure source %q: %w", src.Name, err)
	}
	out, err := scanSource(s.db.QueryRow(ctx, `SELECT `+sourceCols+` FROM sources WHERE name = $1`, src.Name))
	if err != nil {
		return src, fmt.Errorf("ensure source %q: %w", src.Name, err)
	}
	return out, nil
}

// ManualSourceID returns the id of the oldest source of kind manual (the
// one POST /api/jobs ingests into), or ErrNotFound when there is none yet.
func (s *Store) ManualSourceID(ctx context.Context) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT id FROM sources WHERE kind = 'manual' ORDER BY id LIMIT 1`).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("manual source: %w", notFound(err))
	}
	return id, nil
}

// CountSources returns how many sources other than the manual ones exist,
// not counting the one named except (none when except is empty); the app
// uses it to decide on demo mode.
func (s *Store) CountSources(ctx context.Context, except string) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM sources WHERE kind <> 'manual' AND name <> $1`, except).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sources: %w", err)
	}
	return n, nil
}

// DisableSourceByName disables the enabled source of that name, and
// reports whether there was one.
func (s *Store) DisableSourceByName(ctx context.Context, name string) (bool, error) {
	tag, err := s.db.Exec(ctx, `UPDATE sources SET enabled = false, updated_at = now() WHERE name = $1 AND enabled`, name)
	if err != nil {
		return false, fmt.Errorf("disable source %q: %w", name, err)
	}
	return tag.RowsAffected() > 0, nil
}

// SourceValidators returns the ETag and Last-Modified of the source's first
// page as its last healthy run saw them.
func (s *Store) SourceValidators(ctx context.Context, id int64) (etag, lastModified string, err error) {
	err = s.db.QueryRow(ctx, `SELECT etag, last_modified FROM sources WHERE id = $1`, id).Scan(&etag, &lastModified)
	if err != nil {
		return "", "", fmt.Errorf("load validators of source %d: %w", id, notFound(err))
	}
	return etag, lastModified, nil
}

// SaveSourceValidators stores the first page's ETag and Last-Modified after
// a healthy run (without touching updated_at, so no reload is triggered).
func (s *Store) SaveSourceValidators(ctx context.Context, id int64, etag, lastModified string) error {
	_, err := s.db.Exec(ctx, `UPDATE sources SET etag = $2, last_modified = $3 WHERE id = $1`, id, etag, lastModified)
	if err != nil {
		return fmt.Errorf("save validators of source %d: %w", id, err)
	}
	return nil
}

// SourceIDByName returns the id of the source of that name, or ErrNotFound.
func (s *Store) SourceIDByName(ctx context.Context, name string) (int64, error) {
	var id int64
	if err := s.db.QueryRow(ctx, `SELECT id FROM sources WHERE name = $1`, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("source %q: %w", name, notFound(err))
	}
	return id, nil
}
