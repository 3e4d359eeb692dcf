package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// wsReadLimit bounds one client message; commands are tiny.
const wsReadLimit = 16 << 10

// wsSink writes to one WebSocket. coder/websocket serialises concurrent
// writers itself.
type wsSink struct {
	h       *Hub
	conn    *websocket.Conn
	pingMu  sync.Mutex
	pinging bool
}

// writeMsg writes one message. It sets no per-message deadline (a timer
// per message and connection is measurable at 10,000 clients): a stuck
// write is ended by CloseNow when the client's queue overflows, or when the
// next keepalive ping gets no pong within WriteTimeout.
func (s *wsSink) writeMsg(b []byte) error {
	return s.conn.Write(context.Background(), websocket.MessageText, b)
}

func (s *wsSink) write(items []outItem, ka bool) error {
	for _, it := range items {
		b := it.raw
		if it.ev != nil {
			b = it.ev.ws
		}
		if err := s.writeMsg(b); err != nil {
			return err
		}
	}
	if ka {
		s.ping()
	}
	return nil
}

// ping sends a protocol ping; a peer that does not answer within the write
// timeout is closed. The pong is read by the connection's reader.
func (s *wsSink) ping() {
	s.pingMu.Lock()
	if s.pinging {
		s.pingMu.Unlock()
		return
	}
	s.pinging = true
	s.pingMu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.h.cfg.WriteTimeout)
		err := s.conn.Ping(ctx)
		cancel()
		s.pingMu.Lock()
		s.pinging = false
		s.pingMu.Unlock()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				s.h.m.slow.WithLabelValues(TransportWS).Inc()
				s.h.log.Info("notify: websocket peer did not answer a ping in time; closed", "err", err)
			}
			s.conn.CloseNow()
		}
	}()
}

func (s *wsSink) writeEvts(evs []*evt) error {
	for _, e := range evs {
		if err := s.writeMsg(e.ws); err != nil {
			return err
		}
	}
	return nil
}

func (s *wsSink) abort() { s.conn.CloseNow() }

func (s *wsSink) end() {
	go s.conn.Close(websocket.StatusServiceRestart, "server shutting down; reconnect")
}

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
	if err := h.waitReady(r.Context()); err != nil {
		writeChannelError(w, r, err)
		return
	}
	// The principal is read before the upgrade: the request's context is
	// not to be used once the connection is hijacked.
	authCtx := r.Context()
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.cfg.AllowedOrigins})
	if err != nil {
		h.log.Debug("notify: websocket accept refused", "err", err)
		return // Accept has answered (403 for a foreign Origin)
	}
	conn.SetReadLimit(wsReadLimit)
	s := &wsSink{h: h, conn: conn}
	c := h.newClient(TransportWS, s)
	if err := h.addClient(c); err != nil {
		conn.Close(websocket.StatusServiceRestart, "server shutting down; reconnect")
		return
	}
	defer c.finish(true)

	var idb [8]byte
	_, _ = rand.Read(idb[:])
	clientID := hex.EncodeToString(idb[:])
	if err := s.writeMsg(marshalMsg(map[string]any{"type": "welcome", "clientId": clientID, "timestamp": nowMs()})); err != nil {
		return
	}
	for {
		typ, data, err := conn.Read(context.Background())
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			c.enqueue(wsError("send JSON text messages"))
			continue
		}
		if !h.wsCommand(authCtx, c, s, data) {
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
		channel, err := h.resolve(ctx, room)
		if err != nil {
			var ce *channelError
			if errors.As(err, &ce) {
				return s.writeMsg(wsError(ce.msg)) == nil
			}
			h.log.Warn("notify: websocket join failed", "room", room, "err", err)
			return s.writeMsg(wsError("could not join; try again")) == nil
		}
		// joined goes out before any event of the room: the room has no
		// subscription yet, so nothing else for it is queued.
		h.unsubscribe(c, room)
		n := h.memberCount(channel) + 1
		if err := s.writeMsg(marshalMsg(map[string]any{"type": "joined", "room": room, "memberCount": n})); err != nil {
			return false
		}
		sb, plan, err := h.subscribe(c, channel, room, from, hasFrom)
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
