package notify

import (
	"context"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/r3labs/sse/v2"

	"github.com/birjob/birjob/internal/httpx"
)

// appendSSE encodes one r3labs/sse Event as an SSE frame. We use the
// library's Event type to describe frames but encode them ourselves, once
// per event for all connections (see the package documentation, "SSE and
// r3labs/sse"): ids are written verbatim, and a frame always carries a
// data line (or is a comment/retry-only block), so no event can end a
// stream.
func appendSSE(b []byte, ev *sse.Event) []byte {
	if len(ev.Retry) > 0 {
		b = append(b, "retry: "...)
		b = append(b, ev.Retry...)
		b = append(b, '\n')
	}
	if len(ev.ID) > 0 {
		b = append(b, "id: "...)
		b = append(b, ev.ID...)
		b = append(b, '\n')
	}
	if len(ev.Event) > 0 {
		b = append(b, "event: "...)
		b = append(b, ev.Event...)
		b = append(b, '\n')
	}
	if len(ev.Data) > 0 || len(ev.Event) > 0 || len(ev.ID) > 0 {
		data := ev.Data
		if len(data) == 0 {
			data = []byte("null")
		}
		// Data with newlines is split into several data lines, as the
		// format requires; compact JSON has none.
		start := 0
		for i := 0; i <= len(data); i++ {
			if i == len(data) || data[i] == '\n' {
				b = append(b, "data: "...)
				b = append(b, data[start:i]...)
				b = append(b, '\n')
				start = i + 1
			}
		}
	}
	if len(ev.Comment) > 0 {
		b = append(b, ": "...)
		b = append(b, ev.Comment...)
		b = append(b, '\n')
	}
	return append(b, '\n')
}

var sseKeepalive = appendSSE(nil, &sse.Event{Comment: []byte("keepalive")})

func (h *Hub) retryMs() []byte {
	return strconv.AppendInt(nil, h.cfg.RetryHint.Milliseconds(), 10)
}

func (h *Hub) sseShutdownFrame() []byte {
	return appendSSE(nil, &sse.Event{Retry: h.retryMs(), Comment: []byte("server shutting down; reconnect")})
}

// sseConnectedFrame is the stream's first frame: the retry hint and
// "connected" with the channels as the client named them ("channel" joins
// them with commas: "jobs,me").
func (h *Hub) sseConnectedFrame(names []string) []byte {
	data, _ := json.Marshal(map[string]any{"channel": strings.Join(names, ","), "channels": names, "timestamp": nowMs()})
	return appendSSE(nil, &sse.Event{Retry: h.retryMs(), Event: []byte("connected"), Data: data})
}

// resumePosition reads the id a client resumes from: the Last-Event-ID
// header (sent by EventSource on reconnect) or the lastEventId query
// parameter (sent by a page that remembers it). Ids are decimal int64.
func resumePosition(r *http.Request) (int64, bool, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("lastEventId")
	}
	if v == "" {
		return 0, false, nil
	}
	id, err := parseID(v)
	if err != nil {
		return 0, false, err
	}
	return id, true, nil
}

// writeChannelError answers a refused subscription.
func writeChannelError(w http.ResponseWriter, r *http.Request, err error) {
	var ce *channelError
	switch {
	case errors.As(err, &ce) && ce.status == http.StatusServiceUnavailable:
		httpx.ServiceUnavailable(w, ce.msg) // the session could not be checked: the database is away
	case errors.As(err, &ce):
		httpx.Error(w, ce.status, ce.msg)
	case errors.Is(err, errSessionEnded):
		writeSessionEnded(w)
	case errors.Is(err, errFull):
		w.Header().Set("Retry-After", strconv.Itoa(5+mrand.IntN(10))) // spread the retries
		httpx.Error(w, http.StatusServiceUnavailable, "this node holds as many live connections as it may (BIRJOB_MAX_STREAMS); retry in a few seconds, or on another node")
	case errors.Is(err, ErrShuttingDown):
		w.Header().Set("Retry-After", "1")
		httpx.Error(w, http.StatusServiceUnavailable, "this node is shutting down; reconnect")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		httpx.Error(w, http.StatusServiceUnavailable, "the event stream is not ready yet; retry")
	default:
		httpx.ServerError(w, r, err)
	}
}

// startSSE prepares a stream: it hijacks the connection on HTTP/1.x (else
// the stream goes through the ResponseWriter) and returns the response
// head and the connected frame, which the caller writes (writeBufsLocked)
// once the stream is counted and subscribed.
func (h *Hub) startSSE(w http.ResponseWriter, names []string) (*sseSink, []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	hd.Del("Content-Length")

	s := &sseSink{h: h}
	rc := http.NewResponseController(w)
	conn, brw, herr := rc.Hijack()
	head := h.sseConnectedFrame(names)
	if herr == nil {
		_ = brw // nothing follows a GET; its buffers are dropped with it
		_ = conn.SetDeadline(time.Time{})
		s.conn = conn
		hd.Set("Connection", "close")
		hd.Del("Transfer-Encoding")
		b := []byte("HTTP/1.1 200 OK\r\n")
		for k, vs := range hd {
			for _, v := range vs {
				b = append(b, k...)
				b = append(b, ": "...)
				b = append(b, v...)
				b = append(b, "\r\n"...)
			}
		}
		b = append(b, "\r\n"...)
		head = append(b, head...)
	} else {
		s.w, s.rc, s.done = w, rc, make(chan struct{})
		w.WriteHeader(http.StatusOK)
	}
	return s, head
}

// sseRefusalFrame ends a stream that could not be registered or
// subscribed: session-ended when its credential has ended, else the retry
// hint (the node is shutting down).
func (h *Hub) sseRefusalFrame(err error) []byte {
	if errors.Is(err, errSessionEnded) {
		return sseSessionEnded
	}
	return h.sseShutdownFrame()
}

// sseSink writes SSE frames to a hijacked connection (HTTP/1.x), or through
// the ResponseWriter when the connection cannot be hijacked (HTTP/2).
type sseSink struct {
	h    *Hub
	mu   sync.Mutex
	conn net.Conn // hijacked
	w    http.ResponseWriter
	rc   *http.ResponseController
	dead bool
	done chan struct{} // ResponseWriter mode: closed when the stream must end
}

var errDead = errors.New("notify: connection closed")

func (s *sseSink) writeBufs(bufs net.Buffers) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeBufsLocked(bufs)
}

// writeBufsLocked is writeBufs with s.mu held.
func (s *sseSink) writeBufsLocked(bufs net.Buffers) error {
	if s.dead {
		return errDead
	}
	if s.conn != nil {
		// No per-write deadline: at 10,000 connections a deadline per write
		// is 10,000 runtime timers set per event, and as many firing
		// WriteTimeout later, in the middle of a later event's fan-out. A
		// write stuck that long is found by the keepalive wheel instead
		// (client.keepalive), or by the queue overflowing.
		if len(bufs) == 1 {
			_, err := s.conn.Write(bufs[0])
			return err
		}
		_, err := bufs.WriteTo(s.conn)
		return err
	}
	_ = s.rc.SetWriteDeadline(s.h.clientDeadline())
	for _, b := range bufs {
		if _, err := s.w.Write(b); err != nil {
			return err
		}
	}
	return s.rc.Flush()
}

func (s *sseSink) write(items []outItem, ka bool) error {
	bufs := make(net.Buffers, 0, len(items)+1)
	for _, it := range items {
		if it.ev != nil {
			bufs = append(bufs, it.ev.sseBytes())
		} else {
			bufs = append(bufs, it.raw)
		}
	}
	if ka {
		bufs = append(bufs, sseKeepalive)
	}
	return s.writeBufs(bufs)
}

func (s *sseSink) writeEvts(evs []*evt) error {
	bufs := make(net.Buffers, 0, len(evs))
	for _, e := range evs {
		bufs = append(bufs, e.sseBytes())
	}
	return s.writeBufs(bufs)
}

func (s *sseSink) close() {
	if s.conn != nil {
		s.conn.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dead {
		s.dead = true
		if s.done != nil {
			close(s.done)
		}
	}
}

// peerGone reports that the peer of a hijacked connection has closed it
// (see peerClosed). In ResponseWriter mode net/http notices that itself
// and ends the request's context.
func (s *sseSink) peerGone() bool { return s.conn != nil && peerClosed(s.conn) }

func (s *sseSink) abort() { s.close() }
func (s *sseSink) end()   { s.close() }

// handleSSE serves GET /api/events/{channel} and GET
// /api/events?channels=jobs,me (several channels on one stream, merged in
// id order, resumed from one Last-Event-ID).
//
// On HTTP/1.x the connection is hijacked once the response head is
// written: net/http's per-connection goroutines and buffers are released,
// and an idle stream costs only its socket and a small struct (frames are
// written by a short-lived goroutine when there is something to write).
// A peer that went away is noticed at the next write (keepalive at the
// latest).
func (h *Hub) handleSSE(w http.ResponseWriter, r *http.Request) {
	from, hasFrom, err := resumePosition(r)
	if err != nil {
		httpx.Error(w, http.StatusBadRequest, "Last-Event-ID / lastEventId: "+err.Error())
		return
	}
	names, channels, err := h.streamChannels(r)
	if err == nil {
		err = h.waitReady(r.Context())
	}
	if err == nil {
		err = h.admit()
	}
	if err != nil {
		writeChannelError(w, r, err)
		return
	}
	room := strings.Join(names, ",")

	// The head and the connected frame go out once the stream is counted
	// and subscribed, under s.mu: a client that has read "connected" gets
	// every event committed after it, and counts against MaxStreams. What
	// is queued meanwhile (a replay from the ring, a keepalive) is written
	// after them: its flush waits for s.mu.
	s, head := h.startSSE(w, names)
	c := h.newClient(TransportSSE, s)
	s.mu.Lock()
	err = h.addClient(c, sessionOf(r.Context()))
	var (
		sb   *sub
		plan replayPlan
	)
	if err == nil {
		sb, plan, err = h.subscribe(c, channels, room, from, hasFrom)
	}
	bufs := net.Buffers{head}
	if err != nil {
		bufs = append(bufs, h.sseRefusalFrame(err))
	}
	werr := s.writeBufsLocked(bufs)
	s.mu.Unlock()
	if err != nil || werr != nil {
		c.finish(true)
		return
	}
	if plan.fromDB {
		// The request's context ends when this handler returns (hijacked
		// mode), so the replay has its own bound.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := h.replayDB(ctx, sb, plan, s.writeEvts)
		cancel()
		if err != nil {
			h.log.Warn("notify: sse replay failed", "channel", room, "err", err)
			c.finish(true)
			return
		}
	}
	if s.conn != nil {
		return // the connection lives on without this goroutine
	}
	select {
	case <-s.done:
	case <-r.Context().Done():
	}
	c.finish(true)
}
