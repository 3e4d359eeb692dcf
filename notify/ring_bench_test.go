package notify

import (
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkRing_Retained32KB measures the memory a node keeps for a burst
// of large events: 1,170 events with 32 KB of data each pass through the
// hub, each encoded for every transport as a node with clients of all
// three does, and the heap is measured after a collection (the events
// are held by nothing but the ring).
func BenchmarkRing_Retained32KB(b *testing.B) {
	const events = 1170
	data := `{"pad": "` + strings.Repeat("x", 32<<10) + `"}`
	var retained float64
	for b.Loop() {
		h := NewHub(nil, Config{}, slog.New(slog.DiscardHandler), nil)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range events {
			e := newEvt(int64(i+1), "jobs", "new-job", time.Now(), []byte(data))
			h.dispatch([]*evt{e})
			e.sseBytes()
			e.wsBytes()
			e.pollBytes()
			e.wsFrame()
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		retained = float64(after.HeapAlloc) - float64(before.HeapAlloc)
		runtime.KeepAlive(h)
	}
	b.ReportMetric(retained/(1<<20), "MiB-retained")
}
