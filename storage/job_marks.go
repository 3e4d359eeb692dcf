package storage

import (
	"context"
	"fmt"
)

// This file holds the SQL of job_marks: a user's marks on jobs, saved (a
// list to come back to) and hidden (left out of that user's job list).

// Job marks.
const (
	MarkSaved  = "saved"
	MarkHidden = "hidden"
)

// markColumn is the column of each mark.
var markColumn = map[string]string{MarkSaved: "saved_at", MarkHidden: "hidden_at"}

// SetJobMark sets (on) or clears one mark of a user on a job. A job that
// does not exist is ErrNotFound; setting a mark set already, or clearing
// one that is not, changes nothing and is no error.
func (s *Store) SetJobMark(ctx context.Context, userID, jobID int64, mark string, on bool) error {
	col, ok := markColumn[mark]
	if !ok {
		return fmt.Errorf("job mark %q: %w", mark, ErrNotFound)
	}
	var err error
	if on {
		var n int
		err = s.db.QueryRow(ctx, `
			WITH j AS (SELECT id FROM jobs WHERE id = $2), up AS (
				INSERT INTO job_marks (user_id, job_id, `+col+`) SELECT $1, id, now() FROM j
				ON CONFLICT (user_id, job_id) DO UPDATE SET `+col+` = COALESCE(job_marks.`+col+`, now())
			)
			SELECT count(*) FROM j`, userID, jobID).Scan(&n)
		if err == nil && n == 0 {
			err = ErrNotFound
		}
	} else {
		// A row left with no mark is deleted; otherwise the mark is cleared.
		other := markColumn[MarkHidden]
		if mark == MarkHidden {
			other = markColumn[MarkSaved]
		}
		err = s.Tx(ctx, func(tx *Store) error {
			if _, err := tx.db.Exec(ctx, `DELETE FROM job_marks WHERE user_id = $1 AND job_id = $2 AND `+other+` IS NULL`, userID, jobID); err != nil {
				return err
			}
			if _, err := tx.db.Exec(ctx, `UPDATE job_marks SET `+col+` = NULL WHERE user_id = $1 AND job_id = $2`, userID, jobID); err != nil {
				return err
			}
			var exists bool
			if err := tx.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE id = $1)`, jobID).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return ErrNotFound
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("mark job %d %s: %w", jobID, mark, err)
	}
	return nil
}

// JobMarks returns the marks of a user on the jobs among ids that have
// one: job id → {saved, hidden}.
func (s *Store) JobMarks(ctx context.Context, userID int64, ids []int64) (map[int64]JobMark, error) {
	out := map[int64]JobMark{}
	if userID == 0 || len(ids) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT job_id, saved_at IS NOT NULL, hidden_at IS NOT NULL
		FROM job_marks WHERE user_id = $1 AND job_id = ANY($2)`, userID, ids)
	if err != nil {
		return nil, fmt.Errorf("job marks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var m JobMark
		if err := rows.Scan(&id, &m.Saved, &m.Hidden); err != nil {
			return nil, fmt.Errorf("job marks: %w", err)
		}
		out[id] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("job marks: %w", err)
	}
	return out, nil
}

// JobMark is a user's marks on one job.
type JobMark struct {
	Saved  bool `json:"saved"`
	Hidden bool `json:"hidden"`
}

// marksFilter is the condition of the job list (alias j) on the marks of
// the user whose id is the argument user: with saved, only the jobs the
// user saved; otherwise not the ones the user hid.
func marksFilter(user string, saved bool) string {
	if saved {
		return "EXISTS (SELECT 1 FROM job_marks m WHERE m.user_id = " + user + " AND m.job_id = j.id AND m.saved_at IS NOT NULL)"
	}
	return "NOT EXISTS (SELECT 1 FROM job_marks m WHERE m.user_id = " + user + " AND m.job_id = j.id AND m.hidden_at IS NOT NULL)"
}
