package storage

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/birjob/birjob/model"
)

// This file holds the SQL of job_sources: the listings of a job, one per
// source that lists (or listed) it. A job is the posting; its listings say
// where it was seen. The scraper decides which job a new listing belongs to
// (see scraper/doc.go, "One job per posting"); storage finds the candidates
// and writes the outcome. A job expires when its last live listing ends.

// Listing is one posting of a source for UpsertListings: the job as it is
// to be stored (cleaned by the scraper), its dedupe key within its source,
// the hash of its content, and its fingerprint (folded title, company and
// place; "" when it has none).
type Listing struct {
	Job         model.Job
	DedupeKey   string
	Hash        []byte
	Fingerprint string
}

// ListingUpserted is what UpsertListings did with one listing.
type ListingUpserted struct {
	JobID       int64
	FirstSeenAt time.Time
	// Inserted: no job had the posting; one was created (first seen now, by
	// any source).
	Inserted bool
	// Merged: the source's first listing of a job another source listed
	// first (matched by URL or fingerprint).
	Merged bool
	// Announced: the job became live: inserted live, or back after having
	// expired because no source listed it (or with a validThrough moved into
	// the future). The caller writes its 'new' change (AddNewJobChanges).
	Announced bool
	// Listed: Merged onto a job that was live and still is (not
	// Announced): the caller may write its 'listed' change
	// (AddListedJobChanges), so that who matches the job through this
	// source is told.
	Listed bool
	// Changed: an existing listing's content hash changed.
	Changed bool
}

// identityLockClass is the first key of the advisory locks UpsertListings
// takes on a posting's identities (0x6269726c, 'birl'); the two-key lock
// space does not overlap the one-key locks of the event log.
const identityLockClass = 1651076716

// listingJob is a job a listing of the batch maps to, as locked.
type listingJob struct {
	id       int64
	sourceID *int64
	expired  bool
}

// UpsertListings stores a batch of one source's postings: each one's
// listing is updated when the source listed it before; otherwise it is
// attached to the job of the same posting when one is found (see
// FindPostings) and to a new job when not. The dedupe keys must be
// distinct; jobs is sorted by DedupeKey in place and the results come in
// that order. It runs in a transaction (a savepoint when s is in one) and
// holds an advisory lock on every identity (listing key, URL, fingerprint)
// of the postings new to the source until that transaction ends, so two
// sources ingesting one posting at once make one job. Nothing is written
// to the outbox: the caller announces the jobs it decides to
// (AddNewJobChanges, AddListedJobChanges), in the same transaction.
//
// A listing's source is the job's primary source when it listed the job
// first (or the first one was deleted): its content replaces the job's.
// Another source's listing only fills the job's empty fields.
func (s *Store) UpsertListings(ctx context.Context, sourceID int64, jobs []Listing, window time.Duration) ([]ListingUpserted, error) {
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].DedupeKey < jobs[b].DedupeKey })
	var out []ListingUpserted
	err := s.Tx(ctx, func(tx *Store) error {
		var err error
		out, err = tx.upsertListings(ctx, sourceID, jobs, window)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("upsert %d listings of source %d: %w", len(jobs), sourceID, err)
	}
	return out, nil
}

func (s *Store) upsertListings(ctx context.Context, sourceID int64, jobs []Listing, window time.Duration) ([]ListingUpserted, error) {
	out := make([]ListingUpserted, len(jobs))
	jobOf := make([]int64, len(jobs)) // 0: a new job
	known, err := s.listedJobs(ctx, sourceID, jobs, nil)
	if err != nil {
		return nil, err
	}
	unlisted := markListed(jobs, known, jobOf, out, nil)
	if len(unlisted) > 0 {
		// New to this source: find its job under the identity locks, and
		// look again at its listings (another run may have made one while
		// this one waited).
		if err := s.lockIdentities(ctx, sourceID, jobs, unlisted); err != nil {
			return nil, err
		}
		if known, err = s.listedJobs(ctx, sourceID, jobs, unlisted); err != nil {
			return nil, err
		}
		unlisted = markListed(jobs, known, jobOf, out, unlisted)
	}
	if len(unlisted) > 0 {
		found, err := s.FindPostings(ctx, sourceID, jobs, unlisted, window)
		if err != nil {
			return nil, err
		}
		for k, i := range unlisted {
			if found[k] != 0 {
				jobOf[i], out[i].Merged = found[k], true
			}
		}
	}
	if err := s.insertJobs(ctx, sourceID, jobs, jobOf, out); err != nil {
		return nil, err
	}
	locked, err := s.lockJobs(ctx, jobOf, out)
	if err != nil {
		return nil, err
	}
	live, err := s.putListings(ctx, sourceID, jobs, jobOf)
	if err != nil {
		return nil, err
	}
	if err := s.refreshJobs(ctx, sourceID, jobs, jobOf, live, locked, out); err != nil {
		return nil, err
	}
	return out, nil
}

// listed is a listing as stored: its job and content hash.
type listed struct {
	jobID int64
	hash  []byte
}

// markListed sets jobOf and Changed for the postings among idx (all when
// nil) that known lists, and returns the others.
func markListed(jobs []Listing, known map[string]listed, jobOf []int64, out []ListingUpserted, idx []int) []int {
	if idx == nil {
		idx = make([]int, len(jobs))
		for i := range idx {
			idx[i] = i
		}
	}
	var rest []int
	for _, i := range idx {
		if l, ok := known[jobs[i].DedupeKey]; ok {
			jobOf[i], out[i].Changed = l.jobID, !bytes.Equal(l.hash, jobs[i].Hash)
		} else {
			rest = append(rest, i)
		}
	}
	return rest
}

// identityLockBuckets is how many advisory locks the identities of a batch
// map to, at most: the lock table is small, and a big first run must not
// take one lock per posting. Identities sharing a bucket only wait for
// each other.
const identityLockBuckets = 1024

// lockIdentities takes the transaction's advisory locks on the listing
// key, URL and fingerprint of jobs[idx...] (hashed into
// identityLockBuckets), in one order for every writer.
func (s *Store) lockIdentities(ctx context.Context, sourceID int64, jobs []Listing, idx []int) error {
	keys := make([]string, 0, 3*len(idx))
	for _, i := range idx {
		keys = append(keys, fmt.Sprintf("l:%d:%s", sourceID, jobs[i].DedupeKey), "u:"+jobs[i].Job.URL)
		if jobs[i].Fingerprint != "" {
			keys = append(keys, "f:"+jobs[i].Fingerprint)
		}
	}
	_, err := s.db.Exec(ctx, `
		SELECT count(pg_advisory_xact_lock($1, k))
		FROM (SELECT DISTINCT hashtext(x) & ($3 - 1) AS k FROM unnest($2::text[]) x ORDER BY 1) o`,
		identityLockClass, keys, identityLockBuckets)
	if err != nil {
		return fmt.Errorf("lock identities: %w", err)
	}
	return nil
}

// listedJobs returns the stored listing of each of jobs[idx...] (all when
// idx is nil) the source listed before, by dedupe key.
func (s *Store) listedJobs(ctx context.Context, sourceID int64, jobs []Listing, idx []int) (map[string]listed, error) {
	var keys []string
	if idx == nil {
		for i := range jobs {
			keys = append(keys, jobs[i].DedupeKey)
		}
	} else {
		for _, i := range idx {
			keys = append(keys, jobs[i].DedupeKey)
		}
	}
	rows, err := s.db.Query(ctx, `SELECT dedupe_key, job_id, content_hash FROM job_sources WHERE source_id = $1 AND dedupe_key = ANY($2)`, sourceID, keys)
	if err != nil {
		return nil, fmt.Errorf("read listings: %w", err)
	}
	out := map[string]listed{}
	var key string
	var l listed
	_, err = pgx.ForEachRow(rows, []any{&key, &l.jobID, &l.hash}, func() error {
		out[key] = listed{l.jobID, append([]byte(nil), l.hash...)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read listings: %w", err)
	}
	return out, nil
}

// FindPostings looks for the job each of jobs[idx] is a listing of, among
// the jobs seen within window that the source does not list yet: one with
// the same canonical URL first, else one with the same fingerprint; live
// jobs before expired ones, then the oldest. A URL is an identity only
// when it names one posting: one that two postings of the batch share, or
// two jobs, is not used. No job is given to two postings. It returns one
// job id per idx, 0 where none was found.
func (s *Store) FindPostings(ctx context.Context, sourceID int64, jobs []Listing, idx []int, window time.Duration) ([]int64, error) {
	ords := make([]int, len(idx))
	urls, fps := make([]string, len(idx)), make([]string, len(idx))
	shared := map[string]int{}
	for i := range jobs {
		shared[jobs[i].Job.URL]++
	}
	for k, i := range idx {
		ords[k], urls[k], fps[k] = k, jobs[i].Job.URL, jobs[i].Fingerprint
		if shared[urls[k]] > 1 {
			urls[k] = "" // one URL, several postings of the source: no identity
		}
	}
	// Set-based (hash joins), not a lookup per posting: a first run of a
	// big source finds thousands at once.
	rows, err := s.db.Query(ctx, `
		WITH i AS (SELECT * FROM unnest($2::int[], $3::text[], $4::text[]) AS t(ord, url, fp)),
		by_url AS (
			SELECT i.ord, j.id, 0 AS rank, j.expired_at IS NULL AS live
			FROM i JOIN jobs j ON j.url = i.url
			WHERE i.url <> '' AND j.last_seen_at > now() - make_interval(secs => $5)
		), by_fp AS (
			SELECT i.ord, j.id, 1 AS rank, j.expired_at IS NULL AS live
			FROM i JOIN jobs j ON j.fingerprint = i.fp
			WHERE i.fp <> '' AND j.last_seen_at > now() - make_interval(secs => $5)
		), c AS (
			SELECT * FROM by_url WHERE ord IN (SELECT ord FROM by_url GROUP BY ord HAVING count(*) = 1)
			UNION ALL
			SELECT * FROM by_fp
		)
		SELECT c.ord, c.id FROM c
		WHERE NOT EXISTS (SELECT 1 FROM job_sources l WHERE l.job_id = c.id AND l.source_id = $1)
		ORDER BY c.ord, c.rank, c.live DESC, c.id`, sourceID, ords, urls, fps, window.Seconds())
	if err != nil {
		return nil, fmt.Errorf("find postings: %w", err)
	}
	out := make([]int64, len(idx))
	taken := map[int64]bool{}
	var ord int
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&ord, &id}, func() error {
		if out[ord] == 0 && !taken[id] {
			out[ord], taken[id] = id, true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find postings: %w", err)
	}
	return out, nil
}

// jobArrays are the content columns of a batch, one array per column.
type jobArrays struct {
	keys, ext, urls, titles, companies, locs, currs, pers, emps, descs, fps []string
	remote                                                                  []bool
	smin, smax                                                              []*float64
	posted, valid                                                           []*time.Time
	hashes                                                                  [][]byte
}

// arrays returns the content of jobs[idx...] as column arrays.
func arrays(jobs []Listing, idx []int) jobArrays {
	n := len(idx)
	a := jobArrays{
		keys: make([]string, n), ext: make([]string, n), urls: make([]string, n), titles: make([]string, n),
		companies: make([]string, n), locs: make([]string, n), currs: make([]string, n), pers: make([]string, n),
		emps: make([]string, n), descs: make([]string, n), fps: make([]string, n), remote: make([]bool, n),
		smin: make([]*float64, n), smax: make([]*float64, n), posted: make([]*time.Time, n), valid: make([]*time.Time, n),
		hashes: make([][]byte, n),
	}
	for k, i := range idx {
		r := &jobs[i]
		j := &r.Job
		a.keys[k], a.ext[k], a.urls[k], a.titles[k], a.companies[k], a.locs[k] = r.DedupeKey, j.ExternalID, j.URL, j.Title, j.Company, j.Location
		a.remote[k], a.emps[k], a.descs[k], a.posted[k], a.valid[k], a.hashes[k], a.fps[k] = j.Remote, j.EmploymentType, j.Description, j.PostedAt, j.ValidThrough, r.Hash, r.Fingerprint
		if j.Salary != nil {
			if j.Salary.Min > 0 {
				a.smin[k] = &j.Salary.Min
			}
			if j.Salary.Max > 0 {
				a.smax[k] = &j.Salary.Max
			}
			a.currs[k], a.pers[k] = j.Salary.Currency, j.Salary.Period
		}
	}
	return a
}

// args returns a's arrays as statement arguments after the given ones, in
// the order of inputCols.
func (a jobArrays) args(first ...any) []any {
	return append(first, a.keys, a.ext, a.urls, a.titles, a.companies, a.locs, a.remote, a.smin, a.smax,
		a.currs, a.pers, a.emps, a.descs, a.posted, a.valid, a.hashes, a.fps)
}

// inputCols turns the arrays of jobArrays.args, from $n on, into a table
// "input" (after the given columns).
func inputCols(n int) string {
	p := func(k int, typ string) string { return fmt.Sprintf("$%d::%s", n+k, typ) }
	return `SELECT * FROM unnest(` + p(0, "text[]") + `, ` + p(1, "text[]") + `, ` + p(2, "text[]") + `, ` + p(3, "text[]") + `, ` +
		p(4, "text[]") + `, ` + p(5, "text[]") + `, ` + p(6, "bool[]") + `, ` + p(7, "float8[]") + `, ` + p(8, "float8[]") + `, ` +
		p(9, "text[]") + `, ` + p(10, "text[]") + `, ` + p(11, "text[]") + `, ` + p(12, "text[]") + `, ` +
		p(13, "timestamptz[]") + `, ` + p(14, "timestamptz[]") + `, ` + p(15, "bytea[]") + `, ` + p(16, "text[]") + `)
		AS t(dedupe_key, external_id, url, title, company, location, remote, salary_min, salary_max,
			salary_currency, salary_period, employment_type, description, posted_at, valid_through, content_hash, fingerprint)`
}

// insertJobs creates a job for each posting without one (jobOf 0), and
// fills in jobOf and out for them. A job whose validThrough has passed is
// stored expired, and announced to nobody.
func (s *Store) insertJobs(ctx context.Context, sourceID int64, jobs []Listing, jobOf []int64, out []ListingUpserted) error {
	var idx []int
	byKey := map[string]int{}
	for i := range jobs {
		if jobOf[i] == 0 {
			idx = append(idx, i)
			byKey[jobs[i].DedupeKey] = i
		}
	}
	if len(idx) == 0 {
		return nil
	}
	rows, err := s.db.Query(ctx, `
		WITH input AS (`+inputCols(2)+`)
		INSERT INTO jobs (source_id, dedupe_key, external_id, url, title, company, location, remote,
			salary_min, salary_max, salary_currency, salary_period, employment_type, description,
			posted_at, valid_through, content_hash, fingerprint, expired_at, expired_reason)
		SELECT $1, i.dedupe_key, i.external_id, i.url, i.title, i.company, i.location, i.remote,
			i.salary_min, i.salary_max, i.salary_currency, i.salary_period, i.employment_type, i.description,
			i.posted_at, i.valid_through, i.content_hash, i.fingerprint,
			CASE WHEN i.valid_through < now() THEN now() END,
			CASE WHEN i.valid_through < now() THEN 'validThrough' ELSE '' END
		FROM input i
		RETURNING id, dedupe_key, first_seen_at, expired_at IS NULL`, arrays(jobs, idx).args(sourceID)...)
	if err != nil {
		return fmt.Errorf("insert jobs: %w", err)
	}
	var (
		id    int64
		key   string
		first time.Time
		live  bool
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &key, &first, &live}, func() error {
		i := byKey[key]
		jobOf[i] = id
		out[i] = ListingUpserted{JobID: id, FirstSeenAt: first, Inserted: true, Announced: live}
		return nil
	})
	if err != nil {
		return fmt.Errorf("insert jobs: %w", err)
	}
	return nil
}

// lockJobs locks the rows of the jobs the batch found (not the ones it
// inserted), in id order, and returns their primary source and whether
// they were expired, by id.
func (s *Store) lockJobs(ctx context.Context, jobOf []int64, out []ListingUpserted) (map[int64]listingJob, error) {
	var ids []int64
	for i, id := range jobOf {
		if !out[i].Inserted {
			ids = append(ids, id)
		}
	}
	res := map[int64]listingJob{}
	if len(ids) == 0 {
		return res, nil
	}
	rows, err := s.db.Query(ctx, `SELECT id, source_id, expired_at IS NOT NULL FROM jobs WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	if err != nil {
		return nil, fmt.Errorf("lock jobs: %w", err)
	}
	var j listingJob
	_, err = pgx.ForEachRow(rows, []any{&j.id, &j.sourceID, &j.expired}, func() error { res[j.id] = j; return nil })
	if err != nil {
		return nil, fmt.Errorf("lock jobs: %w", err)
	}
	return res, nil
}

// putListings inserts or refreshes the batch's listings and returns which
// are live afterwards, by dedupe key. A listing seen again is live again,
// unless its page was found gone (404/410) and its URL is the same.
func (s *Store) putListings(ctx context.Context, sourceID int64, jobs []Listing, jobOf []int64) (map[string]bool, error) {
	keys, urls, hashes := make([]string, len(jobs)), make([]string, len(jobs)), make([][]byte, len(jobs))
	for i := range jobs {
		keys[i], urls[i], hashes[i] = jobs[i].DedupeKey, jobs[i].Job.URL, jobs[i].Hash
	}
	rows, err := s.db.Query(ctx, `
		INSERT INTO job_sources AS l (source_id, dedupe_key, job_id, url, content_hash)
		SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bytea[])
		ON CONFLICT (source_id, dedupe_key) DO UPDATE SET
			url = EXCLUDED.url, content_hash = EXCLUDED.content_hash, last_seen_at = now(), missing_runs = 0,
			ended_at = CASE WHEN l.ended_reason = 'gone' AND l.url = EXCLUDED.url THEN l.ended_at END,
			ended_reason = CASE WHEN l.ended_reason = 'gone' AND l.url = EXCLUDED.url THEN 'gone' ELSE '' END
		RETURNING l.dedupe_key, l.ended_at IS NULL`,
		sourceID, keys, jobOf, urls, hashes)
	if err != nil {
		return nil, fmt.Errorf("put listings: %w", err)
	}
	live := make(map[string]bool, len(jobs))
	var (
		key    string
		isLive bool
	)
	_, err = pgx.ForEachRow(rows, []any{&key, &isLive}, func() error { live[key] = isLive; return nil })
	if err != nil {
		return nil, fmt.Errorf("put listings: %w", err)
	}
	return live, nil
}

// refreshPrimarySQL writes the listings of the jobs' primary source over
// the jobs: content, last seen, and revival (a job that expired because no
// source listed it, or whose validThrough moved into the future, is live
// again when a live listing shows up).
var refreshPrimarySQL = `
	WITH input AS (SELECT i.*, k.job_id, k.live FROM (` + inputCols(5) + `) i
		JOIN unnest($2::text[], $3::bigint[], $4::bool[]) AS k(dedupe_key, job_id, live) USING (dedupe_key))
	UPDATE jobs j SET source_id = $1, dedupe_key = i.dedupe_key,
		external_id = i.external_id, url = i.url, title = i.title, company = i.company, location = i.location,
		remote = i.remote, salary_min = i.salary_min, salary_max = i.salary_max,
		salary_currency = i.salary_currency, salary_period = i.salary_period,
		employment_type = i.employment_type, description = i.description,
		posted_at = COALESCE(i.posted_at, j.posted_at), valid_through = i.valid_through,
		content_hash = i.content_hash, fingerprint = i.fingerprint, last_seen_at = now(),
		updated_at = CASE WHEN j.content_hash = i.content_hash THEN j.updated_at ELSE now() END,
		expired_at = CASE
			WHEN j.expired_at IS NULL THEN NULL
			WHEN i.live AND j.expired_reason IN ('missing', 'source') THEN NULL
			WHEN j.expired_reason = 'validThrough' AND i.valid_through > now() THEN NULL
			ELSE j.expired_at END,
		expired_reason = CASE
			WHEN j.expired_at IS NULL THEN ''
			WHEN i.live AND j.expired_reason IN ('missing', 'source') THEN ''
			WHEN j.expired_reason = 'validThrough' AND i.valid_through > now() THEN ''
			ELSE j.expired_reason END
	FROM input i WHERE j.id = i.job_id
	RETURNING j.id, j.first_seen_at, j.expired_at IS NULL`

// refreshOtherSQL is refreshPrimarySQL for the listings of other sources:
// they fill only what the job does not know, and revive it the same way.
var refreshOtherSQL = `
	WITH input AS (SELECT i.*, k.job_id, k.live FROM (` + inputCols(5) + `) i
		JOIN unnest($2::text[], $3::bigint[], $4::bool[]) AS k(dedupe_key, job_id, live) USING (dedupe_key))
	UPDATE jobs j SET
		company = CASE WHEN j.company = '' THEN i.company ELSE j.company END,
		location = CASE WHEN j.location = '' THEN i.location ELSE j.location END,
		remote = j.remote OR i.remote,
		salary_min = CASE WHEN j.salary_min IS NULL AND j.salary_max IS NULL THEN i.salary_min ELSE j.salary_min END,
		salary_max = CASE WHEN j.salary_min IS NULL AND j.salary_max IS NULL THEN i.salary_max ELSE j.salary_max END,
		salary_currency = CASE WHEN j.salary_min IS NULL AND j.salary_max IS NULL THEN i.salary_currency ELSE j.salary_currency END,
		salary_period = CASE WHEN j.salary_min IS NULL AND j.salary_max IS NULL THEN i.salary_period ELSE j.salary_period END,
		employment_type = CASE WHEN j.employment_type = '' THEN i.employment_type ELSE j.employment_type END,
		description = CASE WHEN j.description = '' THEN i.description ELSE j.description END,
		posted_at = COALESCE(j.posted_at, i.posted_at),
		fingerprint = CASE WHEN j.fingerprint = '' THEN i.fingerprint ELSE j.fingerprint END,
		last_seen_at = now(),
		expired_at = CASE WHEN i.live AND j.expired_reason IN ('missing', 'source') THEN NULL ELSE j.expired_at END,
		expired_reason = CASE WHEN i.live AND j.expired_reason IN ('missing', 'source') THEN '' ELSE j.expired_reason END
	FROM input i WHERE j.id = i.job_id AND j.source_id IS DISTINCT FROM $1::bigint
	RETURNING j.id, j.first_seen_at, j.expired_at IS NULL`

// refreshJobs applies the batch's listings of jobs it did not insert to
// those jobs (refreshPrimarySQL, refreshOtherSQL) and fills in out.
func (s *Store) refreshJobs(ctx context.Context, sourceID int64, jobs []Listing, jobOf []int64, live map[string]bool,
	locked map[int64]listingJob, out []ListingUpserted) error {
	var primary, other, touch []int
	byJob := map[int64]int{}
	for i := range jobs {
		if out[i].Inserted {
			continue
		}
		byJob[jobOf[i]] = i
		j := locked[jobOf[i]]
		switch {
		case !out[i].Merged && !out[i].Changed && !j.expired && j.sourceID != nil:
			touch = append(touch, i) // the steady state: seen again, as it was
		case j.sourceID == nil || *j.sourceID == sourceID:
			primary = append(primary, i)
		default:
			other = append(other, i)
		}
	}
	if err := s.touchJobs(ctx, jobs, jobOf, touch, out); err != nil {
		return err
	}
	for _, part := range []struct {
		sql string
		idx []int
	}{{refreshPrimarySQL, primary}, {refreshOtherSQL, other}} {
		if len(part.idx) == 0 {
			continue
		}
		keys, ids, lives := make([]string, len(part.idx)), make([]int64, len(part.idx)), make([]bool, len(part.idx))
		for k, i := range part.idx {
			keys[k], ids[k], lives[k] = jobs[i].DedupeKey, jobOf[i], live[jobs[i].DedupeKey]
		}
		rows, err := s.db.Query(ctx, part.sql, arrays(jobs, part.idx).args(sourceID, keys, ids, lives)...)
		if err != nil {
			return fmt.Errorf("refresh jobs: %w", err)
		}
		var (
			id     int64
			first  time.Time
			isLive bool
		)
		_, err = pgx.ForEachRow(rows, []any{&id, &first, &isLive}, func() error {
			i := byJob[id]
			out[i].JobID, out[i].FirstSeenAt = id, first
			out[i].Announced = locked[id].expired && isLive
			out[i].Listed = out[i].Merged && !locked[id].expired && isLive
			return nil
		})
		if err != nil {
			return fmt.Errorf("refresh jobs: %w", err)
		}
	}
	return nil
}

// touchJobs refreshes the last-seen time (and the fingerprint, which jobs
// stored before migration 008 lack) of live jobs whose listing the batch
// saw unchanged, without sending their content again.
func (s *Store) touchJobs(ctx context.Context, jobs []Listing, jobOf []int64, idx []int, out []ListingUpserted) error {
	if len(idx) == 0 {
		return nil
	}
	ids, fps := make([]int64, len(idx)), make([]string, len(idx))
	for k, i := range idx {
		ids[k], fps[k] = jobOf[i], jobs[i].Fingerprint
	}
	rows, err := s.db.Query(ctx, `
		UPDATE jobs j SET last_seen_at = now(),
			fingerprint = CASE WHEN j.fingerprint = '' THEN t.fp ELSE j.fingerprint END
		FROM unnest($1::bigint[], $2::text[]) AS t(id, fp) WHERE j.id = t.id
		RETURNING j.id, j.first_seen_at`, ids, fps)
	if err != nil {
		return fmt.Errorf("touch jobs: %w", err)
	}
	at := make(map[int64]int, len(idx))
	for _, i := range idx {
		at[jobOf[i]] = i
	}
	var (
		id    int64
		first time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &first}, func() error {
		out[at[id]].JobID, out[at[id]].FirstSeenAt = id, first
		return nil
	})
	if err != nil {
		return fmt.Errorf("touch jobs: %w", err)
	}
	return nil
}

// EndMissingListings counts a healthy run against every live listing of
// the source it did not see (last seen before the run started), and ends
// those missing from threshold runs in a row (at least 1) as 'missing'. It
// returns the jobs of the listings it ended (see ExpireUnlistedJobs).
func (s *Store) EndMissingListings(ctx context.Context, sourceID int64, runStarted time.Time, threshold int) ([]int64, error) {
	if threshold < 1 {
		threshold = 1
	}
	rows, err := s.db.Query(ctx, `
		UPDATE job_sources SET missing_runs = missing_runs + 1,
			ended_at = CASE WHEN missing_runs + 1 >= $3 THEN now() END,
			ended_reason = CASE WHEN missing_runs + 1 >= $3 THEN 'missing' ELSE '' END
		WHERE source_id = $1 AND ended_at IS NULL AND last_seen_at < $2
		RETURNING job_id, ended_at IS NOT NULL`, sourceID, runStarted, threshold)
	if err != nil {
		return nil, fmt.Errorf("end missing listings of source %d: %w", sourceID, err)
	}
	var ids []int64
	var id int64
	var ended bool
	_, err = pgx.ForEachRow(rows, []any{&id, &ended}, func() error {
		if ended {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("end missing listings of source %d: %w", sourceID, err)
	}
	return ids, nil
}

// EndGoneListings ends, as 'gone', the source's listings with the given
// dedupe keys (their page answered 404 or 410) and every other listing of
// the same job with the same URL: that page is gone for every source. It
// returns the jobs of the listings it ended.
func (s *Store) EndGoneListings(ctx context.Context, sourceID int64, dedupeKeys []string) ([]int64, error) {
	if len(dedupeKeys) == 0 {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, `
		WITH g AS (SELECT job_id, url FROM job_sources WHERE source_id = $1 AND dedupe_key = ANY($2))
		UPDATE job_sources l SET ended_at = now(), ended_reason = 'gone', checked_at = now()
		FROM g WHERE l.job_id = g.job_id AND l.url = g.url AND l.ended_reason <> 'gone'
		RETURNING l.job_id`, sourceID, dedupeKeys)
	if err != nil {
		return nil, fmt.Errorf("end gone listings of source %d: %w", sourceID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("end gone listings of source %d: %w", sourceID, err)
	}
	return ids, nil
}

// EndSourceListings ends every live listing of a source with the reason
// (the source is being disabled or deleted: 'source') and returns their
// jobs.
func (s *Store) EndSourceListings(ctx context.Context, sourceID int64, reason string) ([]int64, error) {
	rows, err := s.db.Query(ctx, `
		UPDATE job_sources SET ended_at = now(), ended_reason = $2
		WHERE source_id = $1 AND ended_at IS NULL
		RETURNING job_id`, sourceID, reason)
	if err != nil {
		return nil, fmt.Errorf("end listings of source %d: %w", sourceID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("end listings of source %d: %w", sourceID, err)
	}
	return ids, nil
}

// ExpireUnlistedJobs expires, with the reason, the live jobs among ids
// that no source lists any more (no live listing), writing their 'expired'
// job_changes rows, and returns how many it expired. It locks the jobs
// first, in id order, and looks at their listings after: an ingest that
// holds one of them (and may be giving it a live listing) commits before
// the listings are read.
func (s *Store) ExpireUnlistedJobs(ctx context.Context, ids []int64, reason string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int
	err := s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `SELECT id FROM jobs WHERE id = ANY($1) AND expired_at IS NULL ORDER BY id FOR UPDATE`, ids); err != nil {
			return err
		}
		return tx.db.QueryRow(ctx, `
			WITH gone AS (
				UPDATE jobs j SET expired_at = now(), expired_reason = $2
				WHERE j.id = ANY($1) AND j.expired_at IS NULL
				  AND NOT EXISTS (SELECT 1 FROM job_sources l WHERE l.job_id = j.id AND l.ended_at IS NULL)
				RETURNING j.id
			), outbox AS (
				INSERT INTO job_changes (job_id, kind) SELECT id, 'expired' FROM gone
			)
			SELECT count(*) FROM gone`, ids, reason).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("expire unlisted jobs: %w", err)
	}
	return n, nil
}

// HandOverJobs prepares the deletion of a source: every job whose primary
// source it is moves to another source that listed it (a live listing
// first, then the oldest), or, when there is none, keeps the source's name
// in source_name (its source_id is cleared by the deletion).
func (s *Store) HandOverJobs(ctx context.Context, sourceID int64) error {
	_, err := s.db.Exec(ctx, `
		WITH next AS (
			SELECT DISTINCT ON (j.id) j.id, l.source_id, l.dedupe_key
			FROM jobs j LEFT JOIN job_sources l ON l.job_id = j.id AND l.source_id <> $1
			WHERE j.source_id = $1
			ORDER BY j.id, l.ended_at IS NULL DESC, l.first_seen_at, l.source_id
		)
		UPDATE jobs j SET source_name = (SELECT name FROM sources WHERE id = $1),
			source_id = COALESCE(n.source_id, j.source_id), dedupe_key = COALESCE(n.dedupe_key, j.dedupe_key)
		FROM next n WHERE n.id = j.id`, sourceID)
	if err != nil {
		return fmt.Errorf("hand over the jobs of source %d: %w", sourceID, err)
	}
	return nil
}

// ListingRef names one listing of a source.
type ListingRef struct {
	DedupeKey string
	URL       string
}

// ListingsToCheck returns up to limit live listings of the source whose
// URL is due a check: listed for at least every and not checked within
// every; the least recently checked first (never checked before all).
func (s *Store) ListingsToCheck(ctx context.Context, sourceID int64, limit int, every time.Duration) ([]ListingRef, error) {
	rows, err := s.db.Query(ctx, `
		SELECT dedupe_key, url FROM job_sources
		WHERE source_id = $1 AND ended_at IS NULL
		  AND first_seen_at <= now() - make_interval(secs => $3)
		  AND (checked_at IS NULL OR checked_at <= now() - make_interval(secs => $3))
		ORDER BY checked_at NULLS FIRST, first_seen_at, dedupe_key LIMIT $2`, sourceID, limit, every.Seconds())
	if err != nil {
		return nil, fmt.Errorf("listings to check of source %d: %w", sourceID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ListingRef, error) {
		var l ListingRef
		return l, r.Scan(&l.DedupeKey, &l.URL)
	})
	if err != nil {
		return nil, fmt.Errorf("listings to check of source %d: %w", sourceID, err)
	}
	return out, nil
}

// MarkListingsChecked records that the source's listings were checked now.
func (s *Store) MarkListingsChecked(ctx context.Context, sourceID int64, dedupeKeys []string) error {
	if len(dedupeKeys) == 0 {
		return nil
	}
	_, err := s.db.Exec(ctx, `UPDATE job_sources SET checked_at = now() WHERE source_id = $1 AND dedupe_key = ANY($2)`, sourceID, dedupeKeys)
	if err != nil {
		return fmt.Errorf("mark listings of source %d checked: %w", sourceID, err)
	}
	return nil
}

// CountLiveListings returns how many postings the source lists now (its
// live listings).
func (s *Store) CountLiveListings(ctx context.Context, sourceID int64) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM job_sources WHERE source_id = $1 AND ended_at IS NULL`, sourceID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count listings of source %d: %w", sourceID, err)
	}
	return n, nil
}

// attachSources sets the Sources of jobs: every source each was seen on,
// in the order they first listed it.
func (s *Store) attachSources(ctx context.Context, jobs []model.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	ids := make([]int64, len(jobs))
	at := make(map[int64]int, len(jobs))
	for i := range jobs {
		ids[i] = jobs[i].ID
		at[jobs[i].ID] = i
	}
	rows, err := s.db.Query(ctx, `
		SELECT l.job_id, l.source_id, s.name, l.url, l.ended_at IS NULL
		FROM job_sources l JOIN sources s ON s.id = l.source_id
		WHERE l.job_id = ANY($1)
		ORDER BY l.job_id, l.first_seen_at, l.source_id`, ids)
	if err != nil {
		return fmt.Errorf("load job sources: %w", err)
	}
	var (
		id int64
		js model.JobSource
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &js.ID, &js.Name, &js.URL, &js.Live}, func() error {
		j := &jobs[at[id]]
		j.Sources = append(j.Sources, js)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load job sources: %w", err)
	}
	return nil
}

// SourceBacklog reports whether the source's next run is a backlog run
// (its first, or its first since it was re-enabled or given another URL).
func (s *Store) SourceBacklog(ctx context.Context, sourceID int64) (bool, error) {
	var b bool
	if err := s.db.QueryRow(ctx, `SELECT backlog FROM sources WHERE id = $1`, sourceID).Scan(&b); err != nil {
		return false, fmt.Errorf("backlog of source %d: %w", sourceID, notFound(err))
	}
	return b, nil
}

// EndSourceBacklog records that the source has had its healthy backlog run.
func (s *Store) EndSourceBacklog(ctx context.Context, sourceID int64) error {
	if _, err := s.db.Exec(ctx, `UPDATE sources SET backlog = false WHERE id = $1 AND backlog`, sourceID); err != nil {
		return fmt.Errorf("end backlog of source %d: %w", sourceID, err)
	}
	return nil
}
