package api

import (
	"net/http"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
)

// adminStats answers GET /api/admin/stats: the counters of the stages this
// node runs (see WithStats), for an admin.
func (s *Server) adminStats(w http.ResponseWriter, r *http.Request) {
	if _, ok := auth.RequireAdmin(w, r); !ok {
		return
	}
	out := make(map[string]any, len(s.stats))
	for name, stats := range s.stats {
		out[name] = stats()
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}
