package storage

import (
	"context"
	"fmt"
	"sort"
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

// scanJobInto scans a job row, after any extra leading columns.
func scanJobInto(row pgx.Row, extra ...any) (model.Job, error) {
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
	// With BySalary, After is the cursor instead.
	Before int64
	// After is the cursor of a BySalary list: only jobs after it in that
	// order (zero: from the top).
	After JobCursor
	// Limit is the page size (default 50, at most 200).
	Limit int
	// IncludeExpired keeps expired jobs in the list (marked by expiredAt).
	IncludeExpired bool
	// Since limits to jobs first seen after this time.
	Since time.Time
	// IDs, when set, limits the list to these jobs.
	IDs []int64
	// UserID, when set, leaves out the jobs that user hid; with Saved,
	// the list is the jobs that user saved (expired ones too, hidden or
	// not).
	UserID int64
	Saved  bool
	// BySalary orders by the most a job pays (its maximum, else its
	// minimum) converted with Rates and Periods to one currency per month,
	// highest first; jobs without a salary (or with a currency or period
	// not in the tables) come last, newest first.
	BySalary bool
	// Rates converts one unit of a currency (an ISO code, upper case) to
	// the common currency; Periods converts an amount per period ("month",
	// "year", ...) to per month. A salary without a currency is in
	// DefaultCurrency, one without a period is per month.
	Rates, Periods  map[string]float64
	DefaultCurrency string
	// Match, when set, filters the jobs in Go instead of Q (the API passes
	// the matcher's query language here). In list order, at most
	// ScanBudget jobs are read per call; when the budget ends before the
	// page is full, the page comes back short, with the cursor to
	// continue from.
	Match func(*model.Job) bool
	// MatchSources says Match reads a job's Sources (a filter by source):
	// they are then read for every job scanned, one more query a page;
	// otherwise only for the jobs kept.
	MatchSources bool
	// ScanBudget bounds the jobs a Match call reads (default 2,000).
	ScanBudget int
}

// JobCursor is a position in a job list: the last job of a page, and in a
// BySalary list its salary (nil: it had none).
type JobCursor struct {
	ID     int64
	Salary *float64
}

// IsZero reports whether c is the start of the list.
func (c JobCursor) IsZero() bool { return c.ID == 0 }

// DefaultScanBudget is JobQuery.ScanBudget's default: a search costs at
// most this many rows read and matched, whatever it asks.
const DefaultScanBudget = 2000

// cursor is where q's list starts.
func (q JobQuery) cursor() JobCursor {
	if q.BySalary {
		return q.After
	}
	return JobCursor{ID: q.Before}
}

// listSQL selects up to limit jobs of q after cursor at (zero: from the
// top), in q's order, each after its sort key (NULL in the newest-first
// order); q.Q's words filter in SQL unless q.Match is set.
func listSQL(q JobQuery, at JobCursor, limit int) (string, []any) {
	var where []string
	args := []any{}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	from := `jobs j LEFT JOIN sources s ON s.id = j.source_id`
	key := "NULL::float8"
	if q.BySalary {
		codes, rates := keysValues(q.Rates)
		names, pers := keysValues(q.Periods)
		from += ` LEFT JOIN unnest(` + arg(codes) + `::text[], ` + arg(rates) + `::float8[]) cr(code, rate)
			ON cr.code = upper(COALESCE(NULLIF(j.salary_currency, ''), ` + arg(q.DefaultCurrency) + `))
			LEFT JOIN unnest(` + arg(names) + `::text[], ` + arg(pers) + `::float8[]) pr(name, per)
			ON pr.name = lower(COALESCE(NULLIF(j.salary_period, ''), 'month'))`
		key = `(COALESCE(NULLIF(j.salary_max, 0), NULLIF(j.salary_min, 0)) * cr.rate * pr.per)`
	}
	switch {
	case at.ID == 0:
	case !q.BySalary:
		where = append(where, "j.id < "+arg(at.ID))
	case at.Salary == nil:
		where = append(where, "("+key+" IS NULL AND j.id < "+arg(at.ID)+")")
	default:
		v := arg(*at.Salary)
		where = append(where, "("+key+" < "+v+" OR ("+key+" = "+v+" AND j.id < "+arg(at.ID)+") OR "+key+" IS NULL)")
	}
	if !q.IncludeExpired && !q.Saved {
		where = append(where, "j.expired_at IS NULL")
	}
	if !q.Since.IsZero() {
		where = append(where, "j.first_seen_at > "+arg(q.Since))
	}
	if len(q.IDs) > 0 {
		where = append(where, "j.id = ANY("+arg(q.IDs)+")")
	}
	if q.UserID > 0 {
		where = append(where, marksFilter(arg(q.UserID), q.Saved))
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
	sql := `SELECT ` + key + `, ` + jobColsJ + ` FROM ` + from
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	if q.BySalary {
		sql += " ORDER BY " + key + " DESC NULLS LAST, j.id DESC LIMIT " + arg(limit)
	} else {
		sql += " ORDER BY j.id DESC LIMIT " + arg(limit)
	}
	return sql, args
}

// keysValues returns m's keys (sorted) and their values.
func keysValues(m map[string]float64) ([]string, []float64) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([]float64, len(keys))
	for i, k := range keys {
		vals[i] = m[k]
	}
	return keys, vals
}

// scanListed scans a row of listSQL: the sort key, then the job.
func scanListed(row pgx.Row) (model.Job, JobCursor, error) {
	var key *float64
	j, err := scanJobInto(row, &key)
	return j, JobCursor{ID: j.ID, Salary: key}, err
}

// ListJobs returns jobs newest first, and the cursor of the next page (0
// when this is the last). It is ListJobsAt for lists in the newest-first
// order.
func (s *Store) ListJobs(ctx context.Context, q JobQuery) ([]model.Job, int64, error) {
	jobs, next, err := s.ListJobsAt(ctx, q)
	return jobs, next.ID, err
}

// ListJobsAt returns a page of jobs in q's order, and the cursor of the
// next page (zero when this is the last).
func (s *Store) ListJobsAt(ctx context.Context, q JobQuery) ([]model.Job, JobCursor, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 200 {
		q.Limit = 200
	}
	if q.Match != nil {
		return s.searchJobs(ctx, q)
	}
	sql, args := listSQL(q, q.cursor(), q.Limit+1)
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, JobCursor{}, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	jobs := []model.Job{}
	var at []JobCursor
	for rows.Next() {
		j, c, err := scanListed(rows)
		if err != nil {
			return nil, JobCursor{}, fmt.Errorf("list jobs: %w", err)
		}
		jobs, at = append(jobs, j), append(at, c)
	}
	if err := rows.Err(); err != nil {
		return nil, JobCursor{}, fmt.Errorf("list jobs: %w", err)
	}
	var next JobCursor
	if len(jobs) > q.Limit {
		jobs = jobs[:q.Limit]
		next = at[q.Limit-1]
	}
	if err := s.attachSources(ctx, jobs); err != nil {
		return nil, JobCursor{}, err
	}
	return jobs, next, nil
}

// searchJobs is ListJobsAt with q.Match: pages of jobs read in list order
// (with their sources when q.MatchSources) and filtered in Go, within
// q.ScanBudget rows.
func (s *Store) searchJobs(ctx context.Context, q JobQuery) ([]model.Job, JobCursor, error) {
	budget := q.ScanBudget
	if budget <= 0 {
		budget = DefaultScanBudget
	}
	jobs := []model.Job{}
	at, scanned := q.cursor(), 0
	var last JobCursor // the cursor after the last job kept
	for scanned < budget {
		size := min(500, budget-scanned)
		page, cursors, err := s.listPage(ctx, q, at, size)
		if err != nil {
			return nil, JobCursor{}, fmt.Errorf("search jobs: %w", err)
		}
		for i := range page {
			scanned++
			at = cursors[i]
			if q.Match(&page[i]) {
				if len(jobs) == q.Limit {
					return s.withSources(ctx, q, jobs, last)
				}
				jobs, last = append(jobs, page[i]), cursors[i]
			}
		}
		if len(page) < size {
			return s.withSources(ctx, q, jobs, JobCursor{}) // no further jobs
		}
	}
	return s.withSources(ctx, q, jobs, at) // budget spent: continue after the last job read
}

// withSources gives the jobs a search kept their sources, unless the
// search read them already, and returns them with next.
func (s *Store) withSources(ctx context.Context, q JobQuery, jobs []model.Job, next JobCursor) ([]model.Job, JobCursor, error) {
	if q.MatchSources {
		return jobs, next, nil
	}
	return jobs, next, s.attachSources(ctx, jobs)
}

// listPage reads up to n jobs of q's list after at (with their sources
// when q.MatchSources) and the cursor after each.
func (s *Store) listPage(ctx context.Context, q JobQuery, at JobCursor, n int) ([]model.Job, []JobCursor, error) {
	sql, args := listSQL(q, at, n)
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, nil, err
	}
	var (
		jobs    []model.Job
		cursors []JobCursor
	)
	for rows.Next() {
		j, c, err := scanListed(rows)
		if err != nil {
			rows.Close()
			return nil, nil, err
		}
		jobs, cursors = append(jobs, j), append(cursors, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if !q.MatchSources {
		return jobs, cursors, nil
	}
	return jobs, cursors, s.attachSources(ctx, jobs)
}

// CountJobs counts the live jobs match accepts among the newest budget
// live jobs (all of them when budget is 0); complete is false when there
// were more live jobs than budget. match sees each job's sources when
// sources is set (as JobQuery.MatchSources).
func (s *Store) CountJobs(ctx context.Context, match func(*model.Job) bool, sources bool, budget int) (n int, complete bool, err error) {
	var at JobCursor
	read := 0
	for {
		size := 500
		if budget > 0 {
			size = min(size, budget+1-read)
		}
		page, cursors, err := s.listPage(ctx, JobQuery{MatchSources: sources}, at, size)
		if err != nil {
			return 0, false, fmt.Errorf("count jobs: %w", err)
		}
		for i := range page {
			if read++; budget > 0 && read > budget {
				return n, false, nil
			}
			if match(&page[i]) {
				n++
			}
			at = cursors[i]
		}
		if len(page) < size {
			return n, true, nil
		}
	}
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
