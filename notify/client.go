package notify

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"time"
)

// Transports, as named in metrics and Stats.
const (
	TransportSSE  = "sse"
	TransportWS   = "ws"
	TransportPoll = "poll"
)

// outItem is one frame waiting for a connection: an event (encoded per
// transport, shared by all connections) or a control frame of its own.
type outItem struct {
	ev     *evt
	raw    []byte
	replay bool // not live: left out of the latency histogram
}

// sink writes frames to one connection. write is never called concurrently
// for one sink by the flush loop; a transport that also writes from its own
// goroutine (replay, control answers) serialises inside the sink.
type sink interface {
	write(items []outItem, keepalive bool) error
	// abort closes the connection at once (slow or failed client).
	abort()
	// end closes the connection gracefully after a shutdown hint.
	end()
}

// client is one connection. It holds no goroutine of its own while idle:
// frames are queued by the hub's dispatch under mu, and a flush goroutine
// of the hub's writers (or the handler's goroutine, for transports that
// keep one) writes them. Idle cost is this struct, its subscriptions and the socket.
type client struct {
	hub       *Hub
	transport string
	sink      sink          // nil for handler-driven clients (poll)
	wake      chan struct{} // handler-driven clients only

	mu       sync.Mutex
	writing  time.Time // when the write in progress began (zero: none)
	out      []outItem
	spare    []outItem
	flushing bool
	kaDue    bool
	closed   bool
	ending   bool // flush what is queued, then end the connection
	full     bool // poll: queue full, later events were not taken
	ended    bool // the credential it was opened with has ended (sessions)
	subs     map[string]*sub

	bucket   int
	once     sync.Once
	finished chan struct{}
}

// sub is one subscription of a client: one channel, or several on one
// stream (registered under each of them in the hub). Ids are global and
// dispatched in id order, so one last id serves all its channels.
type sub struct {
	c       *client
	channel string // stored channel; the first one of several
	// others are the other stored channels of a stream of several; nil for
	// one (the common case costs no allocation).
	others *[]string
	last   int64 // highest id queued or written; lower ids are skipped
	// While a replay from the database runs, live events wait here.
	replaying bool
	pending   []*evt
}

// has reports whether channel (stored) is one of s's.
func (s *sub) has(channel string) bool {
	return channel == s.channel || s.others != nil && slices.Contains(*s.others, channel)
}

// channels returns s's stored channels.
func (s *sub) channels() []string {
	if s.others == nil {
		return []string{s.channel}
	}
	return append([]string{s.channel}, *s.others...)
}

func (h *Hub) newClient(transport string, s sink) *client {
	c := &client{hub: h, transport: transport, sink: s, finished: make(chan struct{})}
	if s == nil {
		c.wake = make(chan struct{}, 1)
	}
	return c
}

// push queues a live event for s. It never blocks; it returns false when
// the client is gone (or has just been dropped as too slow) so that the
// caller forgets the subscription. Called with h.mu held.
func (s *sub) push(e *evt) bool {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	if e.id <= s.last {
		return true
	}
	q := c.hub.cfg.QueueSize
	if s.replaying {
		if len(s.pending) >= q {
			c.slowLocked()
			return false
		}
		s.pending = append(s.pending, e)
		return true
	}
	if len(c.out) >= q {
		if c.sink == nil { // poll: answer with what it has; the rest follows on the next poll
			c.full = true
			c.kickLocked()
			return true
		}
		c.slowLocked()
		return false
	}
	s.last = e.id
	c.out = append(c.out, outItem{ev: e})
	c.kickLocked()
	return true
}

// slowLocked drops a client that cannot keep up. It resumes from its last
// id on reconnect, so nothing is lost and nobody else waits.
func (c *client) slowLocked() {
	if c.closed {
		return
	}
	c.closed = true
	c.out = nil
	c.hub.m.slow.WithLabelValues(c.transport).Inc()
	c.hub.log.Info("notify: slow client disconnected", "transport", c.transport, "queue_size", c.hub.cfg.QueueSize)
	go c.finish(true)
}

// enqueue queues a control frame.
func (c *client) enqueue(raw []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.out = append(c.out, outItem{raw: raw})
	c.kickLocked()
}

// kickLocked makes sure someone writes the queue: the handler goroutine of a
// handler-driven client, else a flush goroutine that lives until the queue
// is empty.
func (c *client) kickLocked() {
	if c.wake != nil {
		select {
		case c.wake <- struct{}{}:
		default:
		}
		return
	}
	if c.flushing {
		return
	}
	c.flushing = true
	c.hub.writers.start(c)
}

// peerChecker is a sink that can tell, without blocking, that its peer
// has closed the connection (sseSink on a hijacked connection).
type peerChecker interface{ peerGone() bool }

// keepalive is the wheel's visit, once per keepalive interval: a client
// whose peer has left is closed now (a keepalive write into the kernel's
// buffer would succeed, and only the next one, an interval later, fail);
// the others get a keepalive frame.
func (c *client) keepalive() {
	if pc, ok := c.sink.(peerChecker); ok && pc.peerGone() {
		c.hub.log.Debug("notify: peer closed the connection", "transport", c.transport)
		c.finish(true)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.kaDue = true
	c.kickLocked()
}

// checkStuck disconnects c when the write in progress began more than
// WriteTimeout before now: the peer reads nothing (its socket buffer is
// full). As slow as a full queue; it resumes from its last id.
func (c *client) checkStuck(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.writing.IsZero() || now.Sub(c.writing) <= c.hub.cfg.WriteTimeout {
		return
	}
	c.closed = true
	c.out = nil
	c.hub.m.slow.WithLabelValues(c.transport).Inc()
	c.hub.log.Info("notify: stuck client disconnected", "transport", c.transport, "write_blocked", now.Sub(c.writing).Round(time.Millisecond))
	go c.finish(true)
}

// take removes and returns the queued frames.
func (c *client) take() ([]outItem, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	items := c.out
	c.out = c.spare[:0]
	c.spare = nil
	ka := c.kaDue
	c.kaDue = false
	return items, ka
}

func (c *client) flushLoop() {
	for {
		c.mu.Lock()
		if c.closed {
			c.flushing = false
			c.mu.Unlock()
			return
		}
		if len(c.out) == 0 && !c.kaDue {
			c.flushing = false
			ending := c.ending
			if ending {
				c.closed = true
			}
			c.mu.Unlock()
			if ending {
				c.sink.end()
				c.finish(false)
			}
			return
		}
		items := c.out
		c.out = c.spare[:0]
		c.spare = nil
		ka := c.kaDue
		c.kaDue = false
		c.writing = time.Now()
		c.mu.Unlock()

		err := c.sink.write(items, ka)
		if err == nil {
			c.hub.delivered(c.transport, items)
		}
		clear(items)
		c.mu.Lock()
		c.writing = time.Time{}
		if c.spare == nil && cap(items) <= 2*c.hub.cfg.QueueSize {
			c.spare = items[:0]
		}
		c.mu.Unlock()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
				// Stuck for WriteTimeout: as slow as a full queue.
				c.hub.m.slow.WithLabelValues(c.transport).Inc()
				c.hub.log.Info("notify: stuck client disconnected", "transport", c.transport, "err", err)
			} else {
				c.hub.log.Debug("notify: write failed", "transport", c.transport, "err", err)
			}
			c.finish(true)
			return
		}
	}
}

// finish ends the client once: closes its connection (abort) when asked,
// and forgets its subscriptions.
func (c *client) finish(abort bool) {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		if abort && c.sink != nil {
			c.sink.abort()
		}
		c.hub.forget(c)
		close(c.finished)
	})
}

// endGracefully asks the client to flush what it has, send the shutdown
// hint and close.
func (c *client) endGracefully(hint []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.ending {
		return
	}
	c.ending = true
	if hint != nil {
		c.out = append(c.out, outItem{raw: hint})
	}
	c.kickLocked()
}

// clientDeadline is a write deadline for one write.
func (h *Hub) clientDeadline() time.Time { return time.Now().Add(h.cfg.WriteTimeout) }
