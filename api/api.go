// Package api serves the JSON API that the page and scripts use for alerts,
// public feeds and the job list. Accounts live in package auth, sources and
// job ingest in package scraper, streams in package notify; the app wires
// them onto one mux.
//
// # Conventions
//
// Errors are {"error": "..."} with a fitting 4xx status and a message a
// person can act on. A create or read answers with the object itself, id
// included. PUT changes the fields the body carries and keeps the others, so
// {"paused": true} pauses an alert.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// Limits on what one user can store.
const (
	MaxAlertsPerUser = 100
	maxListLen       = 50
	maxFieldLen      = 500
)

// Server is the API for alerts, feeds and jobs.
type Server struct {
	store *storage.Store
	// validate checks criteria (the matcher's query language); its error
	// message reaches the client with a 400.
	validate func(model.Criteria) error
	// search compiles GET /api/jobs?q= into a job predicate (nil: the
	// words of q must appear in title, company or location, compared by
	// the database).
	search func(q string) (func(*model.Job) bool, error)
}

// WithSearch makes GET /api/jobs?q= use compile (the matcher's query
// language, so that a search shows what an alert with that query would
// match); its error message reaches the client with a 400.
func (s *Server) WithSearch(compile func(q string) (func(*model.Job) bool, error)) *Server {
	s.search = compile
	return s
}

// New returns the API server. validate checks saved criteria.
func New(store *storage.Store, validate func(model.Criteria) error) *Server {
	if validate == nil {
		validate = func(model.Criteria) error { return nil }
	}
	return &Server{store: store, validate: validate}
}

// Routes registers the API.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/alerts", s.listAlerts)
	mux.HandleFunc("POST /api/alerts", s.createAlert)
	mux.HandleFunc("GET /api/alerts/{id}", s.getAlert)
	mux.HandleFunc("PUT /api/alerts/{id}", s.updateAlert)
	mux.HandleFunc("DELETE /api/alerts/{id}", s.deleteAlert)
	mux.HandleFunc("GET /api/feeds", s.listFeeds)
	mux.HandleFunc("POST /api/feeds", s.createFeed)
	mux.HandleFunc("GET /api/feeds/{id}", s.getFeed)
	mux.HandleFunc("PUT /api/feeds/{id}", s.updateFeed)
	mux.HandleFunc("DELETE /api/feeds/{id}", s.deleteFeed)
	mux.HandleFunc("GET /api/jobs", s.listJobs)
	mux.HandleFunc("GET /api/jobs/{id}", s.getJob)
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		httpx.Errorf(w, http.StatusBadRequest, "%q is not an id", r.PathValue("id"))
		return 0, false
	}
	return id, true
}

// userAndID returns the signed-in user and the {id} of the path, or answers
// 401/400 and returns false.
func userAndID(w http.ResponseWriter, r *http.Request) (auth.Principal, int64, bool) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return p, 0, false
	}
	id, ok := pathID(w, r)
	return p, id, ok
}

// checkCriteria validates the shape and the query of criteria.
func (s *Server) checkCriteria(c *model.Criteria) error {
	c.Query = strings.TrimSpace(c.Query)
	c.Location = strings.TrimSpace(c.Location)
	if len(c.Query) > maxFieldLen || len(c.Location) > maxFieldLen {
		return fmt.Errorf("query and location must be at most %d bytes", maxFieldLen)
	}
	for name, list := range map[string][]string{"employmentTypes": c.EmploymentTypes, "companies": c.Companies,
		"excludeCompanies": c.ExcludeCompanies, "sources": c.Sources} {
		if len(list) > maxListLen {
			return fmt.Errorf("%s may list at most %d values", name, maxListLen)
		}
		for _, v := range list {
			if strings.TrimSpace(v) == "" || len(v) > maxFieldLen {
				return fmt.Errorf("%s has an empty or too long value", name)
			}
		}
	}
	if c.SalaryMin != nil && c.SalaryMin.Amount < 0 {
		return errors.New("salaryMin.amount must not be negative")
	}
	return s.validate(*c)
}

type alertView struct {
	model.Alert
	Matches []model.Job `json:"matches,omitempty"`
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return
	}
	alerts, err := s.store.ListAlerts(r.Context(), p.UserID)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	matches, err := s.store.AlertMatches(r.Context(), p.UserID, 10)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	out := make([]alertView, len(alerts))
	for i, a := range alerts {
		out[i] = alertView{Alert: a, Matches: matches[a.ID]}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"alerts": out})
}

func (s *Server) createAlert(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return
	}
	var a model.Alert
	if !httpx.DecodeJSON(w, r, &a) {
		return
	}
	a.UserID = p.UserID
	if len(a.Name) > 200 {
		httpx.Error(w, http.StatusBadRequest, "name must be at most 200 bytes")
		return
	}
	if err := s.checkCriteria(&a.Criteria); err != nil {
		httpx.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	existing, err := s.store.ListAlerts(r.Context(), p.UserID)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	if len(existing) >= MaxAlertsPerUser {
		httpx.Errorf(w, http.StatusConflict, "you have %d alerts, the most one account may keep; delete one first", len(existing))
		return
	}
	out, err := s.store.CreateAlert(r.Context(), a)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, out)
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) {
	p, id, ok := userAndID(w, r)
	if !ok {
		return
	}
	a, err := s.store.GetAlert(r.Context(), p.UserID, id)
	if s.notFound(w, r, err, "alert") {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, a)
}

// notFound answers a lookup error; it returns true when it answered.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, err error, what string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, storage.ErrNotFound):
		httpx.Errorf(w, http.StatusNotFound, "no such %s", what)
	default:
		httpx.ServerError(w, r, err)
	}
	return true
}

// mergeJSON decodes the body over v, so fields the body leaves out keep
// their values.
func mergeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	var raw json.RawMessage
	if !httpx.DecodeJSON(w, r, &raw) {
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		httpx.Errorf(w, http.StatusBadRequest, "request body is not a valid JSON object: %v", err)
		return false
	}
	return true
}

func (s *Server) updateAlert(w http.ResponseWriter, r *http.Request) {
	p, id, ok := userAndID(w, r)
	if !ok {
		return
	}
	a, err := s.store.GetAlert(r.Context(), p.UserID, id)
	if s.notFound(w, r, err, "alert") {
		return
	}
	if !mergeJSON(w, r, &a) {
		return
	}
	a.ID, a.UserID = id, p.UserID
	if err := s.checkCriteria(&a.Criteria); err != nil {
		httpx.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := s.store.UpdateAlert(r.Context(), a)
	if s.notFound(w, r, err, "alert") {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) deleteAlert(w http.ResponseWriter, r *http.Request) {
	p, id, ok := userAndID(w, r)
	if !ok {
		return
	}
	if s.notFound(w, r, s.store.DeleteAlert(r.Context(), p.UserID, id), "alert") {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listFeeds(w http.ResponseWriter, r *http.Request) {
	feeds, err := s.store.ListFeeds(r.Context())
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"feeds": feeds})
}

func (s *Server) getFeed(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	f, err := s.store.GetFeed(r.Context(), id)
	if s.notFound(w, r, err, "feed") {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, f)
}

func (s *Server) createFeed(w http.ResponseWriter, r *http.Request) {
	if _, ok := auth.RequireAdmin(w, r); !ok {
		return
	}
	var f model.Feed
	if !httpx.DecodeJSON(w, r, &f) {
		return
	}
	if err := model.ValidFeedName(f.Name); err != nil {
		httpx.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.checkCriteria(&f.Criteria); err != nil {
		httpx.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := s.store.CreateFeed(r.Context(), f)
	if errors.Is(err, storage.ErrConflict) {
		httpx.Errorf(w, http.StatusConflict, "a feed named %q exists", f.Name)
		return
	}
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, out)
}

func (s *Server) updateFeed(w http.ResponseWriter, r *http.Request) {
	if _, ok := auth.RequireAdmin(w, r); !ok {
		return
	}
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	f, err := s.store.GetFeed(r.Context(), id)
	if s.notFound(w, r, err, "feed") {
		return
	}
	name := f.Name
	if !mergeJSON(w, r, &f) {
		return
	}
	if f.Name != name {
		httpx.Error(w, http.StatusBadRequest, "a feed's name is its channel and cannot change; create a new feed")
		return
	}
	f.ID = id
	if err := s.checkCriteria(&f.Criteria); err != nil {
		httpx.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := s.store.UpdateFeed(r.Context(), f)
	if s.notFound(w, r, err, "feed") {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) deleteFeed(w http.ResponseWriter, r *http.Request) {
	if _, ok := auth.RequireAdmin(w, r); !ok {
		return
	}
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if s.notFound(w, r, s.store.DeleteFeed(r.Context(), id), "feed") {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

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
	jobs, next, err := s.store.ListJobs(r.Context(), q)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	resp := map[string]any{"jobs": jobs}
	if next > 0 {
		resp["nextCursor"] = strconv.FormatInt(next, 10)
	}
	httpx.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	j, err := s.store.GetJob(r.Context(), id)
	if s.notFound(w, r, err, "job") {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, j)
}
