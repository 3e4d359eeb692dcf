package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Mail kept instead of sent when no SMTP server is configured: mail_outbox.

// OutboxMail is one mail of the outbox: the whole RFC 5322 message.
type OutboxMail struct {
	ID        int64     `json:"id"`
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"createdAt"`
}

// AddOutboxMail stores a mail that would have gone out.
func (s *Store) AddOutboxMail(ctx context.Context, to, subject, message string) error {
	_, err := s.db.Exec(ctx, `INSERT INTO mail_outbox (recipient, subject, message) VALUES ($1, $2, $3)`, to, subject, message)
	if err != nil {
		return fmt.Errorf("outbox mail: %w", err)
	}
	return nil
}

// ListOutboxMail returns the newest mails of the outbox, at most limit,
// older than the mail before (all when before is 0): pages, newest first.
func (s *Store) ListOutboxMail(ctx context.Context, before int64, limit int) ([]OutboxMail, error) {
	rows, err := s.db.Query(ctx, `SELECT id, recipient, subject, message, created_at FROM mail_outbox
		WHERE $1 = 0 OR id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OutboxMail, error) {
		var m OutboxMail
		err := r.Scan(&m.ID, &m.To, &m.Subject, &m.Message, &m.CreatedAt)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return out, nil
}
