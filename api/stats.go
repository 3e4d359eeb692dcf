package api

import (
	"context"
	"net/http"
	"time"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/storage"
)

// Cluster statistics. Every node writes a sample of its counters to
// stats_samples every StatsSampleInterval (cmd/birjob); a node whose latest
// sample is older than StatsNodeAlive is taken for gone. Events and runs
// are counted from their own tables.
const (
	StatsSampleInterval = 10 * time.Second
	StatsNodeAlive      = 3 * StatsSampleInterval
	// StatsKeep is how long samples are kept.
	StatsKeep = 24 * time.Hour
)

// statsRanges are the spans GET /api/admin/stats?range= accepts, each with
// the width of its buckets (60 or 72 points a chart).
var statsRanges = map[string]struct{ span, step time.Duration }{
	"1h":  {time.Hour, time.Minute},
	"6h":  {6 * time.Hour, 5 * time.Minute},
	"24h": {24 * time.Hour, 20 * time.Minute},
}

// clusterNow is the cluster as its nodes' latest samples tell it.
type clusterNow struct {
	Nodes         []string       `json:"nodes"`
	Connections   map[string]int `json:"connections"`
	Subscriptions int            `json:"subscriptions"`
}

// statsSeries holds the charts' data, one value per bucket starting at
// the matching At: events written, open streams by transport (null where
// no node sampled), runs started by status, new jobs matched and the mean
// matching time per job in milliseconds (null where none was matched).
type statsSeries struct {
	At          []time.Time           `json:"at"`
	Events      []int64               `json:"events"`
	Connections map[string][]*float64 `json:"connections"`
	Runs        map[string][]int64    `json:"runs"`
	Matched     []int64               `json:"matched"`
	MatchMs     []*float64            `json:"matchMs"`
}

// adminStats answers GET /api/admin/stats?range=1h|6h|24h, for an admin:
// the cluster now ("cluster", from every live node's latest sample), its
// history over the range in buckets ("series", "step" seconds wide), and,
// under their stage names, the live counters of the stages this node runs
// (see WithStats).
func (s *Server) adminStats(w http.ResponseWriter, r *http.Request) {
	if _, ok := auth.RequireAdmin(w, r); !ok {
		return
	}
	name := r.URL.Query().Get("range")
	if name == "" {
		name = "1h"
	}
	rg, ok := statsRanges[name]
	if !ok {
		httpx.Errorf(w, http.StatusBadRequest, "range %q is not one of 1h, 6h, 24h", name)
		return
	}
	out := make(map[string]any, len(s.stats)+5)
	for name, stats := range s.stats {
		out[name] = stats()
	}
	// Buckets are aligned on whole steps, so a chart does not shift
	// between two reloads a second apart.
	to := time.Now().Truncate(rg.step).Add(rg.step)
	from := to.Add(-rg.span)
	now, series, err := s.clusterStats(r.Context(), from, to, rg.step)
	if err != nil {
		httpx.ServerError(w, r, err)
		return
	}
	out["range"], out["step"], out["from"], out["to"], out["now"] = name, int(rg.step.Seconds()), from, to, time.Now()
	out["cluster"], out["series"] = now, series
	httpx.WriteJSON(w, http.StatusOK, out)
}

// clusterStats reads the cluster's latest samples and its history from
// from to to in buckets of step.
func (s *Server) clusterStats(ctx context.Context, from, to time.Time, step time.Duration) (clusterNow, statsSeries, error) {
	now := clusterNow{Nodes: []string{}, Connections: map[string]int{"sse": 0, "ws": 0, "poll": 0}}
	latest, err := s.store.LatestStatsSamples(ctx, StatsNodeAlive)
	if err != nil {
		return now, statsSeries{}, err
	}
	for _, m := range latest {
		now.Nodes = append(now.Nodes, m.Node)
		now.Connections["sse"] += m.ConnSSE
		now.Connections["ws"] += m.ConnWS
		now.Connections["poll"] += m.ConnPoll
		now.Subscriptions += m.Subscriptions
	}
	samples, err := s.store.StatsSeries(ctx, from, step)
	if err != nil {
		return now, statsSeries{}, err
	}
	events, err := s.store.EventCounts(ctx, from, step)
	if err != nil {
		return now, statsSeries{}, err
	}
	runs, err := s.store.RunCountsByStatus(ctx, from, step)
	if err != nil {
		return now, statsSeries{}, err
	}
	return now, buildSeries(from, to, step, samples, events, runs), nil
}

// buildSeries lays the rows out on every bucket from from to to, so that
// each array has one value per bucket.
func buildSeries(from, to time.Time, step time.Duration, samples []storage.StatsBucket, events []storage.TimeCount, runs []storage.RunCount) statsSeries {
	n := int(to.Sub(from) / step)
	out := statsSeries{
		At:          make([]time.Time, n),
		Events:      make([]int64, n),
		Connections: map[string][]*float64{"sse": make([]*float64, n), "ws": make([]*float64, n), "poll": make([]*float64, n)},
		Runs:        map[string][]int64{},
		Matched:     make([]int64, n),
		MatchMs:     make([]*float64, n),
	}
	index := func(at time.Time) int {
		i := int(at.Sub(from) / step)
		if i < 0 || i >= n {
			return -1
		}
		return i
	}
	for i := range out.At {
		out.At[i] = from.Add(time.Duration(i) * step)
	}
	for _, e := range events {
		if i := index(e.At); i >= 0 {
			out.Events[i] = e.N
		}
	}
	for _, rc := range runs {
		if i := index(rc.At); i >= 0 {
			if out.Runs[rc.Status] == nil {
				out.Runs[rc.Status] = make([]int64, n)
			}
			out.Runs[rc.Status][i] = rc.N
		}
	}
	for _, b := range samples {
		i := index(b.At)
		if i < 0 {
			continue
		}
		sse, ws, poll := b.ConnSSE, b.ConnWS, b.ConnPoll
		out.Connections["sse"][i], out.Connections["ws"][i], out.Connections["poll"][i] = &sse, &ws, &poll
		out.Matched[i] = b.Matched
		if b.Matched > 0 {
			ms := b.MatchSeconds * 1000 / float64(b.Matched)
			out.MatchMs[i] = &ms
		}
	}
	return out
}
