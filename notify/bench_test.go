package notify

import (
	"testing"
	"time"

	"github.com/birjob/birjob/internal/pgtest"
	"github.com/birjob/birjob/model"
	"github.com/birjob/birjob/storage"
)

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

// BenchmarkCatchUp measures the hub's read path: reading pages of the log
// after the cursor and dispatching them (no subscribers), as Run does after
// each notification.
func BenchmarkCatchUp(b *testing.B) {
	const n = 5000
	pool := pgtest.New(b)
	evs := make([]model.Event, n)
	for i := range evs {
		evs[i] = modelEvent(model.UserChannel(int64(i+1)), "new-job", `{"title":"Go developer","company":"Acme","sent":1}`)
	}
	if _, err := storage.New(pool).AppendEvents(b.Context(), evs...); err != nil {
		b.Fatal(err)
	}
	h := NewHub(pool, Config{}, nil, nil)
	conn, err := pool.Acquire(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	events := storage.New(conn.Conn()) // as Run does, on one connection
	b.ReportAllocs()
	for b.Loop() {
		h.mu.Lock()
		h.cursor, h.ringFloor, h.ring, h.ringBytes = 0, 0, nil, 0
		h.mu.Unlock()
		if err := h.catchUp(b.Context(), events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}
