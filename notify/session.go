package notify

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/websocket"
	"github.com/r3labs/sse/v2"

	"github.com/birjob/birjob/auth"
	"github.com/birjob/birjob/internal/httpx"
	"github.com/birjob/birjob/storage"
)

// SessionsChannel is the PostgreSQL LISTEN channel on which the end of a
// credential (the deletion of its auth_tokens row: logout, revocation,
// account deletion, expiry purge) is announced, with the hex of its hash
// as payload (migration 007).
const SessionsChannel = "birjob_sessions"

// CloseSessionEnded is the WebSocket close status sent when the session
// the socket was opened with ends.
const CloseSessionEnded = 4401

// sessionEndedMsg is what every transport tells a client whose session
// ended.
const sessionEndedMsg = "your session ended; sign in again"

// endedTTL is how long an ended credential is remembered, so that a
// connection whose request was signed in with it just before it ended is
// refused when it registers, after the notification.
const endedTTL = time.Minute

// errSessionEnded refuses a connection opened with an ended credential.
var errSessionEnded = errors.New("notify: " + sessionEndedMsg)

var (
	sseSessionEnded = appendSSE(nil, &sse.Event{Event: []byte("session-ended"),
		Data: marshalMsg(map[string]any{"reason": sessionEndedMsg})})
	wsSessionEnded = marshalMsg(map[string]any{"type": "session-ended", "reason": sessionEndedMsg})
)

// sessions tracks, under the hub's lock, the connections opened with a
// credential, so that its end closes them. Connections opened without one
// cost nothing here.
type sessions struct {
	byHash map[string][]*client
	of     map[*client]string
	ended  map[string]time.Time // recently ended credentials
	pruned time.Time
}

// sessionOf returns the credential ctx is signed in with ("" for none).
func sessionOf(ctx context.Context) string {
	p, _ := auth.PrincipalFrom(ctx)
	return p.TokenHash
}

// trackLocked registers c as opened with credential hash; it reports false
// when that credential has ended already.
func (s *sessions) trackLocked(c *client, hash string) bool {
	if hash == "" {
		return true
	}
	if _, ok := s.ended[hash]; ok {
		return false
	}
	if s.byHash == nil {
		s.byHash = make(map[string][]*client)
		s.of = make(map[*client]string)
	}
	s.byHash[hash] = append(s.byHash[hash], c)
	s.of[c] = hash
	return true
}

// untrackLocked forgets c.
func (s *sessions) untrackLocked(c *client) {
	hash, ok := s.of[c]
	if !ok {
		return
	}
	delete(s.of, c)
	cs := s.byHash[hash]
	if i := slices.Index(cs, c); i >= 0 {
		cs[i] = cs[len(cs)-1]
		cs[len(cs)-1] = nil
		cs = cs[:len(cs)-1]
	}
	if len(cs) == 0 {
		delete(s.byHash, hash)
	} else {
		s.byHash[hash] = cs
	}
}

// endLocked records that credential hash ended and returns the connections
// opened with it, which it forgets.
func (s *sessions) endLocked(hash string, now time.Time) []*client {
	if s.ended == nil {
		s.ended = make(map[string]time.Time)
	}
	if now.Sub(s.pruned) > endedTTL/2 {
		for k, t := range s.ended {
			if now.Sub(t) > endedTTL {
				delete(s.ended, k)
			}
		}
		s.pruned = now
	}
	s.ended[hash] = now
	cs := s.byHash[hash]
	delete(s.byHash, hash)
	for _, c := range cs {
		delete(s.of, c)
	}
	return cs
}

// endSession closes every connection of this node opened with credential
// hash, each with its transport's signal (see the package documentation,
// "Sessions"). It never blocks on a connection.
func (h *Hub) endSession(hash string) {
	h.mu.Lock()
	cs := h.sess.endLocked(hash, time.Now())
	h.mu.Unlock()
	if len(cs) > 0 {
		h.log.Info("notify: session ended; closing its streams", "streams", len(cs))
	}
	for _, c := range cs {
		go c.endSession()
	}
}

// recheckSessions ends the tracked credentials that no longer exist: run
// after (re)LISTENing, it catches the ends announced while the listener
// was down. One query for all of them.
func (h *Hub) recheckSessions(ctx context.Context, store *storage.Store) error {
	h.mu.Lock()
	held := make([][]byte, 0, len(h.sess.byHash))
	for hash := range h.sess.byHash {
		if b, err := hex.DecodeString(hash); err == nil {
			held = append(held, b)
		}
	}
	h.mu.Unlock()
	if len(held) == 0 {
		return nil
	}
	live, err := store.LiveTokens(ctx, held)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	for _, b := range held {
		if !slices.ContainsFunc(live, func(l []byte) bool { return string(l) == string(b) }) {
			h.endSession(hex.EncodeToString(b))
		}
	}
	return nil
}

// sessionLive reports whether credential hash still exists (one indexed
// lookup): a WebSocket asks on every join, so that a socket opened before
// a logout cannot join afterwards, even if the notification is late.
func (h *Hub) sessionLive(ctx context.Context, hash string) (bool, error) {
	b, err := hex.DecodeString(hash)
	if err != nil {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	live, err := h.store.LiveTokens(ctx, [][]byte{b})
	if err != nil {
		return false, fmt.Errorf("notify: %w", err)
	}
	return len(live) > 0, nil
}

// endSession closes c because its credential ended: nothing more is
// queued or written for it but the transport's signal. A waiting long poll
// is woken and answers 401.
func (c *client) endSession() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed, c.ended, c.out = true, true, nil
	if c.wake != nil {
		c.kickLocked()
	}
	c.mu.Unlock()
	switch s := c.sink.(type) {
	case *sseSink:
		if s.conn != nil {
			// Bounds this write, and one stuck in progress (the keepalive
			// wheel no longer looks at a closed client).
			_ = s.conn.SetWriteDeadline(time.Now().Add(c.hub.cfg.WriteTimeout))
		}
		_ = s.writeBufs(net.Buffers{sseSessionEnded})
		c.finish(true)
	case *wsSink:
		s.endSession()
		c.finish(false) // the reader closes the socket after the close handshake
	}
}

// sessionEnded reports whether c was closed because its credential ended.
func (c *client) sessionEnded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// endSession sends session-ended and the close frame with status
// CloseSessionEnded; the reader then waits a moment for the client's
// answer.
func (s *wsSink) endSession() {
	s.closed.Store(true)
	deadline := time.Now().Add(s.h.cfg.WriteTimeout)
	// On the socket first: it also ends a write stuck in progress.
	_ = s.conn.NetConn().SetWriteDeadline(deadline)
	s.mu.Lock()
	_ = s.conn.SetWriteDeadline(deadline)
	err := s.conn.WriteMessage(websocket.TextMessage, wsSessionEnded)
	s.mu.Unlock()
	if err == nil {
		err = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(CloseSessionEnded, sessionEndedMsg), deadline)
	}
	if err != nil {
		s.conn.Close()
		return
	}
	_ = s.conn.SetReadDeadline(time.Now().Add(closeWait))
}

// writeSessionEnded answers a long poll whose session ended.
func writeSessionEnded(w http.ResponseWriter) {
	httpx.WriteJSON(w, http.StatusUnauthorized, map[string]any{"error": sessionEndedMsg, "sessionEnded": true})
}
