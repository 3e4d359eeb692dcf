package storage

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/birjob/birjob/model"
)

const alertCols = "id, user_id, name, criteria, paused, created_at, updated_at"

func scanAlert(row pgx.Row) (model.Alert, error) {
	var a model.Alert
	var crit []byte
	if err := row.Scan(&a.ID, &a.UserID, &a.Name, &crit, &a.Paused, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return a, notFound(err)
	}
	if err := json.Unmarshal(crit, &a.Criteria); err != nil {
		return a, fmt.Errorf("alert %d: criteria: %w", a.ID, err)
	}
	return a, nil
}

// ListAlerts returns the user's alerts, oldest first.
func (s *Store) ListAlerts(ctx context.Context, userID int64) ([]model.Alert, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+alertCols+` FROM alerts WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	alerts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.Alert, error) { return scanAlert(r) })
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return alerts, nil
}

// GetAlert returns one of the user's alerts; ErrNotFound for another user's.
func (s *Store) GetAlert(ctx context.Context, userID, id int64) (model.Alert, error) {
	a, err := scanAlert(s.pool.QueryRow(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = $1 AND user_id = $2`, id, userID))
	if err != nil {
		return a, fmt.Errorf("alert %d: %w", id, err)
	}
	return a, nil
}

// CreateAlert stores a new alert for a.UserID.
func (s *Store) CreateAlert(ctx context.Context, a model.Alert) (model.Alert, error) {
	crit, err := json.Marshal(a.Criteria)
	if err != nil {
		return a, err
	}
	out, err := scanAlert(s.pool.QueryRow(ctx,
		`INSERT INTO alerts (user_id, name, criteria, paused) VALUES ($1, $2, $3, $4) RETURNING `+alertCols,
		a.UserID, a.Name, crit, a.Paused))
	if err != nil {
		return out, fmt.Errorf("create alert: %w", err)
	}
	return out, nil
}

// UpdateAlert replaces an alert of a.UserID.
func (s *Store) UpdateAlert(ctx context.Context, a model.Alert) (model.Alert, error) {
	crit, err := json.Marshal(a.Criteria)
	if err != nil {
		return a, err
	}
	out, err := scanAlert(s.pool.QueryRow(ctx, `
		UPDATE alerts SET name = $3, criteria = $4, paused = $5, updated_at = now()
		WHERE id = $1 AND user_id = $2 RETURNING `+alertCols,
		a.ID, a.UserID, a.Name, crit, a.Paused))
	if err != nil {
		return out, fmt.Errorf("update alert %d: %w", a.ID, err)
	}
	return out, nil
}

// DeleteAlert deletes one of the user's alerts.
func (s *Store) DeleteAlert(ctx context.Context, userID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM alerts WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete alert %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete alert %d: %w", id, ErrNotFound)
	}
	return nil
}

// AlertMatches returns, for each of the user's alerts, the most recent jobs
// it matched (newest first, at most limit per alert).
func (s *Store) AlertMatches(ctx context.Context, userID int64, limit int) (map[int64][]model.Job, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT a.alert_id, `+jobColsJ+`
		FROM (SELECT d.job_id, unnest(d.alert_ids) AS alert_id FROM job_deliveries d WHERE d.channel = $1) a
		JOIN jobs j ON j.id = a.job_id JOIN sources s ON s.id = j.source_id
		ORDER BY j.id DESC LIMIT $2`, model.UserChannel(userID), limit*20)
	if err != nil {
		return nil, fmt.Errorf("alert matches: %w", err)
	}
	defer rows.Close()
	out := map[int64][]model.Job{}
	for rows.Next() {
		var alertID int64
		j, err := scanJobInto(rows, &alertID)
		if err != nil {
			return nil, fmt.Errorf("alert matches: %w", err)
		}
		if len(out[alertID]) < limit {
			out[alertID] = append(out[alertID], j)
		}
	}
	return out, rows.Err()
}
