package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/birjob/birjob/model"
)

// The event log: the events table (appended to by the matcher and by
// publishes, read by every node's hub from its cursor) and event_retention
// (the highest id the retention purge removed). Ids are assigned by a
// trigger in commit order; see notify's package documentation.

// eventCols are the columns an EventFunc receives, in its order.
const eventCols = "id, channel, type, data::text, created_at"

// EventFunc receives one event of the log as it is read: its id, stored
// channel, type, creation time and data (its JSON as stored, in a slice of
// its own that the callee may keep). Returning an error stops the read.
type EventFunc func(id int64, channel, typ string, created time.Time, data []byte) error

// AppendEvents writes evs to the event log and returns their ids, in order.
// Inside a transaction the events become visible (and are delivered) when
// it commits, never before. Data must be valid JSON; nil Data is stored as
// null. An event without a channel or a type, or with data that is not
// JSON, is ErrBadEvent and nothing is written.
func (s *Store) AppendEvents(ctx context.Context, evs ...model.Event) ([]int64, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	chans := make([]string, len(evs))
	types := make([]string, len(evs))
	datas := make([]string, len(evs))
	for i, ev := range evs {
		if ev.Channel == "" || ev.Type == "" {
			return nil, ErrBadEvent
		}
		chans[i], types[i] = ev.Channel, ev.Type
		if len(bytes.TrimSpace(ev.Data)) == 0 {
			datas[i] = "null"
		} else {
			if !json.Valid(ev.Data) {
				return nil, fmt.Errorf("%w: data of event %d is not valid JSON", ErrBadEvent, i)
			}
			datas[i] = string(ev.Data)
		}
	}
	// WITH ORDINALITY + ORDER BY keeps the ids in the order of evs: the
	// trigger assigns ids row by row in insertion order.
	rows, err := s.db.Query(ctx, `
		INSERT INTO events (channel, type, data)
		SELECT c, t, d FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(c, t, d, n)
		ORDER BY n
		RETURNING id`, chans, types, datas)
	if err != nil {
		return nil, fmt.Errorf("append events: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("append events: %w", err)
	}
	return ids, nil
}

// LastEventID returns the highest id of the log (0 when it is empty).
func (s *Store) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.QueryRow(ctx, "SELECT coalesce(max(id), 0) FROM events").Scan(&id); err != nil {
		return 0, fmt.Errorf("read log end: %w", err)
	}
	return id, nil
}

// EventsAfter passes fn the events with id > after, of every channel, in id
// order, at most limit of them, and returns how many it passed.
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int, fn EventFunc) (int, error) {
	n, err := s.eachEvent(ctx, fn, `SELECT `+eventCols+` FROM events
		WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return n, fmt.Errorf("read events after %d: %w", after, err)
	}
	return n, nil
}

// ChannelEvents passes fn the events of the given channels with after <
// id <= upto, merged in id order, at most limit of them, and returns how
// many it passed. Each channel is read through events_channel_id_idx up to
// limit rows, so a page costs at most limit rows per channel however long
// the range.
func (s *Store) ChannelEvents(ctx context.Context, channels []string, after, upto int64, limit int, fn EventFunc) (int, error) {
	n, err := s.eachEvent(ctx, fn, `SELECT e.id, e.channel, e.type, e.data::text, e.created_at
		FROM unnest($1::text[]) AS c(name)
		CROSS JOIN LATERAL (
			SELECT * FROM events
			WHERE channel = c.name AND id > $2 AND id <= $3 ORDER BY id LIMIT $4
		) e
		ORDER BY e.id LIMIT $4`, channels, after, upto, limit)
	if err != nil {
		return n, fmt.Errorf("read events of %s after %d: %w", strings.Join(channels, ","), after, err)
	}
	return n, nil
}

// LogEnd returns the newest id the log has had: its highest id, or the
// highest purged one when the retention emptied it. A client that saw an
// event resumes from at most this; a position beyond it is ahead of the
// log (a restored backup, a confused client).
func (s *Store) LogEnd(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.QueryRow(ctx, `SELECT greatest(
		(SELECT coalesce(max(id), 0) FROM events),
		(SELECT purged_upto FROM event_retention))`).Scan(&id); err != nil {
		return 0, fmt.Errorf("read log end: %w", err)
	}
	return id, nil
}

// eachEvent runs an events query selecting eventCols and passes each row to
// fn. The scan targets are reused across rows: strings and the data slice
// are fresh per row (pgx allocates them), so fn may keep them.
func (s *Store) eachEvent(ctx context.Context, fn EventFunc, sql string, args ...any) (int, error) {
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	var (
		id      int64
		ch, typ string
		data    []byte
		created time.Time
	)
	n := 0
	_, err = pgx.ForEachRow(rows, []any{&id, &ch, &typ, &data, &created}, func() error {
		n++
		return fn(id, ch, typ, created, data)
	})
	return n, err
}

// PurgedUpto returns the highest event id the retention purge removed: a
// resume from below it may have lost events.
func (s *Store) PurgedUpto(ctx context.Context) (int64, error) {
	var upto int64
	if err := s.db.QueryRow(ctx, "SELECT purged_upto FROM event_retention").Scan(&upto); err != nil {
		return 0, fmt.Errorf("read retention: %w", err)
	}
	return upto, nil
}

// LastEventOlderThan returns the highest id of the events created more than
// age ago by the database's clock (0 when there is none).
func (s *Store) LastEventOlderThan(ctx context.Context, age time.Duration) (int64, error) {
	var upto int64
	if err := s.db.QueryRow(ctx, `
		SELECT coalesce(max(id), 0) FROM events
		WHERE created_at < now() - make_interval(secs => $1)`,
		age.Seconds()).Scan(&upto); err != nil {
		return 0, fmt.Errorf("find expired events: %w", err)
	}
	return upto, nil
}

// PurgeEventsUpto deletes every event with id <= upto and records upto in
// event_retention (which never goes down). Run it in a transaction, so that
// the log and its retention mark change together.
func (s *Store) PurgeEventsUpto(ctx context.Context, upto int64) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM events WHERE id <= $1`, upto); err != nil {
		return fmt.Errorf("purge events up to %d: %w", upto, err)
	}
	if _, err := s.db.Exec(ctx, `UPDATE event_retention SET purged_upto = greatest(purged_upto, $1)`, upto); err != nil {
		return fmt.Errorf("record purge up to %d: %w", upto, err)
	}
	return nil
}

// DeleteChannelEvents deletes every event of one channel (a deleted
// account's personal channel). The ids of other channels are untouched, so
// no client's position moves.
func (s *Store) DeleteChannelEvents(ctx context.Context, channel string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM events WHERE channel = $1`, channel); err != nil {
		return fmt.Errorf("delete events of %s: %w", channel, err)
	}
	return nil
}

// CopyEvents appends n events to the log with one COPY; row(i) gives the
// i-th event's channel, type and data. The rows are asked for one at a
// time while the COPY streams, each after the previous one is encoded, so
// row may build its data while the server stores the earlier rows and may
// reuse the previous row's data buffer.
//
// Like every insert into events, the COPY takes the event log's lock
// (migration 005), so the events' ids follow commit order.
func (s *Store) CopyEvents(ctx context.Context, n int, row func(i int) (channel, typ string, data []byte)) error {
	_, err := s.db.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"channel", "type", "data"},
		pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			channel, typ, data := row(i)
			return []any{channel, typ, data}, nil
		}))
	if err != nil {
		return fmt.Errorf("write events: %w", err)
	}
	return nil
}

// TimeCount is a count of rows in one time bucket.
type TimeCount struct {
	At time.Time
	N  int64
}

// EventCounts counts the events written since from (every row of the log:
// the public job events and each delivery to a user or a feed) in buckets
// of step aligned on from, oldest first; empty buckets are absent.
func (s *Store) EventCounts(ctx context.Context, from time.Time, step time.Duration) ([]TimeCount, error) {
	rows, _ := s.db.Query(ctx, `
		SELECT date_bin(make_interval(secs => $2), created_at, $1) AS bucket, count(*)
		FROM events WHERE created_at >= $1
		GROUP BY 1 ORDER BY 1`, from, step.Seconds())
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[TimeCount])
	if err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	return out, nil
}
