package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/scraper"
	"github.com/birjob/birjob/storage"
)

// sourceRoutes registers the admin API of the scraper stage: sources CRUD,
// preview, run now, run history, and POST /api/jobs. Every route needs an
// admin.
func (s *Server) sourceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/sources", admin(s.listSources))
	mux.HandleFunc("POST /api/sources", admin(s.createSource))
	mux.HandleFunc("POST /api/sources/preview", admin(s.previewUnsaved))
	mux.HandleFunc("GET /api/sources/{id}", admin(s.getSource))
	mux.HandleFunc("PUT /api/sources/{id}", admin(s.updateSource))
	mux.HandleFunc("PATCH /api/sources/{id}", admin(s.updateSource))
	mux.HandleFunc("DELETE /api/sources/{id}", admin(s.deleteSource))
	mux.HandleFunc("POST /api/sources/{id}/preview", admin(s.previewSource))
	mux.HandleFunc("POST /api/sources/{id}/run", admin(s.runNow))
	mux.HandleFunc("GET /api/sources/{id}/runs", admin(s.listRuns))
	mux.HandleFunc("POST /api/jobs", admin(s.ingestJob))
}

// admin answers 401/403 unless the request is an admin's.
func admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := auth.RequireAdmin(w, r); !ok {
			return
		}
		h(w, r)
	}
}

// sourceID is the {id} of a source path; a malformed one is answered like an
// unknown source.
func sourceID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	return httpx.PathID(w, r, "source")
}

// SourceView is a source as the API shows it: the source plus its health.
type SourceView struct {
	model.Source
	// LastRun is the newest run, if any.
	LastRun *storage.Run `json:"lastRun,omitempty"`
	// ActiveJobs counts the source's jobs that have not expired.
	ActiveJobs int `json:"activeJobs"`
	// Health: failure and empty streaks, last success, the automatic pause
	// and its reason, and the back-off of the source's host (when it
	// resumes). Absent for the manual source.
	Health *scraper.Health `json:"health,omitempty"`
	// NextRunAt is the source's next scheduled tick, while it is enabled.
	NextRunAt *time.Time `json:"nextRunAt,omitempty"`
}

func (s *Server) view(ctx context.Context, src model.Source) (SourceView, error) {
	v := SourceView{Source: src}
	if sched, err := scraper.ParseSchedule(src.Schedule); err == nil && src.Enabled {
		next := sched.Next(time.Now())
		v.NextRunAt = &next
	}
	runs, err := s.store.ListRuns(ctx, src.ID, 1)
	if err != nil {
		return v, err
	}
	if len(runs) > 0 {
		v.LastRun = &runs[0]
	}
	v.ActiveJobs, err = s.store.CountActiveJobs(ctx, src.ID)
	if err != nil || s.scraper == nil || src.Kind == model.SourceManual {
		return v, err
	}
	h, err := s.scraper.Health(ctx, src)
	v.Health = &h
	return v, err
}

// writeSourceErr answers the errors of source reads and writes.
func writeSourceErr(w http.ResponseWriter, r *http.Request, err error) {
	var ve *scraper.ValidationError
	switch {
	case errors.As(err, &ve):
		httpx.Error(w, http.StatusBadRequest, ve.Msg)
	case errors.Is(err, storage.ErrConflict):
		httpx.Error(w, http.StatusConflict, "a source with this name already exists")
	case errors.Is(err, storage.ErrNotFound):
		httpx.Error(w, http.StatusNotFound, "no such source")
	default:
		httpx.ServerError(w, r, err)
	}
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request) {
	srcs, err := s.store.ListSources(r.Context())
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
	return model.Source{Enabled: true, RespectRobots: true, Schedule: scraper.DefaultSchedule}
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request) {
	src := newSourceDefaults()
	if !httpx.DecodeJSON(w, r, &src) {
		return
	}
	src.ID = 0
	out, err := s.scraper.CreateSource(r.Context(), src)
	if err != nil {
		writeSourceErr(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, out)
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request) {
	id, ok := sourceID(w, r)
	if !ok {
		return
	}
	src, err := s.store.GetSource(r.Context(), id)
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

// mergeSource applies a JSON body onto src: fields the body leaves out keep
// their values, "selectors" and "settings" are replaced as a whole.
func mergeSource(w http.ResponseWriter, r *http.Request, src *model.Source) bool {
	id := src.ID
	ok := httpx.MergeJSON(w, r, src, func(has func(string) bool) {
		if has("selectors") {
			src.Selectors = nil
		}
		if has("settings") {
			src.Settings = nil
		}
	})
	src.ID = id
	return ok
}

// scrapedSource reads the source of the path for a route that needs one
// that is scraped: the manual source is refused with manualMsg.
func (s *Server) scrapedSource(w http.ResponseWriter, r *http.Request, manualMsg string) (model.Source, bool) {
	id, ok := sourceID(w, r)
	if !ok {
		return model.Source{}, false
	}
	src, err := s.store.GetSource(r.Context(), id)
	if err != nil {
		writeSourceErr(w, r, err)
		return src, false
	}
	if src.Kind == model.SourceManual {
		httpx.Error(w, http.StatusBadRequest, manualMsg)
		return src, false
	}
	return src, true
}

func (s *Server) updateSource(w http.ResponseWriter, r *http.Request) {
	src, ok := s.scrapedSource(w, r, "the manual source holds jobs posted through POST /api/jobs and cannot be edited")
	if !ok {
		return
	}
	if !mergeSource(w, r, &src) {
		return
	}
	out, err := s.scraper.UpdateSource(r.Context(), src)
	if err != nil {
		writeSourceErr(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) deleteSource(w http.ResponseWriter, r *http.Request) {
	id, ok := sourceID(w, r)
	if !ok {
		return
	}
	if err := s.scraper.DeleteSource(r.Context(), id); err != nil {
		writeSourceErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// previewSource extracts with the stored source, or with the stored source
// patched by the request body (unsaved edits), without saving anything.
func (s *Server) previewSource(w http.ResponseWriter, r *http.Request) {
	src, ok := s.scrapedSource(w, r, "the manual source has nothing to fetch")
	if !ok {
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
			if !mergeSource(w, r, &src) {
				return
			}
		}
	}
	s.previewAndWrite(w, r, src)
}

func (s *Server) previewUnsaved(w http.ResponseWriter, r *http.Request) {
	src := newSourceDefaults()
	if !httpx.DecodeJSON(w, r, &src) {
		return
	}
	if strings.TrimSpace(src.Name) == "" {
		src.Name = "preview"
	}
	s.previewAndWrite(w, r, src)
}

func (s *Server) previewAndWrite(w http.ResponseWriter, r *http.Request, src model.Source) {
	if err := scraper.ValidateSource(src); err != nil {
		writeSourceErr(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, s.scraper.Preview(r.Context(), src))
}

// runNow starts a run of the source: 202 with the run as started, or, with
// ?wait=1, 200 with the run as finished; 409 while it runs, or while it is
// disabled.
func (s *Server) runNow(w http.ResponseWriter, r *http.Request) {
	id, ok := sourceID(w, r)
	if !ok {
		return
	}
	src, err := s.store.GetSource(r.Context(), id)
	if err != nil {
		writeSourceErr(w, r, err)
		return
	}
	if src.Kind == model.SourceManual {
		httpx.Error(w, http.StatusBadRequest, "the manual source has nothing to fetch")
		return
	}
	wait := r.URL.Query().Get("wait")
	run, done, err := s.scraper.RunNow(r.Context(), id)
	if errors.Is(err, scraper.ErrAlreadyRunning) {
		httpx.Error(w, http.StatusConflict, "this source is being scraped right now; try again when the run has finished")
		return
	}
	if errors.Is(err, scraper.ErrSourceDisabled) {
		httpx.Error(w, http.StatusConflict, "this source is disabled: enable it to run it (Preview shows what a run would find without storing it)")
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

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	id, ok := sourceID(w, r)
	if !ok {
		return
	}
	if _, err := s.store.GetSource(r.Context(), id); err != nil {
		writeSourceErr(w, r, err)
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	runs, err := s.store.ListRuns(r.Context(), id, limit)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"runs": runs})
}
