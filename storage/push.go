package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The browsers that receive a user's Web Push messages: push_subscriptions.

// PushSubscription is one browser's PushSubscription, as the page sent it.
type PushSubscription struct {
	ID            int64      `json:"id"`
	UserID        int64      `json:"-"`
	Endpoint      string     `json:"endpoint"`
	P256dh        string     `json:"-"`
	Auth          string     `json:"-"`
	UserAgent     string     `json:"userAgent"`
	CreatedAt     time.Time  `json:"createdAt"`
	LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty"`
	Failures      int        `json:"failures"`
}

const pushCols = "id, user_id, endpoint, p256dh, auth, user_agent, created_at, last_success_at, failures"

func scanPush(row pgx.Row) (PushSubscription, error) {
	var p PushSubscription
	err := row.Scan(&p.ID, &p.UserID, &p.Endpoint, &p.P256dh, &p.Auth, &p.UserAgent, &p.CreatedAt, &p.LastSuccessAt, &p.Failures)
	return p, notFound(err)
}

// SavePushSubscription stores p for p.UserID. An endpoint already stored
// (the same browser subscribing again, perhaps for another account) is
// replaced: it belongs to whoever subscribed it last.
func (s *Store) SavePushSubscription(ctx context.Context, p PushSubscription) (PushSubscription, error) {
	out, err := scanPush(s.db.QueryRow(ctx, `
		INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, user_agent) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (endpoint) DO UPDATE SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh,
			auth = EXCLUDED.auth, user_agent = EXCLUDED.user_agent, failures = 0
		RETURNING `+pushCols, p.UserID, p.Endpoint, p.P256dh, p.Auth, p.UserAgent))
	if err != nil {
		return out, fmt.Errorf("save push subscription: %w", err)
	}
	return out, nil
}

// ListPushSubscriptions returns the user's browsers, oldest first.
func (s *Store) ListPushSubscriptions(ctx context.Context, userID int64) ([]PushSubscription, error) {
	rows, err := s.db.Query(ctx, `SELECT `+pushCols+` FROM push_subscriptions WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list push subscriptions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PushSubscription, error) { return scanPush(r) })
	if err != nil {
		return nil, fmt.Errorf("list push subscriptions: %w", err)
	}
	return out, nil
}

// PushSubscriptionsByID returns the subscriptions among ids that exist.
func (s *Store) PushSubscriptionsByID(ctx context.Context, ids []int64) (map[int64]PushSubscription, error) {
	rows, err := s.db.Query(ctx, `SELECT `+pushCols+` FROM push_subscriptions WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("push subscriptions: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PushSubscription, error) { return scanPush(r) })
	if err != nil {
		return nil, fmt.Errorf("push subscriptions: %w", err)
	}
	out := make(map[int64]PushSubscription, len(list))
	for _, p := range list {
		out[p.ID] = p
	}
	return out, nil
}

// PushTargets returns the subscription ids of each of the users.
func (s *Store) PushTargets(ctx context.Context, userIDs []int64) (map[int64][]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT user_id, id FROM push_subscriptions WHERE user_id = ANY($1) ORDER BY id`, userIDs)
	if err != nil {
		return nil, fmt.Errorf("push targets: %w", err)
	}
	out := map[int64][]int64{}
	var u, id int64
	if _, err := pgx.ForEachRow(rows, []any{&u, &id}, func() error { out[u] = append(out[u], id); return nil }); err != nil {
		return nil, fmt.Errorf("push targets: %w", err)
	}
	return out, nil
}

// DeletePushSubscription removes one of the user's browsers, and what was
// queued for it; ErrNotFound for another user's.
func (s *Store) DeletePushSubscription(ctx context.Context, userID, id int64) error {
	var n int64
	err := s.db.QueryRow(ctx, `
		WITH d AS (DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2 RETURNING id),
		q AS (DELETE FROM courier_queue WHERE kind = 'push' AND target IN (SELECT id FROM d))
		SELECT count(*) FROM d`, id, userID).Scan(&n)
	if err != nil {
		return fmt.Errorf("delete push subscription %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("delete push subscription %d: %w", id, ErrNotFound)
	}
	return nil
}

// RemovePushSubscription removes a subscription the push service reported
// gone, and what was queued for it.
func (s *Store) RemovePushSubscription(ctx context.Context, id int64) error {
	_, err := s.db.Exec(ctx, `
		WITH d AS (DELETE FROM push_subscriptions WHERE id = $1 RETURNING id)
		DELETE FROM courier_queue WHERE kind = 'push' AND target IN (SELECT id FROM d)`, id)
	if err != nil {
		return fmt.Errorf("remove push subscription %d: %w", id, err)
	}
	return nil
}

// PushOutcome records a send to the subscription: a success resets its
// failures and stamps last_success_at, a failure counts one.
func (s *Store) PushOutcome(ctx context.Context, id int64, ok bool) error {
	sql := `UPDATE push_subscriptions SET failures = failures + 1 WHERE id = $1`
	if ok {
		sql = `UPDATE push_subscriptions SET failures = 0, last_success_at = now() WHERE id = $1`
	}
	if _, err := s.db.Exec(ctx, sql, id); err != nil {
		return fmt.Errorf("push outcome %d: %w", id, err)
	}
	return nil
}
