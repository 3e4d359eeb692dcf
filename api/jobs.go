package api

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/matcher"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/scraper"
	"github.com/birjob/birjob/storage"
)

// jobView is a job as the API answers it: with the signed-in user's marks.
type jobView struct {
	model.Job
	Saved  bool `json:"saved,omitempty"`
	Hidden bool `json:"hidden,omitempty"`
}

// Limits of the job list's parameters.
const (
	maxJobIDs      = 200
	maxFilterLen   = matcher.MaxItemLen
	listCurrency   = "AZN"
	listPeriod     = "month"
	sortNewest     = "newest"
	sortSalary     = "salary"
	salaryCursorOn = "s"
	salaryCursorNo = "n"
)

// listParams reads the job list's query parameters into q and the
// criteria they amount to (the alert a search can become: query,
// location, remote, salaryMin in AZN a month, employmentTypes, sources).
// It answers 400 and returns false on a bad one.
func (s *Server) listParams(w http.ResponseWriter, r *http.Request, q *storage.JobQuery) (model.Criteria, bool) {
	v := r.URL.Query()
	bad := func(format string, a ...any) (model.Criteria, bool) {
		httpx.Errorf(w, http.StatusBadRequest, format, a...)
		return model.Criteria{}, false
	}
	c := model.Criteria{Query: strings.TrimSpace(v.Get("q")), Location: strings.TrimSpace(v.Get("location"))}
	q.Q = c.Query
	if len(c.Query) > maxFieldLen {
		return bad("q must be at most %d bytes", maxFieldLen)
	}
	if len(c.Location) > maxFilterLen {
		return bad("location must be at most %d bytes", maxFilterLen)
	}
	switch r := v.Get("remote"); r {
	case "":
	case "true", "false":
		b := r == "true"
		c.Remote = &b
	default:
		return bad("remote %q must be true or false", r)
	}
	if m := v.Get("salaryMin"); m != "" {
		n, err := strconv.ParseFloat(m, 64)
		if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
			return bad("salaryMin %q must be a number of %s a %s, 0 or more", m, listCurrency, listPeriod)
		}
		if n > 0 {
			c.SalaryMin = &model.SalaryMin{Amount: n, Currency: listCurrency, Period: listPeriod}
		}
	}
	if t := v.Get("type"); t != "" {
		norm, ok := matcher.NormEmploymentType(t)
		if !ok {
			return bad("type %q is not an employment type (use full-time, part-time, contract, temporary, internship, volunteer or other)", t)
		}
		c.EmploymentTypes = []string{norm}
	}
	if src := strings.TrimSpace(v.Get("source")); src != "" {
		if len(src) > maxFilterLen {
			return bad("source must be at most %d bytes", maxFilterLen)
		}
		c.Sources = []string{src}
	}
	switch sort := v.Get("sort"); sort {
	case "", sortNewest:
	case sortSalary:
		q.BySalary, q.Rates, q.Periods, q.DefaultCurrency = true, matcher.RatesToAZN, matcher.PeriodsPerMonth, listCurrency
	default:
		return bad("sort %q must be %s or %s", sort, sortNewest, sortSalary)
	}
	if cur := v.Get("cursor"); cur != "" {
		at, ok := parseCursor(cur, q.BySalary)
		if !ok {
			return bad("cursor %q is not one this API gave out for this sort", cur)
		}
		q.Before, q.After = at.ID, at
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			return bad("limit %q must be a positive number", l)
		}
		q.Limit = n
	}
	if ids := v.Get("ids"); ids != "" {
		for _, f := range strings.Split(ids, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil || n <= 0 {
				return bad("ids must be job ids separated by commas, %q is not one", f)
			}
			q.IDs = append(q.IDs, n)
		}
		if len(q.IDs) > maxJobIDs {
			return bad("ids may list at most %d jobs", maxJobIDs)
		}
	}
	switch sv := v.Get("saved"); sv {
	case "", "0", "false":
	case "1", "true":
		q.Saved = true
	default:
		return bad("saved %q must be 1 or 0", sv)
	}
	q.IncludeExpired = v.Get("expired") == "true"
	return c, true
}

// parseCursor reads a cursor of listJobs: a job id in the newest-first
// order; in the salary order "s<salary>:<id>", or "n:<id>" among the jobs
// without a salary.
func parseCursor(c string, bySalary bool) (storage.JobCursor, bool) {
	var at storage.JobCursor
	idPart := c
	if bySalary {
		head, id, ok := strings.Cut(c, ":")
		if !ok {
			return at, false
		}
		idPart = id
		switch {
		case head == salaryCursorNo:
		case strings.HasPrefix(head, salaryCursorOn):
			v, err := strconv.ParseFloat(head[1:], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return at, false
			}
			at.Salary = &v
		default:
			return at, false
		}
	}
	n, err := strconv.ParseInt(idPart, 10, 64)
	if err != nil || n <= 0 {
		return at, false
	}
	at.ID = n
	return at, true
}

// formatCursor is the inverse of parseCursor.
func formatCursor(at storage.JobCursor, bySalary bool) string {
	id := strconv.FormatInt(at.ID, 10)
	switch {
	case !bySalary:
		return id
	case at.Salary == nil:
		return salaryCursorNo + ":" + id
	default:
		return salaryCursorOn + strconv.FormatFloat(*at.Salary, 'g', -1, 64) + ":" + id
	}
}

// filtered reports whether c says more than a query.
func filtered(c model.Criteria) bool {
	return c.Location != "" || c.Remote != nil || c.SalaryMin != nil || len(c.EmploymentTypes) > 0 || len(c.Sources) > 0
}

// jobMatch compiles what a job list's criteria select, nil for every job.
func (s *Server) jobMatch(c model.Criteria) (func(*model.Job) bool, error) {
	switch {
	case filtered(c):
		f, err := matcher.NewFilter(c)
		if err != nil {
			return nil, err
		}
		return f.Match, nil
	case c.Query != "" && s.search != nil:
		return s.search(c.Query)
	}
	return nil, nil
}

// listJobs answers GET /api/jobs: see the README's API section for the
// parameters.
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	var q storage.JobQuery
	crit, ok := s.listParams(w, r, &q)
	if !ok {
		return
	}
	p, signedIn := auth.PrincipalFrom(r.Context())
	if q.Saved && !signedIn {
		httpx.Error(w, http.StatusUnauthorized, "sign in to see the jobs you saved")
		return
	}
	if signedIn {
		q.UserID = p.UserID
	}
	match, err := s.jobMatch(crit)
	if err != nil {
		httpx.Error(w, http.StatusBadRequest, paramError(err))
		return
	}
	q.Match, q.MatchSources = match, len(crit.Sources) > 0
	// The rows and the log's end come from one snapshot: every event after
	// lastEventId was committed after the rows were read, so a page that
	// resumes its stream from it misses nothing and repeats nothing.
	var (
		jobs  []model.Job
		next  storage.JobCursor
		last  int64
		marks map[int64]storage.JobMark
	)
	err = s.store.Snapshot(r.Context(), func(tx *storage.Store) error {
		var err error
		if jobs, next, err = tx.ListJobsAt(r.Context(), q); err != nil {
			return err
		}
		if marks, err = tx.JobMarks(r.Context(), q.UserID, jobIDs(jobs)); err != nil {
			return err
		}
		last, err = tx.LastEventID(r.Context())
		return err
	})
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	out := make([]jobView, len(jobs))
	for i, j := range jobs {
		out[i] = jobView{Job: j, Saved: marks[j.ID].Saved, Hidden: marks[j.ID].Hidden}
	}
	resp := map[string]any{"jobs": out, "lastEventId": strconv.FormatInt(last, 10)}
	if !next.IsZero() {
		resp["nextCursor"] = formatCursor(next, q.BySalary)
	}
	if crit.Query != "" || filtered(crit) {
		resp["criteria"] = crit
	}
	httpx.WriteJSON(w, http.StatusOK, resp)
}

// paramError names the list parameter a criteria error is about: the
// matcher names the criteria's fields.
func paramError(err error) string {
	msg := err.Error()
	for field, param := range map[string]string{"query: ": "q: ", "employmentTypes: ": "type: ", "sources: ": "source: ", "salaryMin: ": "salaryMin: ", "location: ": "location: "} {
		if rest, ok := strings.CutPrefix(msg, field); ok {
			return param + rest
		}
	}
	if !strings.Contains(msg, ":") {
		return "q: " + msg
	}
	return msg
}

func jobIDs(jobs []model.Job) []int64 {
	ids := make([]int64, len(jobs))
	for i := range jobs {
		ids[i] = jobs[i].ID
	}
	return ids
}

// getJob answers GET /api/jobs/{id}: the job with every source it was
// seen on, and the signed-in user's marks.
func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	id, ok := httpx.PathID(w, r, "")
	if !ok {
		return
	}
	j, err := s.store.GetJob(r.Context(), id)
	if s.notFound(w, r, err, "job") {
		return
	}
	view := jobView{Job: j}
	if p, ok := auth.PrincipalFrom(r.Context()); ok {
		marks, err := s.store.JobMarks(r.Context(), p.UserID, []int64{id})
		if err != nil {
			httpx.ServerError(w, r, err)
			return
		}
		view.Saved, view.Hidden = marks[id].Saved, marks[id].Hidden
	}
	httpx.WriteJSON(w, http.StatusOK, view)
}

// markJob answers PUT (set) and DELETE (clear) on /api/jobs/{id}/saved and
// /api/jobs/{id}/hidden with the user's marks on the job.
func (s *Server) markJob(mark string, on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.RequireUser(w, r)
		if !ok {
			return
		}
		id, ok := httpx.PathID(w, r, "")
		if !ok {
			return
		}
		if s.notFound(w, r, s.store.SetJobMark(r.Context(), p.UserID, id, mark, on), "job") {
			return
		}
		marks, err := s.store.JobMarks(r.Context(), p.UserID, []int64{id})
		if err != nil {
			httpx.ServerError(w, r, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "saved": marks[id].Saved, "hidden": marks[id].Hidden})
	}
}

// ingestJob answers POST /api/jobs: it stores one job into the manual
// source, 201 with the job when it is new, 200 when a job with the same
// dedupe key existed.
func (s *Server) ingestJob(w http.ResponseWriter, r *http.Request) {
	var j model.Job
	if !httpx.DecodeJSON(w, r, &j) {
		return
	}
	if strings.TrimSpace(j.Title) == "" {
		httpx.Error(w, http.StatusBadRequest, "title is required")
		return
	}
	if _, err := scraper.PrepareJob(j); err != nil {
		httpx.Errorf(w, http.StatusBadRequest, "%v (url must be an absolute http or https URL)", err)
		return
	}
	srcID, err := s.scraper.ManualSource(r.Context())
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	j.ID = 0
	res, err := s.scraper.Ingest(r.Context(), srcID, []model.Job{j})
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	got := res.Jobs[0]
	if got.Error != "" {
		httpx.Error(w, http.StatusBadRequest, got.Error)
		return
	}
	out := got.Job
	out.Source = scraper.ManualSourceName
	status := http.StatusOK
	if got.New {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, out)
}
