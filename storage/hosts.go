package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// HostState is the back-off state of one host (a host_state row), shared by
// every node. The scraper decides the policy; storage keeps the state.
type HostState struct {
	Host string `json:"host"`
	// PausedUntil: no request to the host before this time (nil: never
	// paused).
	PausedUntil *time.Time `json:"pausedUntil,omitempty"`
	// Failures counts failed responses in a row.
	Failures int    `json:"failures"`
	Reason   string `json:"reason,omitempty"`
	// Now is the database's clock when the row was read, so that callers
	// on several machines compare times on one clock.
	Now time.Time `json:"-"`
}

// HostTurn is the answer of ReserveHostTurn.
type HostTurn struct {
	HostState
	// At is when the reserved request may start (on the database's clock,
	// like Now). Zero when the host is paused: nothing was reserved.
	At time.Time
}

// Paused reports whether the host is backing off at h.Now.
func (h HostState) Paused() bool { return h.PausedUntil != nil && h.PausedUntil.After(h.Now) }

const hostCols = `host, paused_until, failures, reason, clock_timestamp()`

func scanHost(row pgx.Row) (HostState, error) {
	var h HostState
	err := row.Scan(&h.Host, &h.PausedUntil, &h.Failures, &h.Reason, &h.Now)
	return h, notFound(err)
}

// GetHostState returns the state of host; a host never seen has a zero
// state (not ErrNotFound).
func (s *Store) GetHostState(ctx context.Context, host string) (HostState, error) {
	h, err := scanHost(s.db.QueryRow(ctx, `SELECT `+hostCols+` FROM host_state WHERE host = $1`, host))
	if errors.Is(err, ErrNotFound) {
		h = HostState{Host: host}
		err = s.db.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&h.Now)
	}
	if err != nil {
		return h, fmt.Errorf("host state of %s: %w", host, err)
	}
	return h, nil
}

// ReserveHostTurn reserves the next request to host, spacing requests by
// spacing cluster-wide: the turn starts at the later of now and the end of
// the last reserved turn. A paused host reserves nothing (At is zero) and
// the caller reads PausedUntil. With spacing 0 nothing is written.
func (s *Store) ReserveHostTurn(ctx context.Context, host string, spacing time.Duration) (HostTurn, error) {
	if spacing <= 0 {
		h, err := s.GetHostState(ctx, host)
		t := HostTurn{HostState: h}
		if err == nil && !h.Paused() {
			t.At = h.Now
		}
		return t, err
	}
	var t HostTurn
	err := s.db.QueryRow(ctx, `
		INSERT INTO host_state AS h (host, next_at) VALUES ($1, clock_timestamp() + $2::interval)
		ON CONFLICT (host) DO UPDATE SET next_at = GREATEST(h.next_at, clock_timestamp()) + $2::interval
			WHERE h.paused_until IS NULL OR h.paused_until <= clock_timestamp()
		RETURNING next_at - $2::interval, `+hostCols, host, interval(spacing)).
		Scan(&t.At, &t.Host, &t.PausedUntil, &t.Failures, &t.Reason, &t.Now)
	if errors.Is(err, pgx.ErrNoRows) { // paused: the WHERE kept the row
		t.HostState, err = s.GetHostState(ctx, host)
		t.At = time.Time{}
	}
	if err != nil {
		return t, fmt.Errorf("reserve a request to %s: %w", host, err)
	}
	return t, nil
}

// RecordHostFailure counts a failed response of host and pauses it for
// pause(failures) from now (failures counting this one), unless it is
// already paused for longer. It returns the new state.
func (s *Store) RecordHostFailure(ctx context.Context, host, reason string, pause func(failures int) time.Duration) (HostState, error) {
	var h HostState
	err := s.Tx(ctx, func(tx *Store) error {
		var n int
		if err := tx.db.QueryRow(ctx, `
			INSERT INTO host_state AS h (host, failures) VALUES ($1, 1)
			ON CONFLICT (host) DO UPDATE SET failures = h.failures + 1
			RETURNING failures`, host).Scan(&n); err != nil {
			return err
		}
		var err error
		h, err = scanHost(tx.db.QueryRow(ctx, `
			UPDATE host_state SET
				reason = CASE WHEN paused_until > clock_timestamp() + $2::interval THEN reason ELSE $3 END,
				paused_until = GREATEST(paused_until, clock_timestamp() + $2::interval),
				updated_at = clock_timestamp()
			WHERE host = $1 RETURNING `+hostCols, host, interval(pause(n)), reason))
		return err
	})
	if err != nil {
		return h, fmt.Errorf("record a failure of %s: %w", host, err)
	}
	return h, nil
}

// RecordHostSuccess ends host's row of failures (its pause, if any, has
// passed or was not waited for).
func (s *Store) RecordHostSuccess(ctx context.Context, host string) error {
	_, err := s.db.Exec(ctx, `
		UPDATE host_state SET failures = 0, reason = '', updated_at = clock_timestamp()
		WHERE host = $1 AND failures > 0`, host)
	if err != nil {
		return fmt.Errorf("record a success of %s: %w", host, err)
	}
	return nil
}

// ListPausedHosts returns the hosts backing off now.
func (s *Store) ListPausedHosts(ctx context.Context) ([]HostState, error) {
	rows, err := s.db.Query(ctx, `SELECT `+hostCols+` FROM host_state WHERE paused_until > clock_timestamp() ORDER BY host`)
	if err != nil {
		return nil, fmt.Errorf("paused hosts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HostState, error) { return scanHost(r) })
	if err != nil {
		return nil, fmt.Errorf("paused hosts: %w", err)
	}
	return out, nil
}

// interval is d as a PostgreSQL interval literal.
func interval(d time.Duration) string { return fmt.Sprintf("%d microseconds", d.Microseconds()) }
