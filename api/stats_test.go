package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/birjob/birjob/api"
	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

// statsServer serves the API with a principal of its own: an admin or not.
func statsServer(t *testing.T, store *storage.Store, admin bool) string {
	t.Helper()
	mux := http.NewServeMux()
	api.New(store, nil).
		WithStats(map[string]func() any{"matcher": func() any { return map[string]int{"batches": 3} }}).
		Routes(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UserID: 1, Email: "a@example.com", Admin: admin}))
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestStats_AdminSeesStageCounters(t *testing.T) {
	store := storage.New(pgtest.New(t))
	var out struct {
		Matcher map[string]int `json:"matcher"`
	}
	if code := call(t, "GET", statsServer(t, store, true)+"/api/admin/stats", nil, &out); code != 200 || out.Matcher["batches"] != 3 {
		t.Errorf("admin: %d %v", code, out)
	}
	if code := call(t, "GET", statsServer(t, store, false)+"/api/admin/stats", nil, nil); code != 403 {
		t.Errorf("non-admin: %d, want 403", code)
	}
	var bad map[string]string
	if code := call(t, "GET", statsServer(t, store, true)+"/api/admin/stats?range=2d", nil, &bad); code != 400 || bad["error"] == "" {
		t.Errorf("range=2d: %d %v, want 400 with an error", code, bad)
	}
}

// TestStats_ClusterTotalsAndSeries: the answer adds up the latest samples
// of every live node (not the node that answers), leaves out a node that
// stopped sampling, and charts events, runs and matching per bucket.
func TestStats_ClusterTotalsAndSeries(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	store := storage.New(pool)
	exec := func(sql string) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	for _, smp := range []storage.StatsSample{
		{Node: "a", ConnSSE: 3, ConnWS: 1, Subscriptions: 5, Matched: 4, MatchSeconds: 0.002},
		{Node: "b", ConnSSE: 2, ConnPoll: 7, Subscriptions: 9},
	} {
		if err := store.AddStatsSample(ctx, smp, api.StatsKeep); err != nil {
			t.Fatal(err)
		}
	}
	// A node gone for an hour counts no more; a sample older than a day is deleted.
	exec(`INSERT INTO stats_samples (node, at, conn_sse) VALUES ('gone', now() - interval '1 hour', 100)`)
	exec(`INSERT INTO stats_samples (node, at, conn_sse) VALUES ('old', now() - interval '25 hours', 1)`)
	if err := store.AddStatsSample(ctx, storage.StatsSample{Node: "c"}, api.StatsKeep); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := store.AppendEvents(ctx, model.Event{Channel: model.ChannelJobs, Type: "new-job", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	src, err := store.CreateSource(ctx, model.Source{Name: "s", Kind: "rss", URL: "https://example.com/feed", Schedule: "@every 1h"})
	if err != nil {
		t.Fatal(err)
	}
	for _, status := range []string{"ok", "ok", "failed"} {
		r, _, err := store.ClaimRun(ctx, src.ID, nil, "a", "manual")
		if err != nil {
			t.Fatal(err)
		}
		r.Status = status
		if err := store.FinishRun(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}

	var out struct {
		Step    int `json:"step"`
		Cluster struct {
			Nodes         []string       `json:"nodes"`
			Connections   map[string]int `json:"connections"`
			Subscriptions int            `json:"subscriptions"`
		} `json:"cluster"`
		Series struct {
			At          []time.Time           `json:"at"`
			Events      []int64               `json:"events"`
			Connections map[string][]*float64 `json:"connections"`
			Runs        map[string][]int64    `json:"runs"`
			Matched     []int64               `json:"matched"`
			MatchMs     []*float64            `json:"matchMs"`
		} `json:"series"`
	}
	if code := call(t, "GET", statsServer(t, store, true)+"/api/admin/stats?range=1h", nil, &out); code != 200 {
		t.Fatalf("GET: %d", code)
	}
	c := out.Cluster
	if len(c.Nodes) != 3 || c.Connections["sse"] != 5 || c.Connections["ws"] != 1 || c.Connections["poll"] != 7 || c.Subscriptions != 14 {
		t.Errorf("cluster = %+v, want nodes a, b, c with sse 5, ws 1, poll 7, 14 subscriptions", c)
	}
	s := out.Series
	n := len(s.At)
	if out.Step != 60 || n != 60 || len(s.Events) != n || len(s.Matched) != n || len(s.MatchMs) != n || len(s.Connections["sse"]) != n {
		t.Fatalf("step %d, %d buckets (events %d, matched %d), want 60 of 60 s", out.Step, n, len(s.Events), len(s.Matched))
	}
	// (Summed over the buckets: a minute may turn between two writes.)
	var events, ok, failed, matched int64
	var sse float64
	var ms []float64
	for i := range n {
		events += s.Events[i]
		ok += s.Runs["ok"][i]
		failed += s.Runs["failed"][i]
		matched += s.Matched[i]
		if p := s.Connections["sse"][i]; p != nil {
			sse += *p
		}
		if p := s.MatchMs[i]; p != nil {
			ms = append(ms, *p)
		}
	}
	if events != 3 || ok != 2 || failed != 1 || matched != 4 || sse != 5 {
		t.Errorf("series: events %d, runs ok %d failed %d, matched %d, sse %v; want 3, 2, 1, 4, 5", events, ok, failed, matched, sse)
	}
	if len(ms) != 1 || ms[0] != 0.5 {
		t.Errorf("matching time %v, want one bucket at 0.5 ms a job", ms)
	}
	if s.Connections["sse"][0] != nil || s.Connections["sse"][30] != nil {
		t.Error("a bucket without samples should be null, not 0")
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM stats_samples WHERE node = 'old'`).Scan(&left); err != nil || left != 0 {
		t.Error("a sample older than a day was kept")
	}
}
