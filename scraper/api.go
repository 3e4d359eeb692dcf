package scraper

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/model"
)

// DefaultSchedule is given to a source created without one.
const DefaultSchedule = "@every 15m"

// Routes mounts the admin API of the scraper stage on mux: sources CRUD,
// preview, run now, run history, and POST /api/jobs. Every route needs an
// admin.
func (s *Service) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/sources", s.admin(s.handleListSources))
	mux.HandleFunc("POST /api/sources", s.admin(s.handleCreateSource))
	mux.HandleFunc("POST /api/sources/preview", s.admin(s.handlePreviewUnsaved))
	mux.HandleFunc("GET /api/sources/{id}", s.admin(s.handleGetSource))
	mux.HandleFunc("PUT /api/sources/{id}", s.admin(s.handleUpdateSource))
	mux.HandleFunc("PATCH /api/sources/{id}", s.admin(s.handleUpdateSource))
	mux.HandleFunc("DELETE /api/sources/{id}", s.admin(s.handleDeleteSource))
	mux.HandleFunc("POST /api/sources/{id}/preview", s.admin(s.handlePreview))
	mux.HandleFunc("POST /api/sources/{id}/run", s.admin(s.handleRunNow))
	mux.HandleFunc("GET /api/sources/{id}/runs", s.admin(s.handleListRuns))
	mux.HandleFunc("POST /api/jobs", s.admin(s.handleIngestJob))
}

func (s *Service) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := auth.RequireAdmin(w, r); !ok {
			return
		}
		h(w, r)
	}
}

// SourceView is a source as the API shows it: the source plus its health.
type SourceView struct {
	model.Source
	// LastRun is the newest run, if any.
	LastRun *Run `json:"lastRun,omitempty"`
	// ActiveJobs counts the source's jobs that have not expired.
	ActiveJobs int `json:"activeJobs"`
}

func (s *Service) view(ctx context.Context, src model.Source) (SourceView, error) {
	v := SourceView{Source: src}
	runs, err := ListRuns(ctx, s.db, src.ID, 1)
	if err != nil {
		return v, err
	}
	if len(runs) > 0 {
		v.LastRun = &runs[0]
	}
	err = s.db.QueryRow(ctx, `SELECT count(*) FROM jobs WHERE source_id = $1 AND expired_at IS NULL`, src.ID).Scan(&v.ActiveJobs)
	return v, err
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		httpx.Error(w, http.StatusNotFound, "no source with id "+strconv.Quote(r.PathValue("id")))
		return 0, false
	}
	return id, true
}

// writeSourceErr answers the errors of source writes.
func writeSourceErr(w http.ResponseWriter, r *http.Request, err error) {
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		httpx.Error(w, http.StatusBadRequest, ve.Msg)
	case errors.Is(err, ErrNameTaken):
		httpx.Error(w, http.StatusConflict, err.Error())
	case errors.Is(err, ErrNotFound):
		httpx.Error(w, http.StatusNotFound, "no such source")
	default:
		httpx.ServerError(w, r, err)
	}
}

func (s *Service) handleListSources(w http.ResponseWriter, r *http.Request) {
	srcs, err := ListSources(r.Context(), s.db)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	out := make([]SourceView, 0, len(srcs))
	for _, src := range srcs {
		v, err := s.view(r.Context(), src)
		if err != nil {
			httpx.ServerError(w, r, err)
			return
		}
		out = append(out, v)
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"sources": out})
}

// newSourceDefaults is what a created source has for the fields its body
// leaves out.
func newSourceDefaults() model.Source {
	return model.Source{Enabled: true, RespectRobots: true, Schedule: DefaultSchedule}
}

func (s *Service) handleCreateSource(w http.ResponseWriter, r *http.Request) {
	src := newSourceDefaults()
	if !httpx.DecodeJSON(w, r, &src) {
		return
	}
	src.ID = 0
	out, err := CreateSource(r.Context(), s.db, src)
	if err != nil {
		writeSourceErr(w, r, err)
		return
	}
	s.log.Info("source created", "source_id", out.ID, "name", out.Name, "kind", out.Kind)
	httpx.WriteJSON(w, http.StatusCreated, out)
}

func (s *Service) handleGetSource(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	src, err := GetSource(r.Context(), s.db, id)
	if err != nil {
		writeSourceErr(w, r, err)
		return
	}
	v, err := s.view(r.Context(), src)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, v)
}

// decodePatch applies a JSON body onto src: fields the body leaves out keep
// their values, "selectors" and "settings" are replaced as a whole.
func decodePatch(w http.ResponseWriter, r *http.Request, src *model.Source) bool {
	var raw map[string]json.RawMessage
	if !httpx.DecodeJSON(w, r, &raw) {
		return false
	}
	if _, ok := raw["selectors"]; ok {
		src.Selectors = nil
	}
	if _, ok := raw["settings"]; ok {
		src.Settings = nil
	}
	b, _ := json.Marshal(raw)
	id := src.ID
	if err := json.Unmarshal(b, src); err != nil {
		httpx.Errorf(w, http.StatusBadRequest, "request body: %v", err)
		return false
	}
	src.ID = id
	return true
}

func (s *Service) handleUpdateSource(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	src, err := GetSource(r.Context(), s.db, id)
	if err != nil {
		writeSourceErr(w, r, err)
		return
	}
	if src.Kind == model.SourceManual {
		httpx.Error(w, http.StatusBadRequest, "the manual source holds jobs posted through POST /api/jobs and cannot be edited")
		return
	}
	if !decodePatch(w, r, &src) {
		return
	}
	out, err := UpdateSource(r.Context(), s.db, src)
	if err != nil {
		writeSourceErr(w, r, err)
		return
	}
	s.log.Info("source updated", "source_id", out.ID, "enabled", out.Enabled)
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) handleDeleteSource(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if err := DeleteSource(r.Context(), s.db, id); err != nil {
		writeSourceErr(w, r, err)
		return
	}
	s.log.Info("source deleted", "source_id", id)
	w.WriteHeader(http.StatusNoContent)
}

// handlePreview extracts with the stored source, or with the stored source
// patched by the request body (unsaved edits), without saving anything.
func (s *Service) handlePreview(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	src, err := GetSource(r.Context(), s.db, id)
	if err != nil {
		writeSourceErr(w, r, err)
		return
	}
	if src.Kind == model.SourceManual {
		httpx.Error(w, http.StatusBadRequest, "the manual source has nothing to fetch")
		return
	}
	if r.ContentLength != 0 && r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, httpx.MaxBody+1))
		if err != nil {
			httpx.Error(w, http.StatusBadRequest, "could not read the request body")
			return
		}
		if strings.TrimSpace(string(body)) != "" {
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			if !decodePatch(w, r, &src) {
				return
			}
		}
	}
	s.previewAndWrite(w, r, src)
}

func (s *Service) handlePreviewUnsaved(w http.ResponseWriter, r *http.Request) {
	src := newSourceDefaults()
	if src.Name == "" {
		src.Name = "preview"
	}
	if !httpx.DecodeJSON(w, r, &src) {
		return
	}
	if strings.TrimSpace(src.Name) == "" {
		src.Name = "preview"
	}
	s.previewAndWrite(w, r, src)
}

func (s *Service) previewAndWrite(w http.ResponseWriter, r *http.Request, src model.Source) {
	if err := ValidateSource(src); err != nil {
		writeSourceErr(w, r, err)
		return
	}
	p := s.Preview(r.Context(), src)
	httpx.WriteJSON(w, http.StatusOK, p)
}

func (s *Service) handleRunNow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	src, err := GetSource(r.Context(), s.db, id)
	if err != nil {
		writeSourceErr(w, r, err)
		return
	}
	if src.Kind == model.SourceManual {
		httpx.Error(w, http.StatusBadRequest, "the manual source has nothing to fetch")
		return
	}
	wait := r.URL.Query().Get("wait")
	run, done, err := s.RunNow(r.Context(), id)
	if errors.Is(err, ErrAlreadyRunning) {
		httpx.Error(w, http.StatusConflict, "this source is being scraped right now; try again when the run has finished")
		return
	}
	if err != nil {
		writeSourceErr(w, r, err)
		return
	}
	if wait == "1" || wait == "true" {
		select {
		case final := <-done:
			httpx.WriteJSON(w, http.StatusOK, final)
			return
		case <-r.Context().Done():
			return
		}
	}
	httpx.WriteJSON(w, http.StatusAccepted, run)
}

func (s *Service) handleListRuns(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if _, err := GetSource(r.Context(), s.db, id); err != nil {
		writeSourceErr(w, r, err)
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	runs, err := ListRuns(r.Context(), s.db, id, limit)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"runs": runs})
}

// handleIngestJob stores one job into the manual source: 201 with the job
// when it is new, 200 when a job with the same dedupe key existed.
func (s *Service) handleIngestJob(w http.ResponseWriter, r *http.Request) {
	var j model.Job
	if !httpx.DecodeJSON(w, r, &j) {
		return
	}
	if strings.TrimSpace(j.Title) == "" {
		httpx.Error(w, http.StatusBadRequest, "title is required")
		return
	}
	if _, err := PrepareJob(j); err != nil {
		httpx.Errorf(w, http.StatusBadRequest, "%v (url must be an absolute http or https URL)", err)
		return
	}
	srcID, err := manualSource(r.Context(), s.db)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	j.ID = 0
	res, err := s.Ingest(r.Context(), srcID, []model.Job{j})
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
	out.Source = ManualSourceName
	status := http.StatusOK
	if got.New {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, out)
}
