package scraper

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/birjob/birjob/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the scraper's Prometheus metrics. The per-source gauges are
// read from the database at each scrape (source_health, host_state), so
// every node reports the same cluster-wide values; the runs counter counts
// this node's runs, the Prometheus way (sum over nodes).
type metrics struct {
	runs        *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
	jobs        *prometheus.CounterVec
	fetches     *prometheus.CounterVec

	failureStreak, emptyStreak, paused, enabled, lastSuccess, hostBackoff *prometheus.Desc
}

func newMetrics() *metrics {
	src := []string{"source"}
	return &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "birjob_scrape_runs_total",
			Help: "Scrape runs this node finished, by source and status (ok, failed, suspect, not-modified, empty, backoff).",
		}, []string{"source", "status"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "birjob_scrape_run_duration_seconds",
			Help:    "How long this node's scrape runs took, by source.",
			Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, src),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "birjob_scrape_jobs_total",
			Help: "Postings this node's runs stored, by source and change: new (a job new to birjob), updated, expired, merged (found as a job another source lists).",
		}, []string{"source", "change"}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "birjob_scrape_fetches_total",
			Help: "Pages this node fetched for runs, by HTTP status (\"error\": no answer).",
		}, []string{"status"}),
		failureStreak: prometheus.NewDesc("birjob_source_failure_streak", "Failed runs in a row of the source.", src, nil),
		emptyStreak:   prometheus.NewDesc("birjob_source_empty_streak", "Runs in a row of the source that found nothing.", src, nil),
		paused:        prometheus.NewDesc("birjob_source_paused", "1 when the source was paused automatically after failing runs.", src, nil),
		enabled:       prometheus.NewDesc("birjob_source_enabled", "1 when the source is enabled.", src, nil),
		lastSuccess: prometheus.NewDesc("birjob_source_last_success_timestamp_seconds",
			"When the source last had a successful run (Unix time; absent when never).", src, nil),
		hostBackoff: prometheus.NewDesc("birjob_host_backoff_seconds",
			"Seconds until a backing-off host may be fetched again.", []string{"host"}, nil),
	}
}

// Collector returns the scraper's Prometheus collector (register it once).
func (s *Service) Collector() prometheus.Collector { return (*collector)(s) }

type collector Service

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	m := c.metrics
	for _, v := range []prometheus.Collector{m.runs, m.runDuration, m.jobs, m.fetches} {
		v.Describe(ch)
	}
	for _, d := range []*prometheus.Desc{m.failureStreak, m.emptyStreak, m.paused, m.enabled, m.lastSuccess, m.hostBackoff} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	m := c.metrics
	for _, v := range []prometheus.Collector{m.runs, m.runDuration, m.jobs, m.fetches} {
		v.Collect(ch)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := c.store.ListSourceHealth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(m.failureStreak, err)
		return
	}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	for _, r := range rows {
		ch <- prometheus.MustNewConstMetric(m.failureStreak, prometheus.GaugeValue, float64(r.FailureStreak), r.Name)
		ch <- prometheus.MustNewConstMetric(m.emptyStreak, prometheus.GaugeValue, float64(r.EmptyStreak), r.Name)
		ch <- prometheus.MustNewConstMetric(m.paused, prometheus.GaugeValue, b(r.PausedAt != nil && !r.Enabled), r.Name)
		ch <- prometheus.MustNewConstMetric(m.enabled, prometheus.GaugeValue, b(r.Enabled), r.Name)
		if r.LastSuccessAt != nil {
			ch <- prometheus.MustNewConstMetric(m.lastSuccess, prometheus.GaugeValue, float64(r.LastSuccessAt.UnixMilli())/1000, r.Name)
		}
	}
	hosts, err := c.store.ListPausedHosts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(m.hostBackoff, err)
		return
	}
	for _, h := range hosts {
		ch <- prometheus.MustNewConstMetric(m.hostBackoff, prometheus.GaugeValue, h.PausedUntil.Sub(h.Now).Seconds(), h.Host)
	}
}

// fetched counts one answer (or its absence) of a run's request.
func (m *metrics) fetched(resp *http.Response, err error) {
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	m.fetches.WithLabelValues(status).Inc()
}

// finished counts a finished run's duration and what it stored.
func (m *metrics) finished(source string, run storage.Run, merged int) {
	if run.FinishedAt != nil {
		m.runDuration.WithLabelValues(source).Observe(run.FinishedAt.Sub(run.StartedAt).Seconds())
	}
	for change, n := range map[string]int{"new": run.New, "updated": run.Updated, "expired": run.Expired, "merged": merged} {
		if n > 0 {
			m.jobs.WithLabelValues(source, change).Add(float64(n))
		}
	}
}
