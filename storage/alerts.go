package storage

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/birjob/birjob/model"
)

const alertCols = "id, user_id, name, criteria, paused, muted, email, created_at, updated_at"

func scanAlert(row pgx.Row) (model.Alert, error) {
	var a model.Alert
	var crit []byte
	if err := row.Scan(&a.ID, &a.UserID, &a.Name, &crit, &a.Paused, &a.Muted, &a.Email, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return a, notFound(err)
	}
	if err := json.Unmarshal(crit, &a.Criteria); err != nil {
		return a, fmt.Errorf("alert %d: criteria: %w", a.ID, err)
	}
	return a, nil
}

// ListAlerts returns the user's alerts, oldest first.
func (s *Store) ListAlerts(ctx context.Context, userID int64) ([]model.Alert, error) {
	rows, err := s.db.Query(ctx, `SELECT `+alertCols+` FROM alerts WHERE user_id = $1 ORDER BY id`, userID)
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
	a, err := scanAlert(s.db.QueryRow(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = $1 AND user_id = $2`, id, userID))
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
	out, err := scanAlert(s.db.QueryRow(ctx,
		`INSERT INTO alerts (user_id, name, criteria, paused, muted, email) VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+alertCols,
		a.UserID, a.Name, crit, a.Paused, a.Muted, emailMode(a.Email)))
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
	out, err := scanAlert(s.db.QueryRow(ctx, `
		UPDATE alerts SET name = $3, criteria = $4, paused = $5, muted = $6, email = $7, updated_at = now()
		WHERE id = $1 AND user_id = $2 RETURNING `+alertCols,
		a.ID, a.UserID, a.Name, crit, a.Paused, a.Muted, emailMode(a.Email)))
	if err != nil {
		return out, fmt.Errorf("update alert %d: %w", a.ID, err)
	}
	return out, nil
}

// emailMode stores an alert without an email mode as "off".
func emailMode(m string) string {
	if m == "" {
		return model.EmailOff
	}
	return m
}

// SetAlertEmail sets an alert's email mode (the unsubscribe link turns it
// off), whoever owns it; ErrNotFound when the alert is gone.
func (s *Store) SetAlertEmail(ctx context.Context, id int64, mode string) error {
	tag, err := s.db.Exec(ctx, `UPDATE alerts SET email = $2, updated_at = now() WHERE id = $1`, id, mode)
	if err != nil {
		return fmt.Errorf("alert %d email: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("alert %d email: %w", id, ErrNotFound)
	}
	return nil
}

// DeleteAlert deletes one of the user's alerts.
func (s *Store) DeleteAlert(ctx context.Context, userID, id int64) error {
	tag, err := s.db.Exec(ctx, `DELETE FROM alerts WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete alert %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete alert %d: %w", id, ErrNotFound)
	}
	return nil
}

// AlertMatches returns, for each of the user's alerts, the most recent jobs
// it matched (newest first, at most limit per alert). They are read from the
// user's own new-job events (data: the job's id and the matching "alerts"),
// so they reach back as far as the event retention; the jobs themselves
// come from the jobs table, as they are now.
func (s *Store) AlertMatches(ctx context.Context, userID int64, limit int) (map[int64][]model.Job, error) {
	rows, err := s.db.Query(ctx, `
		SELECT data FROM events WHERE channel = $1 AND type = $2
		ORDER BY id DESC LIMIT $3`, model.UserChannel(userID), model.EventNewJob, limit*20)
	if err != nil {
		return nil, fmt.Errorf("alert matches: %w", err)
	}
	type match struct{ job, alert int64 }
	var order []match
	seen := map[match]bool{}
	perAlert := map[int64]int{}
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		var ev struct {
			ID     int64   `json:"id"`
			Alerts []int64 `json:"alerts"`
		}
		if json.Unmarshal(data, &ev) != nil || ev.ID == 0 {
			return nil // not a matcher's event (an admin may publish anything)
		}
		for _, a := range ev.Alerts {
			m := match{ev.ID, a}
			if seen[m] || perAlert[a] >= limit {
				continue // announced again (a job that came back)
			}
			seen[m] = true
			perAlert[a]++
			order = append(order, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("alert matches: %w", err)
	}
	out := map[int64][]model.Job{}
	if len(order) == 0 {
		return out, nil
	}
	ids := make([]int64, len(order))
	for i, m := range order {
		ids[i] = m.job
	}
	list, err := s.JobsByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("alert matches: %w", err)
	}
	jobs := make(map[int64]model.Job, len(list))
	for _, j := range list {
		jobs[j.ID] = j
	}
	for _, m := range order {
		if j, ok := jobs[m.job]; ok { // a job deleted since is left out
			out[m.alert] = append(out[m.alert], j)
		}
	}
	return out, nil
}

// AlertCriteria is an alert as the matcher indexes it. Its criteria stay
// the stored JSON, so that one row written around the API's validation is
// skipped by the reader instead of failing the whole read.
type AlertCriteria struct {
	ID       int64
	UserID   int64
	Criteria []byte // JSON of a model.Criteria
	Paused   bool
}

// CountActiveAlerts returns the number of alerts that are not paused.
func (s *Store) CountActiveAlerts(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM alerts WHERE NOT paused`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count alerts: %w", err)
	}
	return n, nil
}

// EachActiveAlert calls fn for every alert that is not paused, as the rows
// arrive: a node's start-up load of a million alerts holds no list of
// them. The Criteria fn gets is valid only during the call. An error from
// fn stops the read and is returned, wrapped.
func (s *Store) EachActiveAlert(ctx context.Context, fn func(AlertCriteria) error) error {
	rows, err := s.db.Query(ctx, `SELECT id, user_id, criteria FROM alerts WHERE NOT paused`)
	if err != nil {
		return fmt.Errorf("load alerts: %w", err)
	}
	var a AlertCriteria
	if _, err := pgx.ForEachRow(rows, []any{&a.ID, &a.UserID, &a.Criteria}, func() error { return fn(a) }); err != nil {
		return fmt.Errorf("load alerts: %w", err)
	}
	return nil
}

// AlertCriteriaByID returns the alerts among ids that exist, paused or not,
// in no particular order.
func (s *Store) AlertCriteriaByID(ctx context.Context, ids []int64) ([]AlertCriteria, error) {
	rows, err := s.db.Query(ctx, `SELECT id, user_id, criteria, paused FROM alerts WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("read changed alerts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AlertCriteria, error) {
		var a AlertCriteria
		err := r.Scan(&a.ID, &a.UserID, &a.Criteria, &a.Paused)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("read changed alerts: %w", err)
	}
	return out, nil
}
