package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/scraper"
	"github.com/birjob/birjob/storage"
)

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	q := storage.JobQuery{Q: r.URL.Query().Get("q")}
	if len(q.Q) > maxFieldLen {
		httpx.Errorf(w, http.StatusBadRequest, "q must be at most %d bytes", maxFieldLen)
		return
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			httpx.Errorf(w, http.StatusBadRequest, "cursor %q is not one this API gave out", c)
			return
		}
		q.Before = n
	}
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			httpx.Errorf(w, http.StatusBadRequest, "limit %q must be a positive number", l)
			return
		}
		q.Limit = n
	}
	q.IncludeExpired = r.URL.Query().Get("expired") == "true"
	if s.search != nil && strings.TrimSpace(q.Q) != "" {
		match, err := s.search(q.Q)
		if err != nil {
			httpx.Errorf(w, http.StatusBadRequest, "q: %v", err)
			return
		}
		q.Match = match
	}
	// The rows and the log's end come from one snapshot: every event after
	// lastEventId was committed after the rows were read, so a page that
	// resumes its stream from it misses nothing and repeats nothing.
	var (
		jobs []model.Job
		next int64
		last int64
	)
	err := s.store.Snapshot(r.Context(), func(tx *storage.Store) error {
		var err error
		if jobs, next, err = tx.ListJobs(r.Context(), q); err != nil {
			return err
		}
		last, err = tx.LastEventID(r.Context())
		return err
	})
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	resp := map[string]any{"jobs": jobs, "lastEventId": strconv.FormatInt(last, 10)}
	if next > 0 {
		resp["nextCursor"] = strconv.FormatInt(next, 10)
	}
	httpx.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	id, ok := httpx.PathID(w, r, "")
	if !ok {
		return
	}
	j, err := s.store.GetJob(r.Context(), id)
	if s.notFound(w, r, err, "job") {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, j)
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
