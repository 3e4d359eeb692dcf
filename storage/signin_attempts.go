package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The signin_attempts table holds the sign-in counters every node shares
// (migration 012): one row per (scope, key), counting within a fixed
// window that starts at its first count. What is counted and what is
// refused is auth's policy (auth/limiter.go); here are only the
// statements, each one round trip.

// Counter names one counter of signin_attempts.
type Counter struct {
	Scope string
	Key   string
}

// Count is a counter's state after CountAttempt: Failures in the window
// that started at WindowStart, as of the database's clock Now (so that
// nodes whose clocks differ agree on when a window ends).
type Count struct {
	Counter
	Failures    int
	WindowStart time.Time
	Now         time.Time
}

// Remaining is how long the counter's window still runs.
func (c Count) Remaining(window time.Duration) time.Duration {
	return c.WindowStart.Add(window).Sub(c.Now)
}

// sortCounters orders counters by (scope, key) without duplicates, so that
// concurrent statements lock shared rows in one order and cannot deadlock.
func sortCounters(cs []Counter) []Counter {
	cs = slices.Clone(cs)
	slices.SortFunc(cs, func(a, b Counter) int {
		if c := strings.Compare(a.Scope, b.Scope); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return slices.Compact(cs)
}

func splitCounters(cs []Counter) (scopes, keys []string) {
	for _, c := range cs {
		scopes = append(scopes, c.Scope)
		keys = append(keys, c.Key)
	}
	return scopes, keys
}

// CountAttempt adds one to each counter in one upsert and returns their
// new states (in (scope, key) order). A counter whose window is older than
// window starts over at 1 with a new window.
func (s *Store) CountAttempt(ctx context.Context, counters []Counter, window time.Duration) ([]Count, error) {
	scopes, keys := splitCounters(sortCounters(counters))
	rows, err := s.db.Query(ctx, `
		INSERT INTO signin_attempts AS a (scope, key, failures, window_start)
		SELECT scope, key, 1, now()
		FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(scope, key, ord)
		ORDER BY ord
		ON CONFLICT (scope, key) DO UPDATE SET
			failures     = CASE WHEN a.window_start > now() - $3::interval THEN a.failures + 1 ELSE 1 END,
			window_start = CASE WHEN a.window_start > now() - $3::interval THEN a.window_start ELSE now() END
		RETURNING scope, key, failures, window_start, now()`, scopes, keys, window)
	if err != nil {
		return nil, fmt.Errorf("count sign-in attempt: %w", err)
	}
	counts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Count, error) {
		var c Count
		err := row.Scan(&c.Scope, &c.Key, &c.Failures, &c.WindowStart, &c.Now)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("count sign-in attempt: %w", err)
	}
	slices.SortFunc(counts, func(a, b Count) int {
		if c := strings.Compare(a.Scope, b.Scope); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return counts, nil
}

// UncountAttempt takes back one count that CountAttempt added to each of
// refund (the attempt turned out not to be a failure), and sets clear to
// zero (a sign-in that succeeded forgets the failures before it), in one
// statement.
func (s *Store) UncountAttempt(ctx context.Context, clear Counter, refund []Counter) error {
	scopes, keys := splitCounters(sortCounters(append(refund, clear)))
	_, err := s.db.Exec(ctx, `
		UPDATE signin_attempts AS a
		SET failures = CASE WHEN a.scope = $3 AND a.key = $4 THEN 0 ELSE greatest(a.failures - 1, 0) END
		FROM unnest($1::text[], $2::text[]) AS c(scope, key)
		WHERE a.scope = c.scope AND a.key = c.key`, scopes, keys, clear.Scope, clear.Key)
	if err != nil {
		return fmt.Errorf("uncount sign-in attempt: %w", err)
	}
	return nil
}

// AttemptCounts reads the counters that exist (absent ones are not
// returned; a row whose window has passed is returned as it is).
func (s *Store) AttemptCounts(ctx context.Context, counters []Counter) ([]Count, error) {
	scopes, keys := splitCounters(sortCounters(counters))
	rows, err := s.db.Query(ctx, `
		SELECT a.scope, a.key, a.failures, a.window_start, now()
		FROM signin_attempts a JOIN unnest($1::text[], $2::text[]) AS c(scope, key)
			ON a.scope = c.scope AND a.key = c.key
		ORDER BY a.scope, a.key`, scopes, keys)
	if err != nil {
		return nil, fmt.Errorf("sign-in attempt counts: %w", err)
	}
	counts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Count, error) {
		var c Count
		err := row.Scan(&c.Scope, &c.Key, &c.Failures, &c.WindowStart, &c.Now)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("sign-in attempt counts: %w", err)
	}
	return counts, nil
}

// PurgeAttempts deletes the counters whose window started more than
// window ago: they count as absent already.
func (s *Store) PurgeAttempts(ctx context.Context, window time.Duration) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM signin_attempts WHERE window_start < now() - $1::interval`, window)
	if err != nil {
		return 0, fmt.Errorf("purge sign-in attempts: %w", err)
	}
	return tag.RowsAffected(), nil
}
