package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
)

// wsReadLimit bounds one client message; commands are tiny.
const wsReadLimit = 16 << 10

// newWSUpgrader makes the hub's one WebSocket upgrader, with small buffers: events sent to several
// connections are written as prepared frames, shared by every connection
// and written with one system call each; an event for one connection (a
// personal channel) and the control answers go through a write buffer
// borrowed from the hub's pool for the one write, so no write buffer stays
// with a connection, and client commands are tiny.
func (h *Hub) newWSUpgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		ReadBufferSize:  512,
		WriteBufferSize: 4096,
		WriteBufferPool: newBufferPool(64),
		CheckOrigin:     func(r *http.Request) bool { return originAllowed(r, h.cfg.AllowedOrigins) },
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			httpx.Error(w, status, reason.Error())
		},
	}
}

// bufferPool is a bounded free list of WebSocket write buffers shared by
// all connections. Unlike a sync.Pool it is not emptied by every garbage
// collection, so a steady stream of writes allocates no buffers: with a
// sync.Pool these were 80 % of the bytes a node allocated in the
// personal-channel load run, and the collections they caused scanned
// every connection's reader stack.
type bufferPool struct{ free chan any }

func newBufferPool(n int) *bufferPool { return &bufferPool{free: make(chan any, n)} }

func (p *bufferPool) Get() any {
	select {
	case b := <-p.free:
		return b
	default:
		return nil
	}
}

func (p *bufferPool) Put(b any) {
	select {
	case p.free <- b:
	default:
	}
}

// originAllowed: a request without Origin (not a browser) or from the
// request's own host is allowed; otherwise the Origin's host (or, for a
// pattern with "://", its scheme and host) must match one of patterns
// (path.Match syntax, case-insensitive).
func originAllowed(r *http.Request, patterns []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}

// wsSink writes to one WebSocket. gorilla/websocket allows one writer at a
// time (control frames aside): mu serialises the flush loop with the
// reader's answers.
type wsSink struct {
	h    *Hub
	conn *websocket.Conn
	mu   sync.Mutex
	// pingAt is when the unanswered ping was sent (unix ns), 0 when none.
	pingAt atomic.Int64
	closed atomic.Bool // closed by us: a late ping check counts nothing
}

// writeMsg writes one message of its own. It sets no per-message deadline
// (a timer per message and connection is measurable at 10,000 clients): a
// stuck write is ended by abort when the client's queue overflows, or when
// a keepalive ping gets no pong within WriteTimeout.
func (s *wsSink) writeMsg(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn.WriteMessage(websocket.TextMessage, b)
}

func (s *wsSink) write(items []outItem, ka bool) error {
	s.mu.Lock()
	for _, it := range items {
		var err error
		if it.ev != nil {
			err = s.writeEvt(it.ev)
		} else {
			err = s.conn.WriteMessage(websocket.TextMessage, it.raw)
		}
		if err != nil {
			s.mu.Unlock()
			return err
		}
	}
	s.mu.Unlock()
	if ka {
		s.ping()
	}
	return nil
}

// ping sends a protocol ping, unless one is unanswered; a peer that does
// not answer within the write timeout is closed. The pong is read by the
// connection's reader (pong).
func (s *wsSink) ping() {
	now := time.Now()
	if !s.pingAt.CompareAndSwap(0, now.UnixNano()) {
		return
	}
	timeout := s.h.cfg.WriteTimeout
	if err := s.conn.WriteControl(websocket.PingMessage, nil, now.Add(timeout)); err != nil {
		s.h.log.Debug("notify: websocket ping failed", "err", err)
		s.conn.Close()
		return
	}
	sent := now.UnixNano()
	time.AfterFunc(timeout, func() {
		if s.pingAt.Load() == sent && !s.closed.Load() {
			s.h.m.slow.WithLabelValues(TransportWS).Inc()
			s.h.log.Info("notify: websocket peer did not answer a ping in time; closed")
			s.abort()
		}
	})
}

func (s *wsSink) pong(string) error {
	s.pingAt.Store(0)
	return nil
}

func (s *wsSink) writeEvts(evs []*evt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range evs {
		if err := s.writeEvt(e); err != nil {
			return err
		}
	}
	return nil
}

// writeEvt writes an event: framed once for all connections when it went
// to several (a PreparedMessage costs a few KB to make), else directly.
func (s *wsSink) writeEvt(e *evt) error {
	if e.fanout > 1 {
		return s.conn.WritePreparedMessage(e.wsFrame())
	}
	return s.conn.WriteMessage(websocket.TextMessage, e.wsBytes())
}

func (s *wsSink) abort() {
	s.closed.Store(true)
	s.conn.Close()
}

// end sends the close frame with status 1012 (service restart); the reader
// then waits a moment for the client's answer before the handler closes
// the connection.
func (s *wsSink) end() {
	s.closed.Store(true)
	deadline := time.Now().Add(s.h.cfg.WriteTimeout)
	msg := websocket.FormatCloseMessage(websocket.CloseServiceRestart, "server shutting down; reconnect")
	if err := s.conn.WriteControl(websocket.CloseMessage, msg, deadline); err != nil {
		s.conn.Close()
		return
	}
	s.conn.SetReadDeadline(time.Now().Add(closeWait))
}

// closeWait is how long a closing server waits for the client's close.
const closeWait = 2 * time.Second

// wsIn is a client message. The fields may also come inside "data".
type wsIn struct {
	Type        string          `json:"type"`
	Room        string          `json:"room"`
	LastEventID json.RawMessage `json:"lastEventId"`
	Data        *struct {
		Room        string          `json:"room"`
		LastEventID json.RawMessage `json:"lastEventId"`
	} `json:"data"`
}

func marshalMsg(v map[string]any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func wsError(msg string) []byte {
	return marshalMsg(map[string]any{"type": "error", "message": msg})
}

// rawID reads an id sent as a JSON string or number; empty or null is none.
func rawID(raw json.RawMessage) (int64, bool, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" || s == `""` {
		return 0, false, nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false, errors.New("lastEventId must be a decimal string")
		}
	}
	id, err := parseID(s)
	return id, err == nil, err
}

// handleWS serves GET /api/ws: JSON text messages, see the package
// documentation ("WebSocket").
func (h *Hub) handleWS(w http.ResponseWriter, r *http.Request) {
	err := h.waitReady(r.Context())
	if err == nil {
		err = h.admit()
	}
	if err != nil {
		writeChannelError(w, r, err)
		return
	}
	// Only the principal is kept from the request: the handler returns
	// once the connection is upgraded, and the request's context ends then.
	authCtx := context.Background()
	if p, ok := auth.PrincipalFrom(r.Context()); ok {
		authCtx = auth.WithPrincipal(authCtx, p)
	}
	conn, err := h.wsUp.Upgrade(w, r, nil)
	if err != nil {
		h.log.Debug("notify: websocket upgrade refused", "err", err)
		return // Upgrade has answered (403 for a foreign Origin)
	}
	conn.SetReadLimit(wsReadLimit)
	s := &wsSink{h: h, conn: conn}
	conn.SetPongHandler(s.pong)
	c := h.newClient(TransportWS, s)
	if err := h.addClient(c, sessionOf(authCtx)); err != nil {
		if errors.Is(err, errSessionEnded) {
			s.endSession()
		} else {
			s.end()
		}
		conn.Close()
		return
	}
	var idb [8]byte
	_, _ = rand.Read(idb[:])
	clientID := hex.EncodeToString(idb[:])
	if err := s.writeMsg(marshalMsg(map[string]any{"type": "welcome", "clientId": clientID, "timestamp": nowMs()})); err != nil {
		c.finish(true)
		conn.Close()
		return
	}
	// The reader gets a goroutine of its own and this handler returns, so
	// that net/http lets go of the connection's request, response and their
	// buffers (about 10 KB that would otherwise stay for the connection's
	// whole life, measured with cmd/birjob-load).
	go h.wsRead(authCtx, c, s)
}

// wsRead is a WebSocket's reader: it answers commands and, through
// gorilla/websocket's handlers, protocol pings, pongs and the close
// handshake, until the connection ends.
func (h *Hub) wsRead(authCtx context.Context, c *client, s *wsSink) {
	defer s.conn.Close()
	defer c.finish(true)
	cmd := make(chan bool)
	for {
		typ, data, err := s.conn.ReadMessage()
		if err != nil {
			return
		}
		if typ != websocket.TextMessage {
			c.enqueue(wsError("send JSON text messages"))
			continue
		}
		if !utf8.Valid(data) {
			// RFC 6455 §8.1: a text message that is not UTF-8 fails the
			// connection with 1007 (invalid frame payload data).
			s.closed.Store(true)
			msg := websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, "text message is not valid UTF-8")
			_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(h.cfg.WriteTimeout))
			return
		}
		// A command (a join may replay from the database) runs on a
		// goroutine of its own, so that the reader's stack, which stays
		// with every idle connection, never grows past what reading needs.
		go func() { cmd <- h.wsCommand(authCtx, c, s, data) }()
		if !<-cmd {
			return
		}
	}
}

// wsCommand handles one client message; false ends the connection.
func (h *Hub) wsCommand(ctx context.Context, c *client, s *wsSink, data []byte) bool {
	var in wsIn
	if err := json.Unmarshal(data, &in); err != nil {
		return s.writeMsg(wsError("message is not valid JSON: "+err.Error())) == nil
	}
	room, lastRaw := in.Room, in.LastEventID
	if in.Data != nil {
		if room == "" {
			room = in.Data.Room
		}
		if len(lastRaw) == 0 {
			lastRaw = in.Data.LastEventID
		}
	}
	switch in.Type {
	case "ping":
		return s.writeMsg(marshalMsg(map[string]any{"type": "pong", "timestamp": nowMs()})) == nil
	case "join", "subscribe":
		if room == "" {
			return s.writeMsg(wsError(`join needs a "room"`)) == nil
		}
		from, hasFrom, err := rawID(lastRaw)
		if err != nil {
			return s.writeMsg(wsError(err.Error())) == nil
		}
		if hash := sessionOf(ctx); hash != "" {
			// The session may have ended since the socket opened (its
			// notification may be late): look, once per join.
			live, err := h.sessionLive(ctx, hash)
			if err != nil {
				h.log.Warn("notify: websocket join: session check failed", "err", err)
				return s.writeMsg(wsError("could not join; try again")) == nil
			}
			if !live {
				h.endSession(hash) // closes this socket with session-ended
				return true
			}
		}
		channel, err := h.resolve(ctx, room)
		if err != nil {
			var ce *channelError
			if errors.As(err, &ce) {
				return s.writeMsg(wsError(ce.msg)) == nil
			}
			h.log.Warn("notify: websocket join failed", "room", room, "err", err)
			return s.writeMsg(wsError("could not join; try again")) == nil
		}
		// joined goes out once the room is subscribed (a client that has
		// read it gets every event committed after it) and before any event
		// of the room: it is written under s.mu, which the flush of what
		// subscribe queues (a replay from the ring) waits for.
		h.unsubscribe(c, room)
		s.mu.Lock()
		sb, plan, err := h.subscribe(c, []string{channel}, room, from, hasFrom)
		if err == nil {
			joined := marshalMsg(map[string]any{"type": "joined", "room": room, "memberCount": h.MemberCount(channel)})
			err = s.conn.WriteMessage(websocket.TextMessage, joined)
		}
		s.mu.Unlock()
		if err != nil {
			return false
		}
		if plan.fromDB {
			rctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := h.replayDB(rctx, sb, plan, s.writeEvts)
			cancel()
			if err != nil {
				h.log.Warn("notify: websocket replay failed", "room", room, "err", err)
				return false
			}
		}
		return true
	case "leave", "unsubscribe":
		if room == "" {
			return s.writeMsg(wsError(`leave needs a "room"`)) == nil
		}
		h.unsubscribe(c, room)
		return s.writeMsg(marshalMsg(map[string]any{"type": "left", "room": room})) == nil
	case "":
		return s.writeMsg(wsError(`message needs a "type": join, leave or ping`)) == nil
	default:
		return s.writeMsg(wsError("unknown message type "+strings.ToValidUTF8(in.Type, "?")+": use join, leave or ping")) == nil
	}
}
