package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/matcher"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// createdAlert is the answer to a create: the alert, and how many of the
// live jobs it matches (among the newest currentMatchesBudget of them;
// currentMatchesPartial when there were more).
type createdAlert struct {
	model.Alert
	CurrentMatches        *int `json:"currentMatches,omitempty"`
	CurrentMatchesPartial bool `json:"currentMatchesPartial,omitempty"`
}

// currentMatchesBudget bounds the live jobs a new alert is counted against.
const currentMatchesBudget = 10000

type alertView struct {
	model.Alert
	Matches []model.Job `json:"matches,omitempty"`
}

// alertBody is what a create or update of an alert decodes: the alert's
// fields, and "matches", which GET answers with and is ignored, so that a
// script may send back what it read.
type alertBody struct {
	*model.Alert
	Matches json.RawMessage `json:"matches"`
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.RequireUser(w, r)
	if !ok {
		return
	}
	// Alerts, their matches and the log's end from one snapshot, so the
	// page's "me" stream resumes from lastEventId with nothing missed or
	// repeated (a match is read from the user's events).
	var (
		alerts  []model.Alert
		matches map[int64][]model.Job
		last    int64
	)
	err := s.store.Snapshot(r.Context(), func(tx *storage.Store) error {
		var err error
		if alerts, err = tx.ListAlerts(r.Context(), p.UserID); err != nil {
			return err
		}
		if matches, err = tx.AlertMatches(r.Context(), p.UserID, 10); err != nil {
			return err
		}
		last, err = tx.LastEventID(r.Context())
		return err
	})
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	out := make([]alertView, len(alerts))
	for i, a := range alerts {
		out[i] = alertView{Alert: a, Matches: matches[a.ID]}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"alerts": out, "lastEventId": strconv.FormatInt(last, 10)})
}

func (s *Server) createAlert(w http.ResponseWriter, r *http.Request) {
	p, ok := s.requireVerified(w, r)
	if !ok {
		return
	}
	var a model.Alert
	if !httpx.DecodeObject(w, r, &alertBody{Alert: &a}) {
		return
	}
	a.UserID = p.UserID
	if len(a.Name) > 200 {
		httpx.Error(w, http.StatusBadRequest, "name must be at most 200 bytes")
		return
	}
	if err := s.checkAlert(&a); err != nil {
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
	// How many jobs listed now the new alert would have caught, so the
	// person sees at once whether it is too wide or too narrow.
	created := createdAlert{Alert: out}
	if f, err := matcher.NewFilter(out.Criteria); err == nil {
		n, complete, err := s.store.CountJobs(r.Context(), f.Match, len(out.Criteria.Sources) > 0, currentMatchesBudget)
		if err != nil {
			httpx.ServerError(w, r, err)
			return
		}
		created.CurrentMatches, created.CurrentMatchesPartial = &n, !complete
	}
	httpx.WriteJSON(w, http.StatusCreated, created)
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

func (s *Server) updateAlert(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.requireVerified(w, r); !ok {
		return
	}
	p, id, ok := userAndID(w, r)
	if !ok {
		return
	}
	a, err := s.store.GetAlert(r.Context(), p.UserID, id)
	if s.notFound(w, r, err, "alert") {
		return
	}
	if !httpx.DecodeObject(w, r, &alertBody{Alert: &a}) {
		return
	}
	a.ID, a.UserID = id, p.UserID
	if err := s.checkAlert(&a); err != nil {
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
