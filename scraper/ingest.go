package scraper

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/scraper/normalize"
	"github.com/birjob/birjob/storage"
	"github.com/birjob/birjob/textfold"
)

// IngestResult tells what Ingest did with each job.
type IngestResult struct {
	// Jobs has one entry per input job, in input order.
	Jobs []IngestedJob `json:"jobs"`
	// New, Updated and Unchanged count the stored jobs; Skipped the ones
	// refused (see IngestedJob.Error). Merged counts the postings found as
	// jobs of other sources (also counted as unchanged, or new when the
	// job came back).
	New       int `json:"new"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
	Merged    int `json:"merged,omitempty"`
}

// IngestedJob is the outcome of one job of an Ingest call.
type IngestedJob struct {
	ID int64 `json:"id,omitempty"`
	// New is true when the job was inserted, or came back after having
	// expired as missing: a 'new' change was written for the matcher.
	New bool `json:"new"`
	// Changed is true when the source's listing of an existing job
	// changed.
	Changed bool `json:"changed"`
	// Merged is true when the posting was found as a job another source
	// lists (one job, several sources).
	Merged bool `json:"merged,omitempty"`
	// Error says why the job was skipped.
	Error string `json:"error,omitempty"`
	// Job is the job as stored (normalised, dedupe applied).
	Job model.Job `json:"-"`
}

// DedupeKey is the key a posting is deduplicated on within its source: 'id:' +
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

// Fingerprint is a posting's second identity across sources, after its
// canonical URL: the folded words of its title, company and place, or ""
// when the company is unknown (a title alone, "Accountant", is no identity).
func Fingerprint(j model.Job) string {
	company := strings.Join(textfold.Tokens(j.Company), " ")
	if company == "" {
		return ""
	}
	return strings.Join(textfold.Tokens(j.Title), " ") + "|" + company + "|" + strings.Join(textfold.Tokens(j.Location), " ")
}

// Ingest stores jobs posted into a source outside a run (POST /api/jobs
// uses it): one job per posting, announced when new; see ingest.
func (s *Service) Ingest(ctx context.Context, sourceID int64, jobs []model.Job) (IngestResult, error) {
	return s.ingest(ctx, sourceID, jobs, false)
}

// ingest stores jobs scraped from (or posted into) a source in one
// transaction: each posting's listing is upserted on DedupeKey, attached to
// the job of the same posting when another source lists it (canonical URL,
// else Fingerprint, within Config.IdentityWindow), to a new job otherwise;
// a job that becomes live gets a 'new' outbox row (the matcher is woken at
// commit), marked backlog when this is a backlog run and the posting is not
// news (see isNews); a live job another source announced gets a 'listed'
// row when this source starts listing it, unless this is a backlog run and
// the posting is not news. Jobs that fail PrepareJob are skipped and reported; a
// duplicate key within the batch keeps its last occurrence.
func (s *Service) ingest(ctx context.Context, sourceID int64, jobs []model.Job, backlog bool) (IngestResult, error) {
	res := IngestResult{Jobs: make([]IngestedJob, len(jobs))}
	prepared := make([]model.Job, len(jobs))
	byKey := map[string]int{} // dedupe key -> index in jobs
	for i, j := range jobs {
		pj, err := PrepareJob(j)
		if err != nil {
			res.Jobs[i].Error = err.Error()
			res.Skipped++
			continue
		}
		pj.SourceID = sourceID
		prepared[i] = pj
		key := DedupeKey(pj)
		if prev, ok := byKey[key]; ok {
			res.Jobs[prev].Error = "duplicate of a later job in the same batch"
			res.Skipped++
		}
		byKey[key] = i
	}
	if len(byKey) == 0 {
		return res, nil
	}
	rows := make([]storage.Listing, 0, len(byKey))
	for key, i := range byKey {
		rows = append(rows, storage.Listing{Job: prepared[i], DedupeKey: key, Hash: contentHash(prepared[i]), Fingerprint: Fingerprint(prepared[i])})
	}
	var done []storage.ListingUpserted
	now := time.Now()
	err := s.store.Tx(ctx, func(tx *storage.Store) error {
		var err error
		done, err = tx.UpsertListings(ctx, sourceID, rows, s.cfg.IdentityWindow)
		if err != nil {
			return err
		}
		var ids, listed []int64
		var quiet []bool
		for k := range rows { // in UpsertListings's order, with done
			d := done[k]
			news := !backlog || s.isNews(rows[k].Job, d.Inserted, now)
			switch {
			case d.Announced:
				ids = append(ids, d.JobID)
				quiet = append(quiet, !news)
			case d.Listed && news:
				listed = append(listed, d.JobID)
			}
		}
		if err := tx.AddNewJobChanges(ctx, ids, quiet); err != nil {
			return err
		}
		return tx.AddListedJobChanges(ctx, listed)
	})
	if err != nil {
		return IngestResult{}, fmt.Errorf("ingest %d jobs into source %d: %w", len(rows), sourceID, err)
	}
	for k, r := range rows {
		d := done[k]
		j := r.Job
		j.ID, j.FirstSeenAt = d.JobID, d.FirstSeenAt
		res.Jobs[byKey[r.DedupeKey]] = IngestedJob{ID: d.JobID, New: d.Announced, Changed: d.Changed, Merged: d.Merged, Job: j}
		switch {
		case d.Announced:
			res.New++
		case d.Changed:
			res.Updated++
		default:
			res.Unchanged++
		}
		if d.Merged {
			res.Merged++
		}
	}
	return res, nil
}

// isNews reports whether a posting announced in a backlog run is new to
// the world: dated within Config.BacklogMaxAge, or undated and first seen
// now by any source (inserted: no job had it).
func (s *Service) isNews(j model.Job, inserted bool, now time.Time) bool {
	if j.PostedAt != nil {
		return now.Sub(*j.PostedAt) <= s.cfg.BacklogMaxAge
	}
	return inserted
}
