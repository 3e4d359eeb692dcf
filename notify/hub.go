package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/birjob/birjob/storage"
)

// NotifyChannel is the PostgreSQL LISTEN channel the events trigger
// notifies on every committed insert.
const NotifyChannel = "birjob_events"

// ErrShuttingDown is returned to subscribers arriving after Shutdown.
var ErrShuttingDown = errors.New("notify: hub is shutting down")

// kaBuckets is the number of slots of the keepalive wheel: each client is
// visited once per keepalive interval, spread over the interval so that
// keepalives do not all go out at the same moment.
const kaBuckets = 50

// Hub is one node's notification hub: it follows the event log from its
// cursor (woken by LISTEN/NOTIFY), fans events out to the connections of
// this node, and serves SSE, WebSocket and long polling.
type Hub struct {
	pool  *pgxpool.Pool // for the LISTEN connection's configuration
	store *storage.Store
	cfg   Config
	log   *slog.Logger
	m     *metrics

	mu        sync.Mutex
	cursor    int64         // highest event id dispatched
	advanced  chan struct{} // closed (and replaced) when the cursor moves
	ready     chan struct{}
	readyOnce sync.Once
	subs      map[string]map[*sub]struct{}
	ring      []*evt // recent events, ascending; holds every event in (ringFloor, cursor]
	ringFloor int64
	ringBytes int64 // the ring's events' ringCost
	clients   [kaBuckets]map[*client]struct{}
	nextBkt   int
	closing   bool
	conns     [3]int       // by transport index
	open      atomic.Int64 // sum of conns, read without mu by admit
	sess      sessions     // connections by the credential they were opened with

	shutdownCh chan struct{}
	shutOnce   sync.Once
	writers    *writers
	wsUp       *websocket.Upgrader // one for all connections, so they share its write buffers

	listenPID atomic.Uint32 // backend pid of the LISTEN connection (tests)
	listening atomic.Bool

	feeds sync.Map // feed name → expiry (time.Time) of a positive lookup

	rateMu  sync.Mutex
	rate    [60]uint64
	rateSec [60]int64
	total   atomic.Uint64
}

// NewHub returns a hub on pool. reg receives the hub's metrics (nil: a
// private registry). Call Run to start it and Routes to serve it.
func NewHub(pool *pgxpool.Pool, cfg Config, log *slog.Logger, reg prometheus.Registerer) *Hub {
	if log == nil {
		log = slog.Default()
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	h := &Hub{
		pool:       pool,
		store:      storage.New(pool),
		cfg:        cfg.withDefaults(),
		log:        log,
		m:          newMetrics(reg),
		ready:      make(chan struct{}),
		advanced:   make(chan struct{}),
		subs:       make(map[string]map[*sub]struct{}),
		shutdownCh: make(chan struct{}),
	}
	h.writers = newWriters(h.shutdownCh)
	h.wsUp = h.newWSUpgrader()
	for i := range h.clients {
		h.clients[i] = make(map[*client]struct{})
	}
	return h
}

// Routes registers the hub's stream endpoints on mux. (POST
// /api/publish/{channel} is package api's.)
func (h *Hub) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/events/{channel}", h.handleSSE)
	mux.HandleFunc("GET /api/events", h.handleSSE)
	mux.HandleFunc("GET /api/ws", h.handleWS)
	mux.HandleFunc("GET /api/poll/{channel}", h.handlePoll)
	mux.HandleFunc("GET /api/poll", h.handlePoll)
}

// Run follows the event log until ctx ends: LISTEN on a dedicated
// connection, read every event after the cursor, dispatch, wait for the
// next notification. A lost connection is re-established and the hub
// catches up from its cursor, so nothing is missed. Run also runs the
// retention purge and the keepalive wheel. It returns nil when ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); h.keepaliveLoop(ctx) }()
	go func() { defer wg.Done(); h.purgeLoop(ctx) }()
	defer wg.Wait()

	backoff := listenRetryMin
	for {
		err := h.follow(ctx)
		if h.listening.Swap(false) {
			backoff = listenRetryMin // it had been up: retry soon
		}
		if ctx.Err() != nil {
			return nil
		}
		h.m.reconnects.Inc()
		h.log.Warn("notify: event log listener lost; reconnecting", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, listenRetryMax)
	}
}

// The LISTEN connection's reconnect backoff: from listenRetryMin, doubling
// while connecting fails, up to listenRetryMax, so events committed after
// the database comes back reach the streams within about a second (a 5 s
// cap held them up to 5 s; see internal/faulttest).
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = time.Second
)

// follow runs one LISTEN connection until it fails.
func (h *Hub) follow(ctx context.Context) error {
	cfg := h.pool.Config().ConnConfig.Copy()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("notify: connect listener: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	for _, ch := range []string{NotifyChannel, SessionsChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return fmt.Errorf("notify: listen: %w", err)
		}
	}
	h.listenPID.Store(conn.PgConn().PID())
	events := storage.New(conn)
	// The cursor starts at the end of the log as it is after LISTEN, so no
	// commit between the two is missed.
	select {
	case <-h.ready:
	default:
		maxID, err := events.LastEventID(ctx)
		if err != nil {
			return fmt.Errorf("notify: %w", err)
		}
		h.mu.Lock()
		h.cursor, h.ringFloor = maxID, maxID
		h.mu.Unlock()
		h.readyOnce.Do(func() { close(h.ready) })
		h.log.Info("notify: hub following the event log", "cursor", maxID)
	}
	// Sessions that ended while no listener was up.
	if err := h.recheckSessions(ctx, events); err != nil {
		return err
	}
	h.listening.Store(true)
	for catchUp := true; ; {
		if catchUp {
			if err := h.catchUp(ctx, events); err != nil {
				return err
			}
		}
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("notify: wait for notification: %w", err)
		}
		if catchUp = n.Channel != SessionsChannel; !catchUp {
			h.endSession(n.Payload)
		}
	}
}

const catchUpPage = 1000

// catchUp reads (through events, a Store on the LISTEN connection) and
// dispatches every event after the cursor.
func (h *Hub) catchUp(ctx context.Context, events *storage.Store) error {
	var batch []*evt
	add := func(id int64, channel, typ string, created time.Time, data []byte) error {
		batch = append(batch, newEvt(id, channel, typ, created, data))
		return nil
	}
	for {
		h.mu.Lock()
		from := h.cursor
		h.mu.Unlock()
		batch = nil // dispatched events stay in the ring: never reuse the array
		n, err := events.EventsAfter(ctx, from, catchUpPage, add)
		if err != nil {
			return fmt.Errorf("notify: %w", err)
		}
		h.dispatch(batch)
		if len(batch) > 0 {
			h.mu.Lock()
			close(h.advanced)
			h.advanced = make(chan struct{})
			h.mu.Unlock()
		}
		if n < catchUpPage {
			return nil
		}
	}
}

// dispatch hands events to the subscribers of their channels. It never
// blocks on a connection.
func (h *Hub) dispatch(batch []*evt) {
	if len(batch) == 0 {
		return
	}
	h.mu.Lock()
	// Counted (Stats' EventsTotal and rate) before the fan-out, like the
	// published counter: a client may have the event before this returns.
	n := 0
	for _, e := range batch {
		if e.id > h.cursor {
			n++
		}
	}
	if n > 0 {
		h.countRate(n)
	}
	for _, e := range batch {
		if e.id <= h.cursor {
			continue
		}
		h.cursor = e.id
		h.ringPushLocked(e)
		// Counted before its fan-out: a flush goroutine may count the
		// delivery before this loop ends.
		h.m.published.Inc()
		e.fanout = len(h.subs[e.channel])
		for s := range h.subs[e.channel] {
			if !s.push(e) {
				h.dropSubLocked(s)
			}
		}
	}
	h.ringTrimLocked()
	h.mu.Unlock()
}

func (h *Hub) dropSubLocked(s *sub) {
	h.dropFromLocked(s, s.channel)
	if s.others != nil {
		for _, ch := range *s.others {
			h.dropFromLocked(s, ch)
		}
	}
}

func (h *Hub) dropFromLocked(s *sub, channel string) {
	if m := h.subs[channel]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(h.subs, channel)
		}
	}
}

// waitReady waits until Run has found the end of the log.
func (h *Hub) waitReady(ctx context.Context) error {
	select {
	case <-h.shutdownCh:
		return ErrShuttingDown
	default:
	}
	select {
	case <-h.ready:
		return nil
	case <-h.shutdownCh:
		return ErrShuttingDown
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errFull refuses a stream when the node holds Config.MaxStreams.
var errFull = errors.New("notify: this node holds as many streams as it may")

// admit refuses a new stream when the node holds Config.MaxStreams open
// ones. It is checked before a connection is hijacked or upgraded, so the
// refusal is an ordinary 503; streams admitted at the same moment may
// pass the cap by a few, which is what the reserve below the open-file
// limit is for.
func (h *Hub) admit() error {
	if h.cfg.MaxStreams > 0 && h.open.Load() >= int64(h.cfg.MaxStreams) {
		h.m.refused.Inc()
		return errFull
	}
	return nil
}

// addClient registers a connection (metrics, keepalive wheel), opened
// with credential session ("" for none; see sessionOf).
func (h *Hub) addClient(c *client, session string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return ErrShuttingDown
	}
	if !h.sess.trackLocked(c, session) {
		return errSessionEnded
	}
	c.bucket = h.nextBkt
	h.nextBkt = (h.nextBkt + 1) % kaBuckets
	h.clients[c.bucket][c] = struct{}{}
	h.conns[transportIndex(c.transport)]++
	h.open.Add(1)
	h.m.connections.WithLabelValues(c.transport).Inc()
	return nil
}

// forget removes a finished client and its subscriptions.
func (h *Hub) forget(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c.bucket][c]; ok {
		delete(h.clients[c.bucket], c)
		h.conns[transportIndex(c.transport)]--
		h.open.Add(-1)
		h.m.connections.WithLabelValues(c.transport).Dec()
	}
	h.sess.untrackLocked(c)
	c.mu.Lock()
	subs := c.subs
	c.subs = nil
	c.mu.Unlock()
	for _, s := range subs {
		h.dropSubLocked(s)
	}
}

func transportIndex(t string) int {
	switch t {
	case TransportSSE:
		return 0
	case TransportWS:
		return 1
	default:
		return 2
	}
}

// replayPlan says what a new subscription still needs from the database.
type replayPlan struct {
	fromDB bool
	from   int64 // replay ids in (from, upto]
	upto   int64
	// ahead: the client resumes from beyond this node's cursor (upto).
	// Either this node is behind the one the client came from, or the
	// client is beyond the end of the log; the database tells which.
	ahead bool
}

// subscribe registers c on the stored channels (one, or several on one
// stream, under the key room) from position `from` (hasFrom false: from
// now on). Events after the hub's cursor arrive live; missed events up to
// the cursor come from the in-memory ring (queued at once, merged in id
// order) or, when older than the ring, are left to the caller to replay
// from the database (plan.fromDB; live events wait in the subscription
// meanwhile). The seam is exact: the cursor is read under the same lock
// that dispatch holds. A position beyond the cursor is left to the caller
// too (plan.ahead), with live events waiting.
func (h *Hub) subscribe(c *client, channels []string, room string, from int64, hasFrom bool) (*sub, replayPlan, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return nil, replayPlan{}, ErrShuttingDown
	}
	s := &sub{c: c, channel: channels[0]}
	if len(channels) > 1 {
		others := channels[1:]
		s.others = &others
	}
	var plan replayPlan
	c.mu.Lock()
	if c.closed {
		ended := c.ended
		c.mu.Unlock()
		if ended {
			return nil, plan, errSessionEnded
		}
		return nil, plan, errors.New("notify: connection closed")
	}
	if c.subs == nil {
		c.subs = make(map[string]*sub, 1)
	}
	if old := c.subs[room]; old != nil {
		h.dropSubLocked(old)
	}
	c.subs[room] = s
	switch {
	case !hasFrom || from == h.cursor:
		s.last = h.cursor
	case from > h.cursor:
		s.last = h.cursor
		s.replaying = true
		plan = replayPlan{fromDB: true, ahead: true, from: from, upto: h.cursor}
	case from >= h.ringFloor:
		n := 0
		for _, e := range h.ringAfterLocked(from) {
			if s.has(e.channel) {
				c.out = append(c.out, outItem{ev: e, replay: true})
				n++
			}
		}
		s.last = h.cursor
		if n > 0 {
			h.m.replayed.WithLabelValues(c.transport).Add(float64(n))
			c.kickLocked()
		}
	default:
		s.last = from
		s.replaying = true
		plan = replayPlan{fromDB: true, from: from, upto: h.cursor}
	}
	c.mu.Unlock()
	for _, ch := range channels {
		m := h.subs[ch]
		if m == nil {
			m = make(map[*sub]struct{})
			h.subs[ch] = m
		}
		m[s] = struct{}{}
	}
	return s, plan, nil
}

// ringAfterLocked returns the ring's events with id > from.
func (h *Hub) ringAfterLocked(from int64) []*evt {
	lo, hi := 0, len(h.ring)
	for lo < hi {
		mid := (lo + hi) / 2
		if h.ring[mid].id <= from {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return h.ring[lo:]
}

// unsubscribe removes one subscription of c.
func (h *Hub) unsubscribe(c *client, room string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	c.mu.Lock()
	s := c.subs[room]
	delete(c.subs, room)
	c.mu.Unlock()
	if s == nil {
		return false
	}
	h.dropSubLocked(s)
	return true
}

// replayPage reads up to DefaultReplayPage events of channels in (from,
// upto], merged in id order.
func (h *Hub) replayPage(ctx context.Context, channels []string, from, upto int64) ([]*evt, error) {
	var evs []*evt
	_, err := h.store.ChannelEvents(ctx, channels, from, upto, DefaultReplayPage,
		func(id int64, channel, typ string, created time.Time, data []byte) error {
			evs = append(evs, newEvt(id, channel, typ, created, data))
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("notify: replay: %w", err)
	}
	return evs, nil
}

// purgedUpto reads the highest id removed by retention.
func (h *Hub) purgedUpto(ctx context.Context) (int64, error) {
	upto, err := h.store.PurgedUpto(ctx)
	if err != nil {
		return 0, fmt.Errorf("notify: %w", err)
	}
	return upto, nil
}

// replayDB replays plan for s from the database through write (which
// writes frames to the connection directly, before any live frame), then
// releases the live events that waited. A resume from before the retention
// gets a reset event instead of the replay, and so does one from beyond
// the end of the log.
func (h *Hub) replayDB(ctx context.Context, s *sub, plan replayPlan, write func([]*evt) error) error {
	if plan.ahead {
		return h.resolveAhead(ctx, s, plan, write)
	}
	purged, err := h.purgedUpto(ctx)
	if err != nil {
		return err
	}
	from := plan.from
	if from < purged {
		r := resetEvt(plan.upto, s.resetChannel(), resetRetention)
		if err := write([]*evt{r}); err != nil {
			return err
		}
		from = plan.upto
	}
	for from < plan.upto {
		evs, err := h.replayPage(ctx, s.channels(), from, plan.upto)
		if err != nil {
			return err
		}
		if len(evs) > 0 {
			if err := write(evs); err != nil {
				return err
			}
			h.m.replayed.WithLabelValues(s.c.transport).Add(float64(len(evs)))
		}
		if len(evs) < DefaultReplayPage {
			break
		}
		from = evs[len(evs)-1].id
	}
	h.endReplay(s, plan.upto)
	return nil
}

// aheadWait is how long a resume from beyond the node's cursor waits for
// the node to catch up before the database is asked whether the position
// exists at all.
const aheadWait = 100 * time.Millisecond

// resolveAhead settles a resume from beyond this node's cursor
// (plan.upto). If the database has the client's position, this node is
// merely behind the one the client came from: the subscription continues
// after that position once the node catches up. Otherwise the client is
// ahead of the log (a restored backup, a confused client) and gets a reset
// whose id is this node's cursor, the position to continue from. Live
// events wait in the subscription meanwhile, so none is lost or doubled.
func (h *Hub) resolveAhead(ctx context.Context, s *sub, plan replayPlan, write func([]*evt) error) error {
	// A node that is behind usually catches up within milliseconds (the
	// NOTIFY of the client's event is on its way): wait a moment for that
	// before asking the database, so that clients moving between nodes
	// (long polls behind a load balancer) cost no query.
	t := time.NewTimer(aheadWait)
	defer t.Stop()
	for {
		h.mu.Lock()
		cursor, advanced := h.cursor, h.advanced
		h.mu.Unlock()
		if plan.from <= cursor {
			h.endReplay(s, plan.from)
			return nil
		}
		select {
		case <-advanced:
			continue
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		break
	}
	end, err := h.store.LogEnd(ctx)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if plan.from <= end {
		h.endReplay(s, plan.from)
		return nil
	}
	if err := write([]*evt{resetEvt(plan.upto, s.resetChannel(), resetAhead)}); err != nil {
		return err
	}
	h.endReplay(s, plan.upto)
	return nil
}

// endReplay moves the live events that waited during a replay to the queue.
func (h *Hub) endReplay(s *sub, upto int64) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	s.replaying = false
	if upto > s.last {
		s.last = upto
	}
	for _, e := range s.pending {
		if e.id > s.last {
			c.out = append(c.out, outItem{ev: e})
			s.last = e.id
		}
	}
	s.pending = nil
	if len(c.out) > 0 && !c.closed {
		c.kickLocked()
	}
}

// MemberCount returns the number of subscriptions to the stored channel
// (as PublishTarget returns it) on this node.
func (h *Hub) MemberCount(channel string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[channel])
}

// Cursor returns the id of the last event this node has dispatched.
func (h *Hub) Cursor() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cursor
}

// keepaliveLoop runs the keepalive wheel (each client visited once per
// Keepalive, a slot every Keepalive/kaBuckets) and the watchdog of
// blocked writes (every watchdogPeriod).
func (h *Hub) keepaliveLoop(ctx context.Context) {
	t := time.NewTicker(h.cfg.Keepalive / kaBuckets)
	defer t.Stop()
	wd := time.NewTicker(h.watchdogPeriod())
	defer wd.Stop()
	b := 0
	var batch []*client
	for {
		select {
		case <-ctx.Done():
			return
		case <-wd.C:
			batch = h.findStuckWrites(batch[:0])
			clear(batch)
			continue
		case <-t.C:
		}
		h.mu.Lock()
		batch = batch[:0]
		for c := range h.clients[b] {
			if c.sink != nil {
				batch = append(batch, c)
			}
		}
		h.mu.Unlock()
		for _, c := range batch {
			c.keepalive()
		}
		clear(batch)
		b = (b + 1) % kaBuckets
	}
}

// watchdogPeriod is how often blocked writes are looked for: a tenth of
// WriteTimeout (at most a second), so a blocked write is found within
// WriteTimeout plus a tenth.
func (h *Hub) watchdogPeriod() time.Duration {
	return min(max(h.cfg.WriteTimeout/10, 10*time.Millisecond), time.Second)
}

// findStuckWrites disconnects the clients whose write in progress has
// blocked for WriteTimeout. It visits only the flushes in progress (one
// per busy writer goroutine), so its cost does not grow with idle
// connections. buf is scratch space, returned for reuse.
func (h *Hub) findStuckWrites(buf []*client) []*client {
	buf = h.writers.flushing(buf)
	now := time.Now()
	for _, c := range buf {
		c.checkStuck(now)
	}
	return buf
}

func (h *Hub) purgeLoop(ctx context.Context) {
	t := time.NewTicker(h.cfg.PurgeInterval)
	defer t.Stop()
	for {
		if _, err := h.purge(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("notify: retention purge failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// purge deletes the events older than the retention. It removes a prefix
// of the log (every id up to the newest expired one), records it in
// event_retention so that resumes from before it get a reset, and drops it
// from the ring.
func (h *Hub) purge(ctx context.Context) (int64, error) {
	var upto int64
	err := h.store.Tx(ctx, func(tx *storage.Store) error {
		var err error
		if upto, err = tx.LastEventOlderThan(ctx, h.cfg.Retention); err != nil || upto == 0 {
			return err
		}
		return tx.PurgeEventsUpto(ctx, upto)
	})
	if err != nil {
		return 0, fmt.Errorf("notify: purge: %w", err)
	}
	if upto > 0 {
		h.mu.Lock()
		if upto > h.ringFloor {
			i := 0
			for i < len(h.ring) && h.ring[i].id <= upto {
				h.ringBytes -= h.ring[i].cost
				i++
			}
			h.ringDropLocked(i)
			h.ringFloor = upto
		}
		h.mu.Unlock()
		h.log.Info("notify: retention purged events", "purged_upto", upto)
	}
	return upto, nil
}

// Shutdown ends every stream with a retry hint so that clients resume,
// from their last id, on another node (or this one after a restart), and
// waits for them to close until ctx ends or shutdownGrace has passed;
// then it closes the rest. Call it before http.Server.Shutdown: hijacked
// connections (WebSockets, SSE) are not tracked by net/http.
func (h *Hub) Shutdown(ctx context.Context) {
	h.shutOnce.Do(func() { close(h.shutdownCh) })
	h.mu.Lock()
	h.closing = true
	var all []*client
	for _, b := range h.clients {
		for c := range b {
			all = append(all, c)
		}
	}
	h.mu.Unlock()
	for _, c := range all {
		switch c.transport {
		case TransportSSE:
			c.endGracefully(h.sseShutdownFrame())
		case TransportWS:
			c.endGracefully(nil)
		default:
			c.mu.Lock()
			c.kickLocked()
			c.mu.Unlock()
		}
	}
	// Healthy clients take their hint within milliseconds (a WebSocket's
	// close handshake within closeWait); a client whose write is blocked
	// never will. What is left after shutdownGrace is closed.
	gctx, cancel := context.WithTimeout(ctx, shutdownGrace)
	defer cancel()
	for _, c := range all {
		select {
		case <-c.finished:
		case <-gctx.Done():
			c.finish(true)
		}
	}
}

// shutdownGrace bounds how long Shutdown waits for connections to take
// their shutdown hint before it closes them.
const shutdownGrace = 2 * time.Second

// Stats is a snapshot of a hub for the admin page.
type Stats struct {
	// Connections counts open connections by transport ("sse", "ws", "poll").
	Connections map[string]int `json:"connections"`
	// Subscriptions counts channel subscriptions (a WebSocket may hold several).
	Subscriptions int `json:"subscriptions"`
	// EventsPerSecond is the rate of events read from the log over the last minute.
	EventsPerSecond float64 `json:"eventsPerSecond"`
	// EventsTotal counts events read from the log since start.
	EventsTotal uint64 `json:"eventsTotal"`
	// Cursor is the id of the last event dispatched.
	Cursor int64 `json:"cursor,string"`
	// Listening reports whether the LISTEN connection is up.
	Listening bool `json:"listening"`
}

// Stats returns a snapshot of the hub.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	st := Stats{
		Connections: map[string]int{TransportSSE: h.conns[0], TransportWS: h.conns[1], TransportPoll: h.conns[2]},
		Cursor:      h.cursor,
		Listening:   h.listening.Load(),
		EventsTotal: h.total.Load(),
	}
	for _, m := range h.subs {
		st.Subscriptions += len(m)
	}
	h.mu.Unlock()
	now := time.Now().Unix()
	h.rateMu.Lock()
	var sum uint64
	for i := range h.rate {
		if now-h.rateSec[i] < 60 {
			sum += h.rate[i]
		}
	}
	h.rateMu.Unlock()
	st.EventsPerSecond = float64(sum) / 60
	return st
}

func (h *Hub) countRate(n int) {
	h.total.Add(uint64(n))
	now := time.Now().Unix()
	i := now % 60
	h.rateMu.Lock()
	if h.rateSec[i] != now {
		h.rateSec[i], h.rate[i] = now, 0
	}
	h.rate[i] += uint64(n)
	h.rateMu.Unlock()
}

// delivered records frames written to a client.
func (h *Hub) delivered(transport string, items []outItem) {
	n := 0
	now := time.Now()
	ti := transportIndex(transport)
	lat := h.m.latencyBy[ti]
	for _, it := range items {
		if it.ev != nil {
			n++
			if !it.replay {
				lat.Observe(now.Sub(it.ev.created).Seconds())
			}
		}
	}
	if n > 0 {
		h.m.deliveredBy[ti].Add(float64(n))
	}
}
