package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The courier's state: courier_cursors (its position in the event log, per
// channel of delivery) and courier_queue (what is still to be sent, one row
// per kind, event, alert and target). See the courier package for the
// protocol: rows are inserted in the transaction that advances the cursor
// and deleted in the one that records their send.

// Courier queue kinds.
const (
	CourierPush   = "push"   // a Web Push message to one subscription
	CourierMail   = "mail"   // an instant mail
	CourierDigest = "digest" // a line of the daily digest
)

// CourierLockKey is the session advisory lock that makes one node the
// courier of the cluster ('bcou').
const CourierLockKey = 0x62636f75

// TryCourierLock takes the courier's session-level advisory lock on this
// connection, if no other session holds it, and reports whether it did. The
// lock lasts until the connection closes: run it on a dedicated *pgx.Conn.
func (s *Store) TryCourierLock(ctx context.Context) (bool, error) {
	var ok bool
	if err := s.db.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, CourierLockKey).Scan(&ok); err != nil {
		return false, fmt.Errorf("courier lock: %w", err)
	}
	return ok, nil
}

// CourierCursor returns the id of the last event the courier's kind
// ("push" or "mail") has taken from the log.
func (s *Store) CourierCursor(ctx context.Context, kind string) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT event_id FROM courier_cursors WHERE kind = $1`, kind).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("courier cursor %s: %w", kind, notFound(err))
	}
	return id, nil
}

// SetCourierCursor moves the cursor of kind to id.
func (s *Store) SetCourierCursor(ctx context.Context, kind string, id int64) error {
	_, err := s.db.Exec(ctx, `UPDATE courier_cursors SET event_id = $2, updated_at = now() WHERE kind = $1`, kind, id)
	if err != nil {
		return fmt.Errorf("courier cursor %s: %w", kind, err)
	}
	return nil
}

// QueueItem is one row of courier_queue: one new-job event to send to one
// target (a push subscription, or the user's mailbox: 0) for one alert.
type QueueItem struct {
	ID       int64
	Kind     string
	EventID  int64
	AlertID  int64
	UserID   int64
	Target   int64
	Data     []byte // the event's data (a model.JobEvent) as stored
	EventAt  time.Time
	DueAt    time.Time
	Attempts int
}

const queueCols = "id, kind, event_id, alert_id, user_id, target, data, event_at, due_at, attempts"

// Enqueue inserts items into the courier queue; an item already queued
// (same kind, event, alert and target) is skipped. It returns how many
// were inserted.
func (s *Store) Enqueue(ctx context.Context, items []QueueItem) (int64, error) {
	if len(items) == 0 {
		return 0, nil
	}
	n := len(items)
	kinds, datas := make([]string, n), make([]string, n)
	evs, alerts, users, targets := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	evAt, due := make([]time.Time, n), make([]time.Time, n)
	for i, it := range items {
		kinds[i], datas[i] = it.Kind, string(it.Data)
		evs[i], alerts[i], users[i], targets[i] = it.EventID, it.AlertID, it.UserID, it.Target
		evAt[i], due[i] = it.EventAt, it.DueAt
	}
	tag, err := s.db.Exec(ctx, `
		INSERT INTO courier_queue (kind, event_id, alert_id, user_id, target, data, event_at, due_at)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::timestamptz[], $8::timestamptz[])
		ON CONFLICT (kind, event_id, alert_id, target) DO NOTHING`,
		kinds, evs, alerts, users, targets, datas, evAt, due)
	if err != nil {
		return 0, fmt.Errorf("enqueue: %w", err)
	}
	return tag.RowsAffected(), nil
}

// DueQueue returns the queued rows of kind whose group, by alert and
// target, is due at now: its oldest row is due and none of its rows waits
// for a retry later than now. It returns whole groups, at most groups of
// them, oldest first, each group's rows in id order.
func (s *Store) DueQueue(ctx context.Context, kind string, now time.Time, groups int) ([]QueueItem, error) {
	rows, err := s.db.Query(ctx, `
		WITH g AS (
			SELECT alert_id, target FROM courier_queue WHERE kind = $1
			GROUP BY alert_id, target
			HAVING min(due_at) <= $2
			   AND coalesce(max(due_at) FILTER (WHERE attempts > 0), '-infinity') <= $2
			ORDER BY min(id) LIMIT $3
		)
		SELECT `+queueCols+` FROM courier_queue q JOIN g USING (alert_id, target)
		WHERE q.kind = $1 ORDER BY q.alert_id, q.target, q.id`, kind, now, groups)
	if err != nil {
		return nil, fmt.Errorf("due %s: %w", kind, err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (QueueItem, error) {
		var it QueueItem
		var data string
		err := r.Scan(&it.ID, &it.Kind, &it.EventID, &it.AlertID, &it.UserID, &it.Target, &data, &it.EventAt, &it.DueAt, &it.Attempts)
		it.Data = []byte(data)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("due %s: %w", kind, err)
	}
	return items, nil
}

// NextDue returns when the next group of the queue becomes due (by the
// rule of DueQueue), and false when the queue is empty.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var t *time.Time
	err := s.db.QueryRow(ctx, `
		SELECT min(due) FROM (
			SELECT greatest(min(due_at), coalesce(max(due_at) FILTER (WHERE attempts > 0), '-infinity')) AS due
			FROM courier_queue GROUP BY kind, alert_id, target
		) g`).Scan(&t)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	if t == nil {
		return time.Time{}, false, nil
	}
	return *t, true, nil
}

// Dequeue deletes queued rows: they were sent, or will never be.
func (s *Store) Dequeue(ctx context.Context, ids []int64) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM courier_queue WHERE id = ANY($1)`, ids); err != nil {
		return fmt.Errorf("dequeue: %w", err)
	}
	return nil
}

// RetryLater counts a failed attempt on the rows and makes them due again
// at due.
func (s *Store) RetryLater(ctx context.Context, ids []int64, due time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE courier_queue SET attempts = attempts + 1, due_at = $2 WHERE id = ANY($1)`, ids, due)
	if err != nil {
		return fmt.Errorf("retry later: %w", err)
	}
	return nil
}

// OldestUnsent returns, per kind, the creation time of the oldest event
// still queued that should have gone out by now: every push and instant
// mail row, and digest rows whose hour has come. Kinds with none are
// absent.
func (s *Store) OldestUnsent(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.db.Query(ctx, `
		SELECT kind, min(event_at) FROM courier_queue
		WHERE kind <> 'digest' OR due_at <= now() GROUP BY kind`)
	if err != nil {
		return nil, fmt.Errorf("oldest unsent: %w", err)
	}
	out := map[string]time.Time{}
	var kind string
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&kind, &at}, func() error { out[kind] = at; return nil })
	if err != nil {
		return nil, fmt.Errorf("oldest unsent: %w", err)
	}
	return out, nil
}

// QueueLen returns how many rows are queued (tests and stats).
func (s *Store) QueueLen(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT count(*) FROM courier_queue`).Scan(&n); err != nil {
		return 0, fmt.Errorf("queue length: %w", err)
	}
	return n, nil
}

// CourierAlert is what the courier needs of an alert and its owner.
type CourierAlert struct {
	ID       int64
	UserID   int64
	Name     string
	Email    string // the alert's email mode: off, instant, daily
	Paused   bool
	Muted    bool   // matches, but tells no one: no push, no mail
	To       string // the owner's email address
	TimeZone string // the owner's IANA time zone
}

// CourierAlerts returns the alerts among ids that exist, by id.
func (s *Store) CourierAlerts(ctx context.Context, ids []int64) (map[int64]CourierAlert, error) {
	rows, err := s.db.Query(ctx, `
		SELECT a.id, a.user_id, a.name, a.email, a.paused, a.muted, u.email, u.time_zone
		FROM alerts a JOIN users u ON u.id = a.user_id WHERE a.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("courier alerts: %w", err)
	}
	out := map[int64]CourierAlert{}
	var a CourierAlert
	_, err = pgx.ForEachRow(rows, []any{&a.ID, &a.UserID, &a.Name, &a.Email, &a.Paused, &a.Muted, &a.To, &a.TimeZone},
		func() error { out[a.ID] = a; return nil })
	if err != nil {
		return nil, fmt.Errorf("courier alerts: %w", err)
	}
	return out, nil
}
