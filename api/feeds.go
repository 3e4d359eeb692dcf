package api

import (
	"errors"
	"net/http"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

func (s *Server) listFeeds(w http.ResponseWriter, r *http.Request) {
	feeds, err := s.store.ListFeeds(r.Context())
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"feeds": feeds})
}

func (s *Server) getFeed(w http.ResponseWriter, r *http.Request) {
	id, ok := httpx.PathID(w, r, "")
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
	if !httpx.DecodeObject(w, r, &f) {
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
	id, ok := httpx.PathID(w, r, "")
	if !ok {
		return
	}
	f, err := s.store.GetFeed(r.Context(), id)
	if s.notFound(w, r, err, "feed") {
		return
	}
	name := f.Name
	if !httpx.DecodeObject(w, r, &f) {
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
	id, ok := httpx.PathID(w, r, "")
	if !ok {
		return
	}
	if s.notFound(w, r, s.store.DeleteFeed(r.Context(), id), "feed") {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
