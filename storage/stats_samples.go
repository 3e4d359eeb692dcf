package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// StatsSample is one node's counters at one moment (a stats_samples row):
// its open streams by transport and its subscriptions at that moment, and
// the matching it did since its previous sample.
type StatsSample struct {
	Node          string    `json:"node"`
	At            time.Time `json:"at"`
	ConnSSE       int       `json:"-"`
	ConnWS        int       `json:"-"`
	ConnPoll      int       `json:"-"`
	Subscriptions int       `json:"subscriptions"`
	Matched       int       `json:"-"`
	MatchSeconds  float64   `json:"-"`
}

// AddStatsSample records smp (At is the database's clock) and deletes the
// samples of every node older than keep, so the table holds about keep of
// history whichever nodes are alive.
func (s *Store) AddStatsSample(ctx context.Context, smp StatsSample, keep time.Duration) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO stats_samples (node, conn_sse, conn_ws, conn_poll, subscriptions, matched, match_seconds)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (node, at) DO NOTHING`,
		smp.Node, smp.ConnSSE, smp.ConnWS, smp.ConnPoll, smp.Subscriptions, smp.Matched, smp.MatchSeconds)
	b.Queue(`DELETE FROM stats_samples WHERE at < now() - make_interval(secs => $1)`, keep.Seconds())
	if err := s.db.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("add stats sample of node %q: %w", smp.Node, err)
	}
	return nil
}

// LatestStatsSamples returns the newest sample of every node that wrote
// one within the last maxAge (the nodes alive now), by node name.
func (s *Store) LatestStatsSamples(ctx context.Context, maxAge time.Duration) ([]StatsSample, error) {
	rows, _ := s.db.Query(ctx, `
		SELECT DISTINCT ON (node) node, at, conn_sse, conn_ws, conn_poll, subscriptions, matched, match_seconds
		FROM stats_samples WHERE at >= now() - make_interval(secs => $1)
		ORDER BY node, at DESC`, maxAge.Seconds())
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StatsSample, error) {
		var m StatsSample
		err := row.Scan(&m.Node, &m.At, &m.ConnSSE, &m.ConnWS, &m.ConnPoll, &m.Subscriptions, &m.Matched, &m.MatchSeconds)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("latest stats samples: %w", err)
	}
	return out, nil
}

// StatsBucket is the cluster over one time bucket: open streams by
// transport (each node's average over the bucket, summed over the nodes)
// and the matching done in it.
type StatsBucket struct {
	At           time.Time
	ConnSSE      float64
	ConnWS       float64
	ConnPoll     float64
	Matched      int64
	MatchSeconds float64
}

// StatsSeries returns the cluster's samples since from in buckets of step
// (aligned on from), oldest first; buckets without a sample are absent.
func (s *Store) StatsSeries(ctx context.Context, from time.Time, step time.Duration) ([]StatsBucket, error) {
	rows, _ := s.db.Query(ctx, `
		SELECT bucket, sum(sse), sum(ws), sum(poll), sum(matched)::bigint, sum(match_seconds)
		FROM (
			SELECT date_bin(make_interval(secs => $2), at, $1) AS bucket, node,
				avg(conn_sse) AS sse, avg(conn_ws) AS ws, avg(conn_poll) AS poll,
				sum(matched) AS matched, sum(match_seconds) AS match_seconds
			FROM stats_samples WHERE at >= $1
			GROUP BY 1, 2
		) per_node
		GROUP BY bucket ORDER BY bucket`, from, step.Seconds())
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StatsBucket, error) {
		var b StatsBucket
		err := row.Scan(&b.At, &b.ConnSSE, &b.ConnWS, &b.ConnPoll, &b.Matched, &b.MatchSeconds)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("stats series: %w", err)
	}
	return out, nil
}
