package matcher

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/birjob/birjob/model"
)

// TestMetrics_MatchAndOutbox: the outbox's oldest pending change shows
// while it waits and goes to 0 once matched; matched changes, appended
// events, match time and matches per job are counted.
func TestMetrics_MatchAndOutbox(t *testing.T) {
	f := newFixture(t)
	ann, bob := f.user("ann@x"), f.user("bob@x")
	f.alert(ann, model.Criteria{Query: "golang"})
	f.alert(bob, model.Criteria{Query: "golang"})
	w := NewWorker(f.pool, testLogger())
	reg := prometheus.NewRegistry()
	reg.MustRegister(w.Collector())
	oldest := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "birjob_outbox_oldest_pending_seconds" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no birjob_outbox_oldest_pending_seconds")
		return 0
	}
	job := f.job(model.Job{Title: "Golang developer", URL: "https://x/1"})
	f.exec(`UPDATE job_changes SET created_at = now() - interval '90 seconds'`) // it has waited
	if got := oldest(); got < 89 {
		t.Fatalf("oldest pending = %v s, want about 90 while the change waits", got)
	}
	if _, err := w.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.expire(job)
	if _, err := w.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := oldest(); got != 0 {
		t.Errorf("oldest pending = %v s after draining, want 0", got)
	}
	m := w.metrics
	if got := testutil.ToFloat64(m.changes.WithLabelValues("new")); got != 1 {
		t.Errorf("changes{new} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.changes.WithLabelValues("expired")); got != 1 {
		t.Errorf("changes{expired} = %v, want 1", got)
	}
	// jobs + ann + bob for the new job, and the same three for its expiry.
	if got := testutil.ToFloat64(m.events); got != 6 {
		t.Errorf("events appended = %v, want 6", got)
	}
	var hist struct{ count uint64 }
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "birjob_matches_per_job" {
			h := mf.GetMetric()[0].GetHistogram()
			hist.count = h.GetSampleCount()
			if h.GetSampleSum() != 2 {
				t.Errorf("matches per job sum = %v, want 2 (ann's and bob's alerts)", h.GetSampleSum())
			}
		}
	}
	if hist.count != 1 {
		t.Errorf("matches-per-job samples = %d, want 1 (one new job)", hist.count)
	}
}
