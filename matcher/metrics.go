package matcher

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/birjob/birjob/storage"
)

// metrics are the matcher's Prometheus metrics. The counters and
// histograms are this node's (sum them over nodes); the outbox's oldest
// pending change is read from the database at each scrape, so every node
// reports the same cluster-wide value.
type metrics struct {
	changes       *prometheus.CounterVec
	events        prometheus.Counter
	matchDuration prometheus.Histogram
	matchesPerJob prometheus.Histogram
	oldest        *prometheus.Desc
}

func newMetrics() *metrics {
	return &metrics{
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "birjob_matcher_job_changes_total",
			Help: "Job changes this node matched, by kind (new, listed, expired).",
		}, []string{"kind"}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "birjob_events_appended_total",
			Help: "Events this node's matcher appended to the event log (one per channel told).",
		}),
		matchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "birjob_match_duration_seconds",
			Help:    "Time to match one new job against every alert and feed in memory.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .1},
		}),
		matchesPerJob: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "birjob_matches_per_job",
			Help:    "Alerts a new job matched.",
			Buckets: []float64{0, 1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 100000},
		}),
		oldest: prometheus.NewDesc("birjob_outbox_oldest_pending_seconds",
			"Age of the oldest job change not matched yet (0: none pending).", nil, nil),
	}
}

// Collector returns the matcher's Prometheus collector (register it once).
func (w *Worker) Collector() prometheus.Collector { return (*collector)(w) }

type collector Worker

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	m := c.metrics
	for _, v := range []prometheus.Collector{m.changes, m.events, m.matchDuration, m.matchesPerJob} {
		v.Describe(ch)
	}
	ch <- m.oldest
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	m := c.metrics
	for _, v := range []prometheus.Collector{m.changes, m.events, m.matchDuration, m.matchesPerJob} {
		v.Collect(ch)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	age, err := c.store.OldestJobChangeAge(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(m.oldest, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(m.oldest, prometheus.GaugeValue, age.Seconds())
}

// counted records a committed batch's changes and events.
func (m *metrics) counted(changes []storage.JobChange, events int) {
	for _, c := range changes {
		m.changes.WithLabelValues(c.Kind).Inc()
	}
	m.events.Add(float64(events))
}
