package notify

import (
	"bytes"
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"
)

// gateSink is a sink whose writes wait for a gate (nil: no wait) and then
// report what they wrote.
type gateSink struct {
	gate  chan struct{}
	wrote chan string
}

func (s *gateSink) write(items []outItem, _ bool) error {
	if s.gate != nil {
		<-s.gate
	}
	for _, it := range items {
		s.wrote <- string(it.raw)
	}
	return nil
}
func (s *gateSink) abort() {}
func (s *gateSink) end()   {}

func recv(t *testing.T, ch chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(waitFor):
		t.Fatal("no write in time")
		return ""
	}
}

// A write that never returns holds up its own writer only: the next
// client's flush runs on another goroutine. A writer that is done waits
// for more work and takes the next flush instead of a new goroutine
// starting; shutdown ends the waiting writers.
func TestWriters_StuckWriteIsolatedAndWritersReused(t *testing.T) {
	h := NewHub(nil, Config{}, slog.New(slog.DiscardHandler), nil)
	w := h.writers

	stuck := &gateSink{gate: make(chan struct{}), wrote: make(chan string, 1)}
	a := h.newClient(TransportSSE, stuck)
	a.enqueue([]byte("a1"))

	free := &gateSink{wrote: make(chan string, 4)}
	b := h.newClient(TransportSSE, free)
	b.enqueue([]byte("b1"))
	if got := recv(t, free.wrote); got != "b1" {
		t.Fatalf("b wrote %q", got)
	}
	if n := w.spawned.Load(); n != 2 {
		t.Fatalf("%d writers started for two clients, one stuck; want 2", n)
	}

	// b's writer is now waiting for work: b's next frame reuses it. It
	// counts itself waiting before it reaches the select that takes the
	// work: wait for it to be there, or the handoff finds no taker.
	waitUntil(t, "a waiting writer", func() bool { return w.waiting.Load() == 1 && writersParked(w) == 1 })
	b.enqueue([]byte("b2"))
	if got := recv(t, free.wrote); got != "b2" {
		t.Fatalf("b wrote %q", got)
	}
	if n := w.spawned.Load(); n != 2 {
		t.Fatalf("%d writers started; the waiting one should have taken b's second flush", n)
	}

	close(stuck.gate)
	if got := recv(t, stuck.wrote); got != "a1" {
		t.Fatalf("a wrote %q", got)
	}
	waitUntil(t, "both writers waiting", func() bool { return w.waiting.Load() == 2 })
	h.Shutdown(t.Context())
	waitUntil(t, "writers to end at shutdown", func() bool { return w.waiting.Load() == 0 })
}

// The WebSocket write buffers are shared by all of a hub's connections and
// survive garbage collections (a sync.Pool per connection, as before, gave
// every personal event a fresh 4 KB buffer once a collection had run).
func TestBufferPool_SharedAndKeptAcrossGC(t *testing.T) {
	h := NewHub(nil, Config{}, slog.New(slog.DiscardHandler), nil)
	p, ok := h.wsUp.WriteBufferPool.(*bufferPool)
	if !ok {
		t.Fatalf("write buffer pool is a %T, not the bounded free list", h.wsUp.WriteBufferPool)
	}
	if p.Get() != nil {
		t.Fatal("new pool is not empty")
	}
	buf := &[]byte{1}
	p.Put(buf)
	runtime.GC()
	runtime.GC()
	if got := p.Get(); got != buf {
		t.Fatalf("buffer lost across garbage collections: got %v", got)
	}
	bp := newBufferPool(2)
	for range 3 {
		bp.Put(&[]byte{})
	}
	if n := len(bp.free); n != 2 {
		t.Fatalf("pool of 2 holds %d buffers", n)
	}
}

// writersParked counts w's writer goroutines blocked in the select that
// waits for more work (their stack's top frame is w's run).
func writersParked(w *writers) int {
	top := []byte(fmt.Sprintf("github.com/birjob/birjob/notify.(*writers).run(%p,", w))
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	parked := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		head, rest, _ := bytes.Cut(g, []byte("\n"))
		if bytes.Contains(head, []byte("[select")) && bytes.HasPrefix(rest, top) {
			parked++
		}
	}
	return parked
}
