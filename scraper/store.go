package scraper

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/scraper/normalize"
)

// ErrNotFound is returned when a source or run does not exist.
var ErrNotFound = errors.New("not found")

// ErrNameTaken is returned when a source name is already used.
var ErrNameTaken = errors.New("a source with this name already exists")

// ManualSourceName is the name of the source POST /api/jobs ingests into.
const ManualSourceName = "manual"

const sourceColumns = `id, name, kind, url, schedule, enabled, selectors, respect_robots, settings, created_at, updated_at`

func scanSource(row pgx.Row) (model.Source, error) {
	var s model.Source
	var settings []byte
	err := row.Scan(&s.ID, &s.Name, &s.Kind, &s.URL, &s.Schedule, &s.Enabled, &s.Selectors, &s.RespectRobots, &settings, &s.CreatedAt, &s.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, err
	}
	if len(settings) > 0 && string(settings) != "{}" {
		s.Settings = json.RawMessage(settings)
	}
	return s, nil
}

func settingsJSON(s model.Source) []byte {
	if len(s.Settings) == 0 || string(s.Settings) == "null" {
		return []byte("{}")
	}
	return s.Settings
}

func selectorsOrEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// GetSource returns the source with the given id, or ErrNotFound.
func GetSource(ctx context.Context, db *pgxpool.Pool, id int64) (model.Source, error) {
	s, err := scanSource(db.QueryRow(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = $1`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return s, fmt.Errorf("get source %d: %w", id, err)
	}
	return s, err
}

// ListSources returns all sources (the manual one included), by id.
func ListSources(ctx context.Context, db *pgxpool.Pool) ([]model.Source, error) {
	rows, err := db.Query(ctx, `SELECT `+sourceColumns+` FROM sources ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (model.Source, error) { return scanSource(r) })
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return out, nil
}

func nameConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && strings.Contains(pe.ConstraintName, "name")
}

// CreateSource validates and stores a new source.
func CreateSource(ctx context.Context, db *pgxpool.Pool, s model.Source) (model.Source, error) {
	if err := ValidateSource(s); err != nil {
		return s, err
	}
	out, err := scanSource(db.QueryRow(ctx, `
		INSERT INTO sources (name, kind, url, schedule, enabled, selectors, respect_robots, settings)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		RETURNING `+sourceColumns,
		strings.TrimSpace(s.Name), s.Kind, strings.TrimSpace(s.URL), strings.TrimSpace(s.Schedule), s.Enabled,
		selectorsOrEmpty(s.Selectors), s.RespectRobots, settingsJSON(s)))
	if nameConflict(err) {
		return s, ErrNameTaken
	}
	if err != nil {
		return s, fmt.Errorf("create source: %w", err)
	}
	return out, nil
}

// UpdateSource validates and replaces the editable fields of source s.ID.
// Changing the URL or selectors forgets the stored ETag/Last-Modified, so
// the next run fetches in full.
func UpdateSource(ctx context.Context, db *pgxpool.Pool, s model.Source) (model.Source, error) {
	if err := ValidateSource(s); err != nil {
		return s, err
	}
	out, err := scanSource(db.QueryRow(ctx, `
		UPDATE sources SET name = $2, kind = $3, url = $4, schedule = $5, enabled = $6,
			selectors = $7, respect_robots = $8, settings = $9,
			etag = CASE WHEN url = $4 AND selectors = $7::jsonb THEN etag ELSE '' END,
			last_modified = CASE WHEN url = $4 AND selectors = $7::jsonb THEN last_modified ELSE '' END,
			updated_at = clock_timestamp()
		WHERE id = $1 AND kind <> 'manual'
		RETURNING `+sourceColumns,
		s.ID, strings.TrimSpace(s.Name), s.Kind, strings.TrimSpace(s.URL), strings.TrimSpace(s.Schedule), s.Enabled,
		selectorsOrEmpty(s.Selectors), s.RespectRobots, settingsJSON(s)))
	if nameConflict(err) {
		return s, ErrNameTaken
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return s, fmt.Errorf("update source %d: %w", s.ID, err)
	}
	return out, err
}

// DeleteSource removes a source with its jobs and runs.
func DeleteSource(ctx context.Context, db *pgxpool.Pool, id int64) error {
	tag, err := db.Exec(ctx, `DELETE FROM sources WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete source %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// EnsureSource returns the source named s.Name, creating it from s when no
// source of that name exists. The app uses it in demo mode.
func EnsureSource(ctx context.Context, db *pgxpool.Pool, s model.Source) (model.Source, error) {
	if s.Kind != model.SourceManual {
		if err := ValidateSource(s); err != nil {
			return s, err
		}
	}
	_, err := db.Exec(ctx, `
		INSERT INTO sources (name, kind, url, schedule, enabled, selectors, respect_robots, settings)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (name) DO NOTHING`,
		strings.TrimSpace(s.Name), s.Kind, s.URL, s.Schedule, s.Enabled, selectorsOrEmpty(s.Selectors), s.RespectRobots, settingsJSON(s))
	if err != nil {
		return s, fmt.Errorf("ensure source %q: %w", s.Name, err)
	}
	out, err := scanSource(db.QueryRow(ctx, `SELECT `+sourceColumns+` FROM sources WHERE name = $1`, strings.TrimSpace(s.Name)))
	if err != nil {
		return s, fmt.Errorf("ensure source %q: %w", s.Name, err)
	}
	return out, nil
}

// CountSources returns how many sources (other than the manual one) exist;
// the app uses it to decide on demo mode.
func CountSources(ctx context.Context, db *pgxpool.Pool) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM sources WHERE kind <> 'manual'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sources: %w", err)
	}
	return n, nil
}

// manualSource returns the id of the manual source, creating it on demand.
func manualSource(ctx context.Context, db *pgxpool.Pool) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `SELECT id FROM sources WHERE kind = 'manual' ORDER BY id LIMIT 1`).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("manual source: %w", err)
	}
	s, err := EnsureSource(ctx, db, model.Source{Name: ManualSourceName, Kind: model.SourceManual, Enabled: false})
	if err != nil {
		return 0, err
	}
	if s.Kind != model.SourceManual {
		// An admin took the name for a scraped source; use another one.
		s, err = EnsureSource(ctx, db, model.Source{Name: ManualSourceName + " (api)", Kind: model.SourceManual})
		if err != nil {
			return 0, err
		}
	}
	return s.ID, nil
}

// IngestResult tells what Ingest did with each job.
type IngestResult struct {
	// Jobs has one entry per input job, in input order.
	Jobs []IngestedJob `json:"jobs"`
	// New, Updated and Unchanged count the stored jobs; Skipped the ones
	// refused (see IngestedJob.Error).
	New       int `json:"new"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
}

// IngestedJob is the outcome of one job of an Ingest call.
type IngestedJob struct {
	ID int64 `json:"id,omitempty"`
	// New is true when the job was inserted, or came back after having
	// expired as missing: a 'new' change was written for the matcher.
	New bool `json:"new"`
	// Changed is true when an existing job's content changed.
	Changed bool `json:"changed"`
	// Error says why the job was skipped.
	Error string `json:"error,omitempty"`
	// Job is the job as stored (normalised, dedupe applied).
	Job model.Job `json:"-"`
}

type jobRow struct {
	idx        int
	dedupeKey  string
	job        model.Job
	hash       []byte
	salaryMin  *float64
	salaryMax  *float64
	salaryCurr string
	salaryPer  string
}

// DedupeKey is the key a job is deduplicated on within its source: 'id:' +
// external id when the board gives one, else 'url:' + canonical URL.
func DedupeKey(j model.Job) string {
	if id := strings.TrimSpace(j.ExternalID); id != "" {
		return "id:" + id
	}
	return "url:" + j.URL
}

// PrepareJob cleans a job for storage: it requires a title and an http(s)
// URL, canonicalises the URL, cleans the text fields and the salary.
func PrepareJob(j model.Job) (model.Job, error) {
	j.Title = normalize.Text(j.Title)
	if j.Title == "" {
		return j, errors.New("title is required")
	}
	u, err := normalize.CanonicalURL(j.URL, nil)
	if err != nil {
		return j, fmt.Errorf("url: %w", err)
	}
	j.URL = u
	j.ExternalID = normalize.Text(j.ExternalID)
	if len(j.ExternalID) > 200 {
		j.ExternalID = j.ExternalID[:200]
	}
	j.Company = normalize.Text(j.Company)
	j.Location = normalize.Text(j.Location)
	j.Description = normalize.Description(j.Description)
	if j.EmploymentType != "" {
		j.EmploymentType = normalize.EmploymentType(j.EmploymentType)
	}
	if j.Salary != nil {
		s := *j.Salary
		if s.Min < 0 || s.Min > 1e9 || s.Min != s.Min {
			s.Min = 0
		}
		if s.Max < 0 || s.Max > 1e9 || s.Max != s.Max {
			s.Max = 0
		}
		if s.Max > 0 && s.Min > s.Max {
			s.Min, s.Max = s.Max, s.Min
		}
		s.Currency = strings.ToUpper(normalize.Text(s.Currency))
		if len(s.Currency) > 8 {
			s.Currency = s.Currency[:8]
		}
		switch s.Period = strings.ToLower(strings.TrimSpace(s.Period)); s.Period {
		case "hour", "day", "week", "month", "year", "":
		default:
			s.Period = ""
		}
		if s.IsZero() {
			j.Salary = nil
		} else {
			j.Salary = &s
		}
	}
	return j, nil
}

func contentHash(j model.Job) []byte {
	h := sha256.New()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	w(j.ExternalID)
	w(j.URL)
	w(j.Title)
	w(j.Company)
	w(j.Location)
	w(strconv.FormatBool(j.Remote))
	if j.Salary != nil {
		w(strconv.FormatFloat(j.Salary.Min, 'g', -1, 64))
		w(strconv.FormatFloat(j.Salary.Max, 'g', -1, 64))
		w(j.Salary.Currency)
		w(j.Salary.Period)
	} else {
		w("")
	}
	w(j.EmploymentType)
	w(j.Description)
	for _, t := range []*time.Time{j.PostedAt, j.ValidThrough} {
		if t != nil {
			w(t.UTC().Format(time.RFC3339))
		} else {
			w("")
		}
	}
	return h.Sum(nil)
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

// Ingest stores jobs scraped from (or posted into) a source: one batch
// upsert in one transaction, deduplicated on DedupeKey, with a 'new' outbox
// row for each new job (the matcher is woken at commit). Jobs that fail
// PrepareJob are skipped and reported; a duplicate key within the batch
// keeps its last occurrence.
func (s *Service) Ingest(ctx context.Context, sourceID int64, jobs []model.Job) (IngestResult, error) {
	res := IngestResult{Jobs: make([]IngestedJob, len(jobs))}
	byKey := map[string]*jobRow{}
	for i, j := range jobs {
		pj, err := PrepareJob(j)
		if err != nil {
			res.Jobs[i].Error = err.Error()
			res.Skipped++
			continue
		}
		pj.SourceID = sourceID
		r := &jobRow{idx: i, dedupeKey: DedupeKey(pj), job: pj, hash: contentHash(pj)}
		if prev, ok := byKey[r.dedupeKey]; ok {
			res.Jobs[prev.idx].Error = "duplicate of a later job in the same batch"
			res.Skipped++
		}
		byKey[r.dedupeKey] = r
	}
	if len(byKey) == 0 {
		return res, nil
	}
	rows := make([]*jobRow, 0, len(byKey))
	for _, r := range byKey {
		rows = append(rows, r)
	}
	// One order for every writer, so concurrent batches cannot deadlock.
	sort.Slice(rows, func(a, b int) bool { return rows[a].dedupeKey < rows[b].dedupeKey })
	n := len(rows)
	var (
		keys, ext, urls, titles, companies, locs, currs, pers, emps, descs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		remote                                                             = make([]bool, n)
		smin, smax                                                         = make([]*float64, n), make([]*float64, n)
		posted, valid                                                      = make([]*time.Time, n), make([]*time.Time, n)
		hashes                                                             = make([][]byte, n)
	)
	for i, r := range rows {
		j := r.job
		keys[i], ext[i], urls[i], titles[i], companies[i], locs[i] = r.dedupeKey, j.ExternalID, j.URL, j.Title, j.Company, j.Location
		remote[i], emps[i], descs[i], posted[i], valid[i], hashes[i] = j.Remote, j.EmploymentType, j.Description, j.PostedAt, j.ValidThrough, r.hash
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
	byKeyIdx := make(map[string]int, n)
	for i, r := range rows {
		byKeyIdx[r.dedupeKey] = i
	}
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		qr, err := tx.Query(ctx, upsertSQL, sourceID, keys, ext, urls, titles, companies, locs, remote, smin, smax, currs, pers, emps, descs, posted, valid, hashes)
		if err != nil {
			return err
		}
		defer qr.Close()
		for qr.Next() {
			var (
				id               int64
				key              string
				announce, change bool
				firstSeen        time.Time
			)
			if err := qr.Scan(&id, &key, &announce, &change, &firstSeen); err != nil {
				return err
			}
			r := rows[byKeyIdx[key]]
			r.job.ID, r.job.FirstSeenAt = id, firstSeen
			res.Jobs[r.idx] = IngestedJob{ID: id, New: announce, Changed: change, Job: r.job}
		}
		return qr.Err()
	})
	if err != nil {
		return IngestResult{}, fmt.Errorf("ingest %d jobs into source %d: %w", n, sourceID, err)
	}
	for _, r := range rows {
		switch j := res.Jobs[r.idx]; {
		case j.New:
			res.New++
		case j.Changed:
			res.Updated++
		default:
			res.Unchanged++
		}
	}
	return res, nil
}
