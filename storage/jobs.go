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

// jobColsJ selects a job (alias j) with its source name (alias s).
const jobColsJ = `j.id, j.source_id, s.name, j.external_id, j.title, j.company, j.location, j.remote,
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
	sql := `SELECT ` + jobColsJ + ` FROM jobs j JOIN sources s ON s.id = j.source_id`
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
					return jobs[:q.Limit], jobs[q.Limit-1].ID, nil
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, 0, fmt.Errorf("search jobs: %w", err)
		}
		if n < page {
			return jobs, 0, nil // no older jobs
		}
	}
	return jobs, before, nil // budget spent: continue below the last job read
}

// GetJob returns one job.
func (s *Store) GetJob(ctx context.Context, id int64) (model.Job, error) {
	j, err := scanJobInto(s.db.QueryRow(ctx, `SELECT `+jobColsJ+` FROM jobs j JOIN sources s ON s.id = j.source_id WHERE j.id = $1`, id))
	if err != nil {
		return j, fmt.Errorf("job %d: %w", id, err)
	}
	return j, nil
}

// JobsByID returns the jobs among ids that exist, in no particular order.
func (s *Store) JobsByID(ctx context.Context, ids []int64) ([]model.Job, error) {
	rows, err := s.db.Query(ctx, `SELECT `+jobColsJ+` FROM jobs j JOIN sources s ON s.id = j.source_id WHERE j.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("load jobs: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.Job, error) { return scanJobInto(r) })
	if err != nil {
		return nil, fmt.Errorf("load jobs: %w", err)
	}
	return jobs, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// The scraper's job writes. Each is one statement that also writes the
// job_changes rows (the matcher's outbox) of what it did, so a job and its
// change commit together; on a Store in a transaction they join it.

// JobUpsert is one job for UpsertJobs: the job as it is to be stored
// (cleaned by the scraper), its dedupe key within its source, and the hash
// of its content (which tells a changed job from an unchanged one).
type JobUpsert struct {
	Job       model.Job
	DedupeKey string
	Hash      []byte
}

// JobUpserted is what UpsertJobs did with one job.
type JobUpserted struct {
	ID          int64
	FirstSeenAt time.Time
	// Announced is true when the job was inserted, or came back after
	// having expired as missing (or with a validThrough moved into the
	// future): a 'new' job_changes row was written for it.
	Announced bool
	// Changed is true when an existing job's content hash changed.
	Changed bool
}

// upsertSQL inserts or updates a batch of jobs of one source in one
// statement. "old" reads the rows as they were before the statement (a CTE
// sees the snapshot from before the statement's own writes), which tells new
// from changed from unchanged. A job is announced (job_changes 'new') when it
// is inserted, or when it comes back after having expired as missing (or
// with a validThrough that has been moved into the future). A job inserted
// with a validThrough already passed is stored as expired and announced to
// nobody.
const upsertSQL = `
WITH input AS (
	SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
		$8::bool[], $9::float8[], $10::float8[], $11::text[], $12::text[], $13::text[], $14::text[],
		$15::timestamptz[], $16::timestamptz[], $17::bytea[])
	AS t(dedupe_key, external_id, url, title, company, location, remote, salary_min, salary_max,
		salary_currency, salary_period, employment_type, description, posted_at, valid_through, content_hash)
), old AS (
	SELECT j.dedupe_key, j.content_hash, j.expired_at
	FROM jobs j WHERE j.source_id = $1 AND j.dedupe_key IN (SELECT dedupe_key FROM input)
), up AS (
	INSERT INTO jobs AS j (source_id, dedupe_key, external_id, url, title, company, location, remote,
		salary_min, salary_max, salary_currency, salary_period, employment_type, description,
		posted_at, valid_through, content_hash, expired_at, expired_reason)
	SELECT $1, i.dedupe_key, i.external_id, i.url, i.title, i.company, i.location, i.remote,
		i.salary_min, i.salary_max, i.salary_currency, i.salary_period, i.employment_type, i.description,
		i.posted_at, i.valid_through, i.content_hash,
		CASE WHEN i.valid_through < now() THEN now() END,
		CASE WHEN i.valid_through < now() THEN 'validThrough' ELSE '' END
	FROM input i
	ON CONFLICT (source_id, dedupe_key) DO UPDATE SET
		external_id = EXCLUDED.external_id, url = EXCLUDED.url, title = EXCLUDED.title,
		company = EXCLUDED.company, location = EXCLUDED.location, remote = EXCLUDED.remote,
		salary_min = EXCLUDED.salary_min, salary_max = EXCLUDED.salary_max,
		salary_currency = EXCLUDED.salary_currency, salary_period = EXCLUDED.salary_period,
		employment_type = EXCLUDED.employment_type, description = EXCLUDED.description,
		posted_at = COALESCE(EXCLUDED.posted_at, j.posted_at), valid_through = EXCLUDED.valid_through,
		content_hash = EXCLUDED.content_hash,
		updated_at = CASE WHEN j.content_hash = EXCLUDED.content_hash THEN j.updated_at ELSE now() END,
		last_seen_at = now(), missing_runs = 0,
		expired_at = CASE
			WHEN j.expired_at IS NULL THEN NULL
			WHEN j.expired_reason = 'missing' THEN NULL
			WHEN j.expired_reason = 'validThrough' AND EXCLUDED.valid_through > now() THEN NULL
			ELSE j.expired_at END,
		expired_reason = CASE
			WHEN j.expired_at IS NULL THEN ''
			WHEN j.expired_reason = 'missing' THEN ''
			WHEN j.expired_reason = 'validThrough' AND EXCLUDED.valid_through > now() THEN ''
			ELSE j.expired_reason END
	RETURNING j.id, j.dedupe_key, (j.xmax = 0) AS inserted, j.expired_at, j.first_seen_at
), res AS (
	SELECT up.id, up.dedupe_key, up.inserted, up.first_seen_at,
		(up.expired_at IS NULL AND (up.inserted OR old.expired_at IS NOT NULL)) AS announce,
		(NOT up.inserted AND old.content_hash IS DISTINCT FROM i.content_hash) AS changed
	FROM up JOIN input i USING (dedupe_key) LEFT JOIN old USING (dedupe_key)
), outbox AS (
	INSERT INTO job_changes (job_id, kind) SELECT id, 'new' FROM res WHERE announce
)
SELECT id, dedupe_key, announce, changed, first_seen_at FROM res`

// upsertArgs are upsertSQL's arguments, one array per column.
func upsertArgs(sourceID int64, jobs []JobUpsert) []any {
	n := len(jobs)
	var (
		keys, ext, urls, titles, companies, locs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		currs, pers, emps, descs                 = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		remote                                   = make([]bool, n)
		smin, smax                               = make([]*float64, n), make([]*float64, n)
		posted, valid                            = make([]*time.Time, n), make([]*time.Time, n)
		hashes                                   = make([][]byte, n)
	)
	for i := range jobs {
		r := &jobs[i]
		j := &r.Job
		keys[i], ext[i], urls[i], titles[i], companies[i], locs[i] = r.DedupeKey, j.ExternalID, j.URL, j.Title, j.Company, j.Location
		remote[i], emps[i], descs[i], posted[i], valid[i], hashes[i] = j.Remote, j.EmploymentType, j.Description, j.PostedAt, j.ValidThrough, r.Hash
		if j.Salary != nil {
			if j.Salary.Min > 0 {
				smin[i] = &j.Salary.Min
			}
			if j.Salary.Max > 0 {
				smax[i] = &j.Salary.Max
			}
			currs[i], pers[i] = j.Salary.Currency, j.Salary.Period
		}
	}
	return []any{sourceID, keys, ext, urls, titles, companies, locs, remote, smin, smax, currs, pers, emps, descs, posted, valid, hashes}
}

// UpsertJobs inserts or updates jobs of one source in one statement,
// deduplicated on (source, DedupeKey), with a 'new' job_changes row for each
// announced job. The dedupe keys must be distinct. It sorts jobs by
// DedupeKey in place (one lock order for every writer, so concurrent
// batches cannot deadlock) and returns one result per job in that order.
func (s *Store) UpsertJobs(ctx context.Context, sourceID int64, jobs []JobUpsert) ([]JobUpserted, error) {
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].DedupeKey < jobs[b].DedupeKey })
	byKey := make(map[string]int, len(jobs))
	for i := range jobs {
		byKey[jobs[i].DedupeKey] = i
	}
	out := make([]JobUpserted, len(jobs))
	rows, err := s.db.Query(ctx, upsertSQL, upsertArgs(sourceID, jobs)...)
	if err != nil {
		return nil, fmt.Errorf("upsert %d jobs of source %d: %w", len(jobs), sourceID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r   JobUpserted
			key string
		)
		if err := rows.Scan(&r.ID, &key, &r.Announced, &r.Changed, &r.FirstSeenAt); err != nil {
			return nil, fmt.Errorf("upsert %d jobs of source %d: %w", len(jobs), sourceID, err)
		}
		out[byKey[key]] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("upsert %d jobs of source %d: %w", len(jobs), sourceID, err)
	}
	return out, nil
}

// ExpireMissingJobs counts a healthy run against every live job of the
// source it did not see (last_seen_at before the run started), and expires
// those missing from threshold runs in a row (at least 1), with their
// 'expired' job_changes rows. It returns how many it expired.
func (s *Store) ExpireMissingJobs(ctx context.Context, sourceID int64, runStarted time.Time, threshold int) (int, error) {
	if threshold < 1 {
		threshold = 1
	}
	var n int
	err := s.db.QueryRow(ctx, `
		WITH miss AS (
			UPDATE jobs SET missing_runs = missing_runs + 1,
				expired_at = CASE WHEN missing_runs + 1 >= $3 THEN now() END,
				expired_reason = CASE WHEN missing_runs + 1 >= $3 THEN 'missing' ELSE '' END
			WHERE source_id = $1 AND expired_at IS NULL AND last_seen_at < $2
			RETURNING id, expired_at
		), outbox AS (
			INSERT INTO job_changes (job_id, kind) SELECT id, 'expired' FROM miss WHERE expired_at IS NOT NULL
		)
		SELECT count(*) FROM miss WHERE expired_at IS NOT NULL`, sourceID, runStarted, threshold).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("expire missing jobs of source %d: %w", sourceID, err)
	}
	return n, nil
}

// ExpireJobs expires the given live jobs of a source (by dedupe key) with
// the reason, writing their 'expired' job_changes rows. It returns how many
// it expired.
func (s *Store) ExpireJobs(ctx context.Context, sourceID int64, dedupeKeys []string, reason string) (int, error) {
	if len(dedupeKeys) == 0 {
		return 0, nil
	}
	var n int
	err := s.db.QueryRow(ctx, `
		WITH gone AS (
			UPDATE jobs SET expired_at = now(), expired_reason = $3
			WHERE source_id = $1 AND dedupe_key = ANY($2) AND expired_at IS NULL
			RETURNING id
		), outbox AS (
			INSERT INTO job_changes (job_id, kind) SELECT id, 'expired' FROM gone
		)
		SELECT count(*) FROM gone`, sourceID, dedupeKeys, reason).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("expire gone jobs of source %d: %w", sourceID, err)
	}
	return n, nil
}

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

// CountActiveJobs returns how many jobs of the source have not expired.
func (s *Store) CountActiveJobs(ctx context.Context, sourceID int64) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM jobs WHERE source_id = $1 AND expired_at IS NULL`, sourceID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count active jobs of source %d: %w", sourceID, err)
	}
	return n, nil
}
