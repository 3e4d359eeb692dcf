package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/storage"
)

func TestStats_AdminSeesStageCounters(t *testing.T) {
	mux := http.NewServeMux()
	api.New(storage.New(pgtest.New(t)), nil).
		WithStats(map[string]func() any{"matcher": func() any { return map[string]int{"batches": 3} }}).
		Routes(mux)
	serve := func(admin bool) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UserID: 1, Email: "a@example.com", Admin: admin}))
			mux.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	var out map[string]map[string]int
	if code := call(t, "GET", serve(true).URL+"/api/admin/stats", nil, &out); code != 200 || out["matcher"]["batches"] != 3 || len(out) != 1 {
		t.Errorf("admin: %d %v", code, out)
	}
	if code := call(t, "GET", serve(false).URL+"/api/admin/stats", nil, nil); code != 403 {
		t.Errorf("non-admin: %d, want 403", code)
	}
}
