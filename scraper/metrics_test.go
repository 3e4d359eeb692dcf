package scraper

import (
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetrics_RunsJobsAndFetches: a run's postings, duration and fetches
// show in the scraper's metrics, under the source's name.
func TestMetrics_RunsJobsAndFetches(t *testing.T) {
	s, db := newTestService(t)
	board := &mutableBoard{}
	srv := httptest.NewServer(board)
	defer srv.Close()
	src := mustCreate(t, db, boardSource(srv.URL+"/"))
	m := s.metrics

	board.set(map[string]string{"1": "Go dev", "2": "SQL dev", "3": "Ops"}, 200)
	r := runOnce(t, s, src.ID)
	board.set(map[string]string{"1": "Senior Go dev", "2": "SQL dev", "3": "Ops"}, 200)
	r2 := runOnce(t, s, src.ID)
	board.set(nil, 503)
	runOnce(t, s, src.ID)

	if got := testutil.ToFloat64(m.jobs.WithLabelValues(src.Name, "new")); got != float64(r.New) || got != 3 {
		t.Errorf("jobs{new} = %v, want the first run's %d", got, r.New)
	}
	if got := testutil.ToFloat64(m.jobs.WithLabelValues(src.Name, "updated")); got != float64(r2.Updated) || got != 1 {
		t.Errorf("jobs{updated} = %v, want the second run's %d", got, r2.Updated)
	}
	if got := testutil.ToFloat64(m.fetches.WithLabelValues("200")); got < 2 {
		t.Errorf("fetches{200} = %v, want at least the two good runs' pages", got)
	}
	if got := testutil.ToFloat64(m.fetches.WithLabelValues("503")); got < 1 {
		t.Errorf("fetches{503} = %v, want the failing run's answer", got)
	}
	if got := testutil.ToFloat64(m.runs.WithLabelValues(src.Name, StatusFailed)); got != 1 {
		t.Errorf("runs{failed} = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(m.runDuration); n != 1 {
		t.Errorf("%d run-duration series, want one (the source)", n)
	}
}
