package notify

import (
	"fmt"
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
)

// BenchmarkAppend measures writing events to the log: one event (a publish)
// and a batch of 1,000 (a matcher transaction with many targets, as in the
// personal-channel load run).
func BenchmarkAppend(b *testing.B) {
	pool := pgtest.New(b)
	for _, n := range []int{1, 1000} {
		evs := make([]model.Event, n)
		for i := range evs {
			evs[i] = modelEvent(model.UserChannel(int64(i+1)), "new-job", `{"title":"Go developer","company":"Acme","sent":1}`)
		}
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Append(b.Context(), pool, evs...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}

// BenchmarkEncode measures turning one stored event into the frames of all
// three transports (done once per event per node, never per client).
func BenchmarkEncode(b *testing.B) {
	data := []byte(`{"id": 1, "title": "Senior Go developer", "company": "Acme", "location": "Baku", "remote": true, "salary": {"min": 3000, "max": 5000, "currency": "AZN", "period": "month"}, "url": "https://jobs.example/1", "source": "demo"}`)
	now := time.Now()
	for b.Loop() {
		e := newEvt(123456789, "jobs", "new-job", now, data)
		e.sseBytes()
		e.wsBytes()
		e.pollBytes()
	}
}
