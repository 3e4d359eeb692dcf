package notify

import (
	"sync"
	"sync/atomic"
	"time"
)

// writers runs the flushes of connections that hold no goroutine of their
// own (SSE, WebSocket). A flush is handed to a goroutine that has flushed
// before and is waiting for more, or to a new one when none is waiting:
// a stuck write holds up only its own goroutine, never the others'
// clients, and the pool grows with the work. Reuse matters in a burst:
// a new goroutine starts on a small stack and grows it (a stack copy)
// on the write path of every flush, which cost about a tenth of the
// server's CPU in a 1,000-event publish (see BENCHMARKS.md).
//
// Each writer goroutine has a slot naming the client it is flushing, so
// that the hub's watchdog (Hub.findStuckWrites) visits only the flushes in
// progress, not every connection: slots change when a goroutine starts or
// ends, never per write.
type writers struct {
	handoff chan *client // unbuffered: a send succeeds only when a writer waits
	waiting atomic.Int32
	spawned atomic.Int64  // goroutines started, for tests
	maxIdle int32         // writers kept waiting at most; the others end
	linger  time.Duration // how long a writer waits for more work
	done    <-chan struct{}

	mu    sync.Mutex
	slots map[*writerSlot]struct{} // one per running writer goroutine
}

// writerSlot is one writer goroutine: the client it is flushing, if any.
type writerSlot struct{ c atomic.Pointer[client] }

func newWriters(done <-chan struct{}) *writers {
	return &writers{handoff: make(chan *client), maxIdle: 128, linger: 5 * time.Second, done: done,
		slots: make(map[*writerSlot]struct{})}
}

// flushing appends the clients being flushed now to dst.
func (w *writers) flushing(dst []*client) []*client {
	w.mu.Lock()
	defer w.mu.Unlock()
	for sl := range w.slots {
		if c := sl.c.Load(); c != nil {
			dst = append(dst, c)
		}
	}
	return dst
}

// start makes sure c is flushed. It never blocks.
func (w *writers) start(c *client) {
	select {
	case w.handoff <- c:
	default:
		w.spawned.Add(1)
		go w.run(c)
	}
}

func (w *writers) run(c *client) {
	sl := &writerSlot{}
	w.mu.Lock()
	w.slots[sl] = struct{}{}
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.slots, sl)
		w.mu.Unlock()
	}()
	var t *time.Timer
	for {
		sl.c.Store(c)
		c.flushLoop()
		sl.c.Store(nil)
		if w.waiting.Add(1) > w.maxIdle {
			w.waiting.Add(-1)
			return
		}
		if t == nil {
			t = time.NewTimer(w.linger)
		} else {
			t.Reset(w.linger)
		}
		select {
		case c = <-w.handoff:
			w.waiting.Add(-1)
		case <-t.C:
			w.waiting.Add(-1)
			return
		case <-w.done:
			w.waiting.Add(-1)
			t.Stop()
			return
		}
	}
}
