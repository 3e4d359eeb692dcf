package notify

import (
	"fmt"
	"time"
)

// Defaults of Config. Each says why it is what it is.
const (
	// DefaultKeepalive is below the 30 s idle timeout of common proxies and
	// load balancers, so an idle stream is never cut by one.
	DefaultKeepalive = 25 * time.Second
	// DefaultRetention keeps a week of events: a laptop closed over a long
	// weekend still resumes without a reset.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultPurgeInterval is how often each node deletes events older than
	// the retention; deletes are idempotent across nodes.
	DefaultPurgeInterval = time.Minute
	// DefaultQueueSize bounds the frames waiting for one connection. A client
	// that falls this far behind is disconnected and resumes from its last
	// id, so it never holds memory or delays anyone else.
	DefaultQueueSize = 256
	// DefaultPollTimeout is the long-poll hold when the client names none.
	DefaultPollTimeout = 30 * time.Second
	// DefaultPollTimeoutMax caps the hold a client may ask for.
	DefaultPollTimeoutMax = 60 * time.Second
	// DefaultRetryHint is the SSE reconnect delay sent in the retry: line.
	DefaultRetryHint = 2 * time.Second
	// DefaultWriteTimeout is how long one write to a client may block before
	// the client counts as stuck and is disconnected.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultRingSize is how many recent events each node keeps in memory to
	// serve resumes (long polls above all) without a database query.
	DefaultRingSize = 4096
	// DefaultRingBytes bounds the memory of that ring: 4096 ordinary job
	// events (under 1 KB of data each) count under 40 MB (see ringCost),
	// so the count bounds the ring in normal use, and a burst of large
	// events (32 KB of data each, about 210 KB each once encoded) stops
	// at 64 MiB instead of the count's 850 MB. Events that fall out of
	// the ring are replayed from the database.
	DefaultRingBytes = 64 << 20
	// DefaultReplayPage is the number of rows read per replay query.
	DefaultReplayPage = 500
)

// Config tunes a Hub. The zero value of every field means its default.
type Config struct {
	// Keepalive is the interval of SSE comment lines and WebSocket pings
	// (BIRJOB_KEEPALIVE).
	Keepalive time.Duration
	// Retention is how long events are kept; a resume from before it gets a
	// reset event.
	Retention time.Duration
	// PurgeInterval is how often retention runs.
	PurgeInterval time.Duration
	// QueueSize bounds the frames queued for one connection.
	QueueSize int
	// PollTimeoutMax caps the long-poll timeout a client may ask for.
	PollTimeoutMax time.Duration
	// AllowedOrigins are extra WebSocket Origin host patterns (path.Match
	// syntax, e.g. "app.example.com"); the request's own host is always
	// allowed.
	AllowedOrigins []string
	// RetryHint is the reconnect delay sent to SSE clients at connect and at
	// shutdown.
	RetryHint time.Duration
	// WriteTimeout bounds one write to a client.
	WriteTimeout time.Duration
	// RingSize is the number of recent events kept in memory per node.
	RingSize int
	// RingBytes bounds the memory of those events, each counted with the
	// frames the transports may make of it (ringCost).
	RingBytes int64
	// MaxStreams caps the open streams of the node (SSE, WebSocket and long
	// polls together): past it a new one is answered 503 with Retry-After
	// before its connection is taken over, so that the node keeps the
	// descriptors it needs for its database, its API and /healthz. 0: from
	// the open-file limit (DefaultMaxStreams); negative: no cap.
	MaxStreams int
}

func (c Config) withDefaults() Config {
	if c.Keepalive <= 0 {
		c.Keepalive = DefaultKeepalive
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.PurgeInterval <= 0 {
		c.PurgeInterval = DefaultPurgeInterval
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.PollTimeoutMax <= 0 {
		c.PollTimeoutMax = DefaultPollTimeoutMax
	}
	if c.RetryHint <= 0 {
		c.RetryHint = DefaultRetryHint
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.RingSize <= 0 {
		c.RingSize = DefaultRingSize
	}
	if c.RingBytes <= 0 {
		c.RingBytes = DefaultRingBytes
	}
	if c.MaxStreams == 0 {
		c.MaxStreams = DefaultMaxStreams()
	}
	return c
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Keepalive < 100*time.Millisecond {
		return fmt.Errorf("notify: keepalive %s is too short (at least 100ms)", c.Keepalive)
	}
	if c.Retention < time.Minute {
		return fmt.Errorf("notify: retention %s is too short (at least 1m)", c.Retention)
	}
	return nil
}

// streamsWithin is the stream cap for an open-file limit of n: n less a
// reserve of a tenth, at least 256; 0 (no cap) when n leaves nothing or
// is beyond what an int holds.
func streamsWithin(n uint64) int {
	if n > 1<<40 {
		return 0 // unlimited, for all purposes
	}
	reserve := max(n/10, 256)
	if n <= reserve {
		return 0
	}
	return int(n - reserve)
}
