package storage

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

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
