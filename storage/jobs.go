package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/birjob/birjob/model"
)

// jobColsJ selects a job (alias j) with its primary source's name (alias s,
// LEFT JOINed: a deleted source leaves its name in source_name).
const jobColsJ = `j.id, COALESCE(j.source_id, 0), COALESCE(s.name, j.source_name), j.external_id, j.title, j.company, j.location, j.remote,
	j.salary_min, j.salary_max, j.salary_currency, j.salary_period, j.url, j.description,
	j.employment_type, j.posted_at, j.valid_through, j.first_seen_at, j.expired_at`

type scanner interface{ Scan(dest ...any) error }

// scanJobInto scans a job row, after any extra leading columns.
func scanJobInto(row scanner, extra ...any) (model.Job, error) {
	var j model.Job
	var smin, smax *float64
	var cur, per string
	dest := append(extra, &j.ID, &j.SourceID, &j.Source, &j.ExternalID, &j.Title, &j.Company, &j.Location, &j.Remote,
		&smin, &smax, &cur, &per, &j.URL, &j.Description, &j.EmploymentType, &j.PostedAt, &j.ValidThrough,
		&j.FirstSeenAt, &j.ExpiredAt)
	if err := row.Scan(dest...); err != nil {
		return j, notFound(err)
	}
	if smin != nil || smax != nil {
		j.Salary = &model.Salary{Currency: cur, Period: per}
		if smin != nil {
			j.Salary.Min = *smin
		}
		if smax != nil {
			j.Salary.Max = *smax
		}
	}
	return j, nil
}

// JobQuery selects jobs for the list.
type JobQuery struct {
	// Q filters by words in title, company or location (all must appear,
	// case-insensitive).
	Q string
	// Before is the cursor: only jobs with a smaller id (0: from newest).
	Before int64
	// Limit is the page size (default 50, at most 200).
	Limit int
	// IncludeExpired keeps expired jobs in the list (marked by expiredAt).
	IncludeExpired bool
	// Since limits to jobs first seen after this time.
	Since time.Time
	// Match, when set, filters the jobs in Go instead of Q (the API passes
	// the matcher's query language here). Newest first, at most ScanBudget
	// jobs are read per call; when the budget ends before the page is full,
	// the page comes back short, with the cursor to continue from.
	Match func(*model.Job) bool
	// ScanBudget bounds the jobs a Match call reads (default 2,000).
	ScanBudget int
}

// DefaultScanBudget is JobQuery.ScanBudget's default: a search costs at
// most this many rows read and matched, whatever it asks.
const DefaultScanBudget = 2000

// listSQL selects up to limit jobs of q older than before (0: from the
// newest), newest first; q.Q's words filter in SQL unless q.Match is set.
func listSQL(q JobQuery, before int64, limit int) (string, []any) {
	var where []string
	args := []any{}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if before > 0 {
		where = append(where, "j.id < "+arg(before))
	}
	if !q.IncludeExpired {
		where = append(where, "j.expired_at IS NULL")
	}
	if !q.Since.IsZero() {
		where = append(where, "j.first_seen_at > "+arg(q.Since))
	}
	if q.Match == nil {
		for _, w := range strings.Fields(q.Q) {
			if len(where) > 20 {
				break
			}
			p := arg("%" + likeEscape(w) + "%")
			where = append(where, "(j.title ILIKE "+p+" OR j.company ILIKE "+p+" OR j.location ILIKE "+p+")")
		}
	}
	sql := `SELECT ` + jobColsJ + ` FROM jobs j LEFT JOIN sources s ON s.id = j.source_id`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY j.id DESC LIMIT " + arg(limit)
	return sql, args
}

// ListJobs returns jobs newest first, and the cursor of the next page (0
// when this is the last).
func (s *Store) ListJobs(ctx context.Context, q JobQuery) ([]model.Job, int64, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 200 {
		q.Limit = 200
	}
	if q.Match != nil {
		return s.searchJobs(ctx, q)
	}
	sql, args := listSQL(q, q.Before, q.Limit+1)
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	jobs := []model.Job{}
	for rows.Next() {
		j, err := scanJobInto(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list jobs: %w", err)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list jobs: %w", err)
	}
	var next int64
	if len(jobs) > q.Limit {
		jobs = jobs[:q.Limit]
		next = jobs[len(jobs)-1].ID
	}
	if err := s.attachSources(ctx, jobs); err != nil {
		return nil, 0, err
	}
	return jobs, next, nil
}

// searchJobs is ListJobs with q.Match: pages of jobs read newest first and
// filtered in Go, within q.ScanBudget rows.
func (s *Store) searchJobs(ctx context.Context, q JobQuery) ([]model.Job, int64, error) {
	budget := q.ScanBudget
	if budget <= 0 {
		budget = DefaultScanBudget
	}
	jobs := []model.Job{}
	before, scanned := q.Before, 0
	for scanned < budget {
		page := min(500, budget-scanned)
		sql, args := listSQL(q, before, page)
		rows, err := s.db.Query(ctx, sql, args...)
		if err != nil {
			return nil, 0, fmt.Errorf("search jobs: %w", err)
		}
		n := 0
		for rows.Next() {
			j, err := scanJobInto(rows)
			if err != nil {
				rows.Close()
				return nil, 0, fmt.Errorf("search jobs: %w", err)
			}
			n++
			scanned++
			before = j.ID
			if q.Match(&j) {
				jobs = append(jobs, j)
				if len(jobs) > q.Limit {
					rows.Close()
					jobs = jobs[:q.Limit]
					return jobs, jobs[q.Limit-1].ID, s.attachSources(ctx, jobs)
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, 0, fmt.Errorf("search jobs: %w", err)
		}
		if n < page {
			return jobs, 0, s.attachSources(ctx, jobs) // no older jobs
		}
	}
	return jobs, before, s.attachSources(ctx, jobs) // budget spent: continue below the last job read
}

// GetJob returns one job.
func (s *Store) GetJob(ctx context.Context, id int64) (model.Job, error) {
	j, err := scanJobInto(s.db.QueryRow(ctx, `SELECT `+jobColsJ+` FROM jobs j LEFT JOIN sources s ON s.id = j.source_id WHERE j.id = $1`, id))
	if err != nil {
		return j, fmt.Errorf("job %d: %w", id, err)
	}
	one := []model.Job{j}
	err = s.attachSources(ctx, one)
	return one[0], err
}

// JobsByID returns the jobs among ids that exist, in no particular order.
func (s *Store) JobsByID(ctx context.Context, ids []int64) ([]model.Job, error) {
	rows, err := s.db.Query(ctx, `SELECT `+jobColsJ+` FROM jobs j LEFT JOIN sources s ON s.id = j.source_id WHERE j.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("load jobs: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.Job, error) { return scanJobInto(r) })
	if err != nil {
		return nil, fmt.Errorf("load jobs: %w", err)
	}
	if err := s.attachSources(ctx, jobs); err != nil {
		return nil, err
	}
	return jobs, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// The scraper's job writes are in job_sources.go (a job is written through
// its listings); the validThrough sweep is a job's own.

// ExpireValidThrough expires every live job (of sourceID, or of every source
// when it is 0) whose validThrough has passed, with its 'expired'
// job_changes row, and returns how many. Safe on many nodes at once: a row
// is expired by whichever statement locks it first, the other's WHERE no
// longer matches it.
func (s *Store) ExpireValidThrough(ctx context.Context, sourceID int64) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `
		WITH gone AS (
			UPDATE jobs SET expired_at = now(), expired_reason = 'validThrough'
			WHERE expired_at IS NULL AND valid_through < now() AND ($1 = 0 OR source_id = $1)
			RETURNING id
		), outbox AS (
			INSERT INTO job_changes (job_id, kind) SELECT id, 'expired' FROM gone
		)
		SELECT count(*) FROM gone`, sourceID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("expire past validThrough: %w", err)
	}
	return n, nil
}

// CountActiveJobs returns how many postings the source lists now: its
// live listings, whichever source is their job's primary one.
func (s *Store) CountActiveJobs(ctx context.Context, sourceID int64) (int, error) {
	return s.CountLiveListings(ctx, sourceID)
}
